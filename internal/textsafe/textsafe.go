// Package textsafe makes text from hosts and agents safe for a terminal
// or a file: push, inventory, network and package output all pass through
// it, so a device name cannot move the cursor, recolour or reorder what
// the admin reads.
package textsafe

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sanitize makes text from a host safe for a terminal or a file: escape
// sequences (CSI, OSC, and the rest) are dropped whole, and so are C0
// controls but tab and newline, DEL, C1 controls and the bidirectional
// overrides that reorder what a reader sees. Invalid UTF-8 becomes U+FFFD.
func Sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case r == '\r':
			// A lone CR rewrites the line on a terminal: keep it only in CRLF.
			if i+1 < len(s) && s[i+1] == '\n' {
				b.WriteByte('\r')
			}
		case r < 0x20 || r == 0x7f || unsafeRune(r):
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[': // CSI: parameters, then one final byte 0x40-0x7e
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return len(s)
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: to BEL or ST
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	return 2
}

// Writer sanitizes everything written through it (text and CSV output).
// Whatever way the writes are split, no control byte gets through: an
// escape sequence cut in two loses its ESC, a C1 control cut in two is
// invalid UTF-8 on each side.
func Writer(w io.Writer) io.Writer { return &writer{w} }

type writer struct{ w io.Writer }

func (s *writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, Sanitize(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// JSONWriter passes JSON through, writing the C1 controls and the
// bidirectional overrides that encoding/json leaves raw as \uXXXX
// escapes: the data stays exact, and a terminal sees no control.
func JSONWriter(w io.Writer) io.Writer { return &jsonWriter{w} }

type jsonWriter struct{ w io.Writer }

func (j *jsonWriter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if unsafeRune(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.Write(p[i : i+n])
		}
		i += n
	}
	if _, err := j.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// unsafeRune: the C1 controls and the bidirectional marks and overrides.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || r == 0x061c || r == 0x200e || r == 0x200f ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
