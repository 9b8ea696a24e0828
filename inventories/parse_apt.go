package inventories

import "strings"

// AptSource is one suite and component an apt source offers binary
// packages from.
type AptSource struct {
	URI, Suite, Component string
}

// ParseAptList reads a one-line-style apt sources file (sources.list,
// sources.list.d/*.list): "deb [options] URI suite [component...]". Only
// "deb" lines count (not deb-src); a flat repository ("suite/" and no
// component) gives one entry with an empty component.
func ParseAptList(text string) []AptSource {
	var out []AptSource
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") { // [arch=amd64 signed-by=...]
			for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
				f = f[1:]
			}
			if len(f) > 0 {
				f = f[1:]
			}
		}
		if len(f) < 2 {
			continue
		}
		out = append(out, expandSource(f[0], []string{f[1]}, f[2:])...)
	}
	return out
}

// ParseDeb822Sources reads a deb822-style apt sources file
// (sources.list.d/*.sources): stanzas of Types, URIs, Suites, Components,
// separated by blank lines; "Enabled: no" turns a stanza off.
func ParseDeb822Sources(text string) []AptSource {
	var out []AptSource
	stanza := map[string]string{}
	flush := func() {
		if strings.EqualFold(stanza["enabled"], "no") || !hasField(stanza["types"], "deb") {
			stanza = map[string]string{}
			return
		}
		for _, uri := range strings.Fields(stanza["uris"]) {
			out = append(out, expandSource(uri, strings.Fields(stanza["suites"]), strings.Fields(stanza["components"]))...)
		}
		stanza = map[string]string{}
	}
	last := ""
	for _, line := range strings.Split(text+"\n", "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
			last = ""
		case line[0] == '#':
		case line[0] == ' ' || line[0] == '\t': // continuation
			if last != "" {
				stanza[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			stanza[last] = strings.TrimSpace(v)
		}
	}
	return out
}

func hasField(list, want string) bool {
	for _, f := range strings.Fields(list) {
		if f == want {
			return true
		}
	}
	return false
}

func expandSource(uri string, suites, comps []string) []AptSource {
	var out []AptSource
	for _, s := range suites {
		if len(comps) == 0 {
			out = append(out, AptSource{URI: uri, Suite: s})
			continue
		}
		for _, c := range comps {
			out = append(out, AptSource{URI: uri, Suite: s, Component: c})
		}
	}
	return out
}
