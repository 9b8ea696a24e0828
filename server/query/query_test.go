package query

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestVersionKeyOrders(t *testing.T) {
	for _, c := range [][2]string{
		{"9.1", "10.0"}, {"23", "23.01"}, {"23.01", "24.0"}, {"1.2a", "1.2b"}, {"2:1.0", "2:1.1"},
		{"115.4.0esr", "115.10.0esr"}, {"0.9", "1"}, {"1.0.0", "1.0.1"}, {"", "0.1"},
	} {
		if a, b := VersionKey(c[0]), VersionKey(c[1]); a >= b {
			t.Errorf("%q (%s) should sort before %q (%s)", c[0], a, c[1], b)
		}
	}
	if VersionKey("1.02") != VersionKey("1.2") || VersionKey("V1.2") != VersionKey("v1.2") {
		t.Error("leading zeros or case change a version")
	}
}

func TestParseRefusals(t *testing.T) {
	for q, want := range map[string]string{
		``:                                   "empty",
		`os`:                                 "want = != ~",
		`colour = "red"`:                     `unknown field "colour"`,
		`os ~ "win`:                          "not closed",
		`memory ~ 4`:                         "numbers",
		`memory > "lots"`:                    "wants a number",
		`name < "x"`:                         "compares text",
		`has software`:                       "software's name",
		`has firefox`:                        "want software",
		`has software "x" ~ "1"`:             "version compares",
		`subnet = "10.0.0.0/20"`:             "N 8, 16, 24 or 32",
		`subnet ~ "10.0.0.0/24"`:             "subnet takes =",
		`(os = "x"`:                          "want )",
		`os = "x" os = "y"`:                  "want and, or",
		`os ! "x"`:                           "! alone",
		strings.Repeat("(", 40) + `os = "x"`: "deeper",
	} {
		_, err := Parse(q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q): %v, want an error with %q", q, err, want)
		}
	}
	if _, err := Parse(strings.Repeat(`os = "x" or `, 100) + `os = "y"`); err == nil || !strings.Contains(err.Error(), "conditions") {
		t.Errorf("101 conditions: %v", err)
	}
}

func TestCompile(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for q, want := range map[string]string{
		`os ~ "Windows 10" and lacks software "7-Zip" >= "23"`: `(lower(d.osname || ' ' || d.osversion) LIKE ? ESCAPE '\' AND NOT EXISTS (SELECT 1 FROM software s WHERE s.device_id = d.id AND s.name LIKE ? ESCAPE '\' AND s.vkey >= ?)) [%windows 10% %7-zip% 0000000023]`,
		`seen < 7 or not memory >= 4096`:                       `(d.lastcome > ? OR (NOT d.memory_mb >= ?)) [1799395200 4096]`,
		`subnet = "10.1.2.0/24" and name != "A_B"`:             `(d.ipaddr LIKE ? ESCAPE '\' AND lower(d.name) <> ?) [10.1.2.% a_b]`,
		`has software "50%_off"`:                               `EXISTS (SELECT 1 FROM software s WHERE s.device_id = d.id AND s.name LIKE ? ESCAPE '\') [%50\%\_off%]`,
	} {
		n, err := Parse(q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", q, err)
		}
		c := Compile(n, now)
		var args []string
		for _, a := range c.Args {
			args = append(args, fmt.Sprint(a))
		}
		if got := c.Where + " [" + strings.Join(args, " ") + "]"; got != want {
			t.Errorf("Compile(%q)\n got %s\nwant %s", q, got, want)
		}
	}
}

// FuzzParse: whatever the text, parsing never panics, and a query that
// parses compiles to as many placeholders as arguments.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`os ~ "win" and lacks software "7-zip" >= "23"`, `not (tag = "a" or seen < 3)`, `subnet = "10.0.0.0/8"`, `memory>=1024`, `((`, `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		c := Compile(n, time.Unix(0, 0))
		if strings.Count(c.Where, "?") != len(c.Args) {
			t.Fatalf("%q: %d placeholders, %d arguments: %s", s, strings.Count(c.Where, "?"), len(c.Args), c.Where)
		}
	})
}
