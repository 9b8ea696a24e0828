//go:build linux

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/testenv"
	"muster/server/store"
)

// The web console in Debian's chromium, driven by npm playwright-core
// (console/console.mjs): logins as admin and viewer, the fleet search
// finding a device the real OCS agent inventoried, its device page, a
// change and its audit entry, a phone's width, and the viewer's change
// refused by the server. Screenshots land in the test's artifact
// directory (go test -artifacts keeps them).
func TestConsoleInChromium(t *testing.T) {
	chromium := testenv.Tool(t, "chromium")
	node := testenv.Tool(t, "node")
	agent := testenv.Tool(t, "ocsinventory-agent")
	script, _ := filepath.Abs("console/console.mjs")
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "playwright-core", "package.json")); err != nil {
		testenv.Missing(t, "playwright-core (npm ci in internal/e2e/console; make test-deps installs it)")
	}
	_ = chromium

	data := t.TempDir()
	srv := startServer(t, data)
	pw := filepath.Join(t.TempDir(), "pw")
	for _, u := range [][3]string{{"alice", "admin", "alice-console-pw"}, {"victor", "viewer", "victor-console-pw"}} {
		os.WriteFile(pw, []byte(u[2]+"\n"), 0o600)
		muster(t, false, "server", "user", "add", u[0], "--role", u[1], "--password-file", pw, "--data-dir", data)
	}
	runAgent(t, agent, "--server", srv.URL, "--nolocal", "--basevardir="+t.TempDir(), "--force")
	var devs []store.Device
	if code := srv.api(t, srv.Token, "/api/v1/devices", &devs); code != 200 || len(devs) != 1 || devs[0].Name == "" {
		t.Fatalf("devices after the OCS agent: %d %+v", code, devs)
	}

	shots := t.ArtifactDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "BASE="+srv.Base, "ADMIN=alice:alice-console-pw", "VIEWER=victor:victor-console-pw",
		"DEVICE="+devs[0].Name, "SHOTS="+shots)
	out, err := cmd.CombinedOutput()
	t.Logf("console.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the console in chromium: %v", err)
	}
	if !strings.Contains(string(out), "console e2e passed") {
		t.Fatal("console.mjs did not finish")
	}
	pngs, _ := filepath.Glob(filepath.Join(shots, "*.png"))
	if len(pngs) < 9 {
		t.Errorf("%d screenshots in %s, want one a step (9)", len(pngs), shots)
	}
	// What the browser did is in the audit log, by name.
	out2, _ := muster(t, false, "server", "user", "audit", "-o", "json", "--data-dir", data)
	for _, want := range []string{`"who": "alice"`, `"action": "POST /api/v1/clients"`, `"who": "victor"`, `"action": "login refused"`} {
		if !strings.Contains(out2, want) {
			t.Errorf("audit log lacks %s:\n%s", want, out2)
		}
	}
}
