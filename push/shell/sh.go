package shell

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Sh builds POSIX sh commands (Linux and macOS over SSH, or a POSIX host
// behind WinRM).
type Sh struct{}

// Name is "sh".
func (Sh) Name() string { return "sh" }

// Join joins with a slash.
func (Sh) Join(dir, name string) string { return strings.TrimRight(dir, "/") + "/" + name }

// Upload decodes base64 from stdin into a .part file, checks the size and
// renames it.
func (Sh) Upload(p string, size int64) string {
	q, part := ShQuote(p), ShQuote(p+".part")
	return fmt.Sprintf(`mkdir -p %s && base64 -d > %s && [ "$(wc -c < %s)" -eq %d ] && mv -f %s %s || { rm -f %s; echo "upload %s: size differs from %d" >&2; exit 1; }`,
		ShQuote(dirOf(p)), part, part, size, part, q, part, strings.ReplaceAll(p, "'", ""), size)
}

// Hash prints "sha256 <hex>".
func (Sh) Hash(p string) string {
	return `printf 'sha256 %s\n' "$(sha256sum ` + ShQuote(p) + ` | cut -d' ' -f1)"`
}

// Pull downloads with curl (or wget) to a .part file, checks the digest
// and moves it into place.
func (Sh) Pull(url, p, sha string) string {
	part := ShQuote(p + ".part")
	return fmt.Sprintf(`mkdir -p %s && { curl -fsSL -o %s %s || wget -q -O %s %s; } && got=$(sha256sum %s | cut -d' ' -f1) && `+
		`if [ "$got" = %s ]; then mv -f %s %s && echo "sha256 $got"; else rm -f %s; echo "download: SHA-256 $got, want %s: not kept" >&2; exit 1; fi`,
		ShQuote(dirOf(p)), part, ShQuote(url), part, ShQuote(url), part, ShQuote(strings.ToLower(sha)), part, ShQuote(p), part, sha)
}

// Install runs the installer once: the marker first, the exit code into it
// after; an existing marker prints "marker …" and exits MarkerExit. The
// installer's output lands in MARKER.out and MARKER.err, sent afterwards.
func (Sh) Install(in Install) string {
	m := ShQuote(in.Marker)
	var env []string
	keys := make([]string, 0, len(in.Env))
	for k := range in.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+ShQuote(in.Env[k]))
	}
	run := "sh " + ShQuote(in.File)
	if in.Args != "" {
		run += " " + in.Args
	}
	if in.Command != "" {
		run = "{ " + in.Command + "; }"
	}
	if len(env) > 0 {
		run = strings.Join(env, " ") + " " + run
	}
	if in.AsSystem {
		run = "sudo -n " + run
	}
	// The installer writes to files beside the marker, not to the session,
	// and the script ignores SIGHUP and SIGPIPE: a connection that drops
	// mid-install (the pusher killed, say) neither kills the installer nor
	// its exit code, which a later attempt reads from the marker. The
	// output is sent once the installer is done, and stays on the host.
	out, errs := ShQuote(in.Marker+".out"), ShQuote(in.Marker+".err")
	return fmt.Sprintf(`if [ -e %s ]; then echo "marker $(cat %s)"; exit %d; fi; trap '' HUP PIPE; echo "started $(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ)" > %s || exit 1; %s > %s 2> %s; rc=$?; echo "done $rc" > %s; cat %s; cat %s >&2; exit $rc`,
		m, m, MarkerExit, m, run, out, errs, m, out, errs)
}

// State prints the marker, if there is one.
func (Sh) State(marker string) string {
	m := ShQuote(marker)
	return fmt.Sprintf(`if [ -e %s ]; then echo "marker $(cat %s)"; fi; true`, m, m)
}

// Cleanup removes the installer and a stray .part.
func (Sh) Cleanup(p string) string { return "rm -f " + ShQuote(p) + " " + ShQuote(p+".part") }

// ShQuote is a single-quoted sh word.
func ShQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func dirOf(p string) string {
	d := path.Dir(p)
	if d == "" {
		return "."
	}
	return d
}
