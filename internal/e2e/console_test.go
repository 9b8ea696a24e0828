//go:build linux

package e2e

import (
	"context"
	"encoding/json"
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
	node, script := browserScript(t, "console.mjs")
	agent := testenv.Tool(t, "ocsinventory-agent")

	// Over HTTPS, as agents need for packages (the browser takes the
	// test's self-signed certificate).
	cert, key := selfSigned(t)
	data := t.TempDir()
	for _, o := range []string{"DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_PERIOD_LATENCY"} {
		muster(t, false, "--data-dir", data, "server", "config", "set", o, "1")
	}
	srv := startServer(t, data, "--tls-cert", cert, "--tls-key", key)
	pw := filepath.Join(t.TempDir(), "pw")
	for _, u := range [][3]string{{"alice", "admin", "alice-console-pw"}, {"victor", "viewer", "victor-console-pw"}} {
		os.WriteFile(pw, []byte(u[2]+"\n"), 0o600)
		muster(t, false, "server", "user", "add", u[0], "--role", u[1], "--password-file", pw, "--data-dir", data)
	}
	if code, out := agentExit(agent, "--server", srv.URL, "--nolocal", "--basevardir="+t.TempDir(), "--force", "--ca="+cert); code != 0 {
		t.Fatalf("ocsinventory-agent: exit %d\n%s", code, out)
	}
	devices := func() []store.Device {
		out, _ := muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
		var devs []store.Device
		if err := json.Unmarshal([]byte(out), &devs); err != nil {
			t.Fatalf("inventory list: %v\n%s", err, out)
		}
		return devs
	}
	devs := devices()
	if len(devs) != 1 || devs[0].Name == "" {
		t.Fatalf("devices after the OCS agent: %+v", devs)
	}
	ocsDevice := devs[0]
	// A muster agent on the same machine, to run the package the browser
	// builds and assigns to it.
	work := t.TempDir()
	agentArgs := []string{musterBin, "-o", "json", "agent", "run", "--server", srv.URL, "--work-dir", work, "--ca", cert}
	muster(t, false, agentArgs[1:]...)
	var musterDevice store.Device
	for _, d := range devices() {
		if d.DeviceID != ocsDevice.DeviceID {
			musterDevice = d
		}
	}
	if musterDevice.DeviceID == "" {
		t.Fatalf("the muster agent made no device: %+v", devs)
	}
	marks := t.TempDir()
	upload := filepath.Join(t.TempDir(), "run.sh")
	os.WriteFile(upload, []byte("#!/bin/sh\necho ran >> "+marks+"/ran\n"), 0o644)
	agentCmd, _ := json.Marshal(agentArgs)
	// A push the browser follows live: three hosts that refuse (closed
	// loopback ports), each retried twice a second apart, recorded on the
	// server over HTTPS (the test's CA through SSL_CERT_FILE).
	base := srv.URL[:strings.Index(srv.URL, "/ocsinventory")]
	pushDir := t.TempDir()
	pushCmd, _ := json.Marshal([]string{musterBin, "push", "ssh://root@127.0.0.1:1", "ssh://root@127.0.0.1:2", "ssh://root@127.0.0.1:3",
		"--installer", upload, "--preset", "sh", "--activation", "ABCDEFGHIJ", "--retries", "2", "--retry-wait", "1s",
		"--known-hosts", filepath.Join(pushDir, "known_hosts"), "--password-file", pw, "--response", filepath.Join(pushDir, "push.csv"),
		"--server", base, "--token", srv.Token})

	shots := t.ArtifactDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "BASE="+base, "ADMIN=alice:alice-console-pw", "PUSH_CMD="+string(pushCmd), "SSL_CERT_FILE="+cert,
		"VIEWER=victor:victor-console-pw", "DEVICE="+ocsDevice.Name, "DEVICE_ID="+ocsDevice.DeviceID, "SHOTS="+shots,
		"UPLOAD="+upload, "AGENT_DEVICE_ID="+musterDevice.DeviceID, "AGENT_CMD="+string(agentCmd))
	out, err := cmd.CombinedOutput()
	t.Logf("console.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the console in chromium: %v", err)
	}
	if !strings.Contains(string(out), "console e2e passed") {
		t.Fatal("console.mjs did not finish")
	}
	pngs, _ := filepath.Glob(filepath.Join(shots, "*.png"))
	if len(pngs) < 17 {
		t.Errorf("%d screenshots in %s, want one a step (17)", len(pngs), shots)
	}
	// The package the browser built and assigned ran once on the agent.
	if b, err := os.ReadFile(filepath.Join(marks, "ran")); err != nil || string(b) != "ran\n" {
		t.Errorf("the uploaded package ran %q (%v), want once", b, err)
	}
	// What the browser did is in the audit log, by name.
	out2, _ := muster(t, false, "server", "user", "audit", "-o", "json", "--data-dir", data)
	for _, want := range []string{`"who": "alice"`, `"action": "POST /api/v1/clients"`, `"who": "victor"`, `"action": "login refused"`} {
		if !strings.Contains(out2, want) {
			t.Errorf("audit log lacks %s:\n%s", want, out2)
		}
	}
}

// browserScript returns node and the path of one of the console's browser
// scripts, once chromium and playwright-core are there (make test-deps
// installs both; under CI=true their absence fails the test).
func browserScript(t *testing.T, name string) (node, script string) {
	t.Helper()
	testenv.Tool(t, "chromium")
	node = testenv.Tool(t, "node")
	script, _ = filepath.Abs(filepath.Join("console", name))
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "playwright-core", "package.json")); err != nil {
		testenv.Missing(t, "playwright-core (npm ci in internal/e2e/console; make test-deps installs it)")
	}
	return node, script
}
