package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentInstallOCSSetupSwitches runs install-service with the OCS
// setup's switches as typed: /NO_SERVICE saves and activates without a
// service, /NOW runs the first inventory at once, /D=DIR copies the
// program there; the copy runs, and the server holds the inventory under
// the client.
func TestAgentInstallOCSSetupSwitches(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data)
	code := clientCode(t, data, "ACME")
	dir, work := filepath.Join(t.TempDir(), "opt", "muster"), t.TempDir()
	out, _ := muster(t, false, "agent", "install-service", "/S", "/NO_SERVICE", "/NOW", "/D="+dir,
		"/SERVER="+srv.URL, "--activation", code, "--work-dir", work)
	for _, want := range []string{"installed " + filepath.Join(dir, "muster"), "activated for client ACME", "no service installed", "first run: SEND, inventory sent: true"} {
		if !strings.Contains(out, want) {
			t.Errorf("install-service output lacks %q:\n%s", want, out)
		}
	}
	if v, err := exec.Command(filepath.Join(dir, "muster"), "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(v), "muster version") {
		t.Errorf("the copy in /D= does not run: %v %s", err, v)
	}
	if _, err := os.Stat(filepath.Join(dir, "muster.part")); err == nil {
		t.Error("a .part file was left beside the copy")
	}
	d := deviceOf(t, data, "ACME")
	if d.OSName == "" || d.LastInventory.IsZero() {
		t.Errorf("no inventory after /NOW: %+v", d)
	}
	// A switch muster does not take is refused by name, before anything.
	_, e := muster(t, true, "agent", "install-service", "/FROB", "--work-dir", t.TempDir())
	if !strings.Contains(e, "/FROB") {
		t.Errorf("unknown switch: %s", e)
	}
}
