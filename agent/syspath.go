package agent

import "strings"

// pathWith returns the ;-separated PATH value with dir added at its end,
// and whether it changed: a dir already there (compared as Windows does:
// case and a trailing backslash aside) is not added twice.
func pathWith(path, dir string) (string, bool) {
	for _, e := range strings.Split(path, ";") {
		if samePathEntry(e, dir) {
			return path, false
		}
	}
	if path == "" || strings.HasSuffix(path, ";") {
		return path + dir, true
	}
	return path + ";" + dir, true
}

// pathWithout returns PATH with every entry naming dir removed, and
// whether it changed.
func pathWithout(path, dir string) (string, bool) {
	var keep []string
	changed := false
	for _, e := range strings.Split(path, ";") {
		if samePathEntry(e, dir) {
			changed = true
			continue
		}
		keep = append(keep, e)
	}
	return strings.Join(keep, ";"), changed
}

func samePathEntry(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimRight(strings.TrimSpace(s), `\/`)) }
	return norm(a) != "" && norm(a) == norm(b)
}
