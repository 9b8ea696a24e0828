package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"muster/server/store"
)

// TestHostileTextNeverReachesTheTerminal: a device whose name carries a
// C1 CSI (U+009B, which recolours a terminal), a C1 OSC and a right-to-left
// override (U+202E, which reorders what the admin reads) is imported; the
// text list and show print none of them, the JSON escapes them and still
// holds the name exactly.
func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	dir := t.TempDir()
	muster(t, false, "agent", "run", "--xml", dir, "--work-dir", t.TempDir())
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) != 1 {
		t.Fatalf("agent --xml wrote %v", files)
	}
	b, _ := os.ReadFile(files[0])
	evil := "pc\u009b31mred\u009d0;owned\u202eexe.txt"
	re := regexp.MustCompile(`(<HARDWARE>(?s:.*?)<NAME>)[^<]*(</NAME>)`)
	if !re.Match(b) {
		t.Fatalf("no HARDWARE NAME in %s", b)
	}
	b = re.ReplaceAll(b, []byte("${1}"+evil+"${2}"))
	os.WriteFile(files[0], b, 0o644)
	data := t.TempDir()
	muster(t, false, "inventory", "import", "--data-dir", data, files[0])
	bad := []string{"\u009b", "\u009d", "\u202e", "\x1b"}
	list, _ := muster(t, false, "inventory", "list", "--data-dir", data)
	var devs []store.Device
	js, _ := muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
	if err := json.Unmarshal([]byte(js), &devs); err != nil || len(devs) != 1 {
		t.Fatalf("list -o json: %v\n%s", err, js)
	}
	show, _ := muster(t, false, "inventory", "show", devs[0].DeviceID, "--data-dir", data)
	for name, out := range map[string]string{"list": list, "show": show, "list -o json": js} {
		for _, c := range bad {
			if strings.Contains(out, c) {
				t.Errorf("%s printed %q:\n%q", name, c, out)
			}
		}
	}
	if !strings.Contains(list, "pc31mred0;ownedexe.txt") {
		t.Errorf("the text list lost the name's printable part:\n%s", list)
	}
	if devs[0].Name != evil || !strings.Contains(js, `\u009b`) || !strings.Contains(js, `\u202e`) {
		t.Errorf("the JSON does not hold the name exactly, escaped: %q", devs[0].Name)
	}
}
