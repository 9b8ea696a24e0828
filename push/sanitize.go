package push

import (
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
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		case r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
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
