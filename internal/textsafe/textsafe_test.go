package textsafe

import "testing"

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text\n\tok", "plain text\n\tok"},
		{"red \x1b[31mALERT\x1b[0m", "red ALERT"},
		{"title \x1b]0;pwned\x07done", "title done"},
		{"link \x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\", "link x"},
		{"bell\x07 nul\x00 del\x7f", "bell nul del"},
		{"c1 \u0085\u009b[2J here", "c1 [2J here"},
		{"bidi \u202euser\u202c \u2066x\u2069", "bidi user x"},
		{"cr\roverwrite crlf\r\n", "croverwrite crlf\r\n"},
		{"bad \xff utf8", "bad \ufffd utf8"},
		{"\x1b", ""},
	} {
		if got := Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add("a\x1b[1mb\x1b]0;t\x07\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		for _, r := range out {
			if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) {
				t.Fatalf("%q left %U in %q", s, r, out)
			}
		}
		if Sanitize(out) != out {
			t.Fatalf("not idempotent on %q", s)
		}
	})
}
