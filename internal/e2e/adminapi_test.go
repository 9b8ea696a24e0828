//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"muster/packages"
	"muster/server/store"
)

// Every admin command, run from "elsewhere" (an empty data dir of its own)
// with --server and a token, acts on the server through its API; then a
// context stands in for the flags; a plain-HTTP server off loopback and a
// wrong token are refused.
func TestAdminCommandsThroughTheAPI(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data)
	// A device, as an agent sends it.
	body, err := os.ReadFile("../../inventories/testdata/inventory.zlib")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.URL, "application/x-compress", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("inventory: %v %v", err, resp)
	}
	resp.Body.Close()
	const dev = "vm-2026-11-21-10-27-21"
	info := buildPackage(t, data, map[string]string{"run.sh": "#!/bin/sh\necho hi\n"}, "--action", "launch", "--command", "run.sh")

	elsewhere := t.TempDir()
	tokenFile := filepath.Join(elsewhere, "token")
	os.WriteFile(tokenFile, []byte(srv.Token+"\n"), 0o600)
	remote := func(wantFail bool, args ...string) string {
		t.Helper()
		out, _ := muster(t, wantFail, append(args, "--data-dir", elsewhere, "--server", srv.Base, "--token-file", tokenFile)...)
		return out
	}
	out := remote(false, "server", "client", "add", "ACME", "-o", "json")
	var c store.Client
	if err := json.Unmarshal([]byte(out), &c); err != nil || len(c.Code) != 10 {
		t.Fatalf("client add: %q %v", out, err)
	}
	if out := remote(false, "server", "client", "list"); !strings.Contains(out, c.Code) {
		t.Errorf("client list: %s", out)
	}
	remote(false, "server", "config", "set", "IPDISCOVER", "2")
	if out := remote(false, "server", "config", "get"); !strings.Contains(out, "IPDISCOVER=2") {
		t.Errorf("config get: %s", out)
	}
	remote(true, "server", "config", "set", "NOPE", "1")
	remote(false, "network", "schedule", "10.77.0.0", "4h")
	remote(false, "network", "elect", dev, "10.77.0.0")
	if out := remote(false, "network", "subnets", "-o", "json"); !strings.Contains(out, dev) || !strings.Contains(out, "4h0m0s") {
		t.Errorf("subnets: %s", out)
	}
	remote(false, "network", "elect", "--never", dev)
	if out := remote(false, "inventory", "list"); !strings.Contains(out, dev) {
		t.Errorf("inventory list: %s", out)
	}
	if out := remote(false, "inventory", "show", dev, "-o", "json"); !strings.Contains(out, `"softwares"`) {
		t.Errorf("inventory show: %.200s", out)
	}
	if out := remote(false, "package", "list"); !strings.Contains(out, info.ID) {
		t.Errorf("package list: %s", out)
	}
	if out := remote(false, "package", "assign", info.ID, "--device", dev); !strings.Contains(out, "1 device") {
		t.Errorf("package assign: %s", out)
	}
	if out := remote(false, "package", "status", info.ID, "-o", "json"); !strings.Contains(out, dev) {
		t.Errorf("package status: %s", out)
	}
	remote(true, "package", "assign", "999", "--all") // no such package: 404
	// A package built from here: the directory's tar.gz is uploaded, the
	// server builds and signs it in its own store.
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "fix.sh"), []byte("#!/bin/sh\necho fixed\n"), 0o755)
	os.WriteFile(filepath.Join(src, "data.bin"), bytes.Repeat([]byte("x"), 3<<20), 0o644)
	out = remote(false, "package", "build", src, "--name", "fix", "--action", "launch", "--command", "fix.sh", "--frag-size", "1MiB", "-o", "json")
	var built packages.Info
	if err := json.Unmarshal([]byte(out), &built); err != nil || built.Frags < 1 || built.Label != "fix" || built.Signature == "" {
		t.Fatalf("remote build: %q %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(data, "packages", built.ID, built.ID+"-1")); err != nil {
		t.Fatalf("the remote build is not in the server's store: %v", err)
	}
	if out, _ := muster(t, false, "package", "list", "--data-dir", elsewhere); strings.Contains(out, built.ID) {
		t.Fatalf("the remote build landed here too: %s", out)
	}
	out = remote(false, "package", "build", "--action", "execute", "--command", "shutdown -r +5", "-o", "json")
	if !strings.Contains(out, `"EXECUTE"`) {
		t.Errorf("command-only remote build: %s", out)
	}
	remote(true, "package", "build", filepath.Join(src, "nope"))     // a missing source: refused here
	remote(true, "inventory", "import", filepath.Join(src, "x.ocs")) // local only: refused
	remote(false, "server", "release", dev)                          // unbound already: fine
	remote(false, "package", "delete", info.ID)
	if out := remote(false, "package", "list", "-o", "json"); strings.Contains(out, info.ID) {
		t.Errorf("package still listed after delete: %s", out)
	}
	// What the API did is in the server's store, not in the empty dir.
	if out, _ := muster(t, false, "server", "client", "list", "--data-dir", data); !strings.Contains(out, c.Code) {
		t.Errorf("the client is not in the server's store: %s", out)
	}

	// A context instead of the flags.
	t.Setenv("MUSTER_CONTEXTS", filepath.Join(elsewhere, "contexts.yaml"))
	muster(t, false, "context", "set", "lab", "--server", srv.Base, "--token-file", tokenFile)
	if fi, err := os.Stat(filepath.Join(elsewhere, "contexts.yaml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("contexts file: %v %v", fi, err)
	}
	if out, _ := muster(t, false, "server", "client", "list", "--data-dir", elsewhere); !strings.Contains(out, c.Code) {
		t.Errorf("through the current context: %s", out)
	}
	if out, _ := muster(t, false, "context", "list"); !strings.Contains(out, "* ") || strings.Contains(out, srv.Token) {
		t.Errorf("context list (current marked, no token shown): %s", out)
	}
	// Rotating through the API: the old token stops working.
	out, _ = muster(t, false, "server", "token", "--data-dir", elsewhere, "-o", "json")
	var rot struct {
		APIToken string `json:"api_token"`
	}
	if json.Unmarshal([]byte(out), &rot); rot.APIToken == "" || rot.APIToken == srv.Token {
		t.Fatalf("rotate: %q", out)
	}
	_, stderr := muster(t, true, "server", "client", "list", "--data-dir", elsewhere)
	if !strings.Contains(stderr, "401") {
		t.Errorf("the old token after rotation: %s", stderr)
	}
	muster(t, false, "context", "use", "")
	if out, _ := muster(t, false, "server", "client", "list", "--data-dir", elsewhere); strings.Contains(out, c.Code) {
		t.Errorf("without a context the local (empty) store is used: %s", out)
	}
	// A token never crosses plain HTTP off loopback.
	_, stderr = muster(t, true, "network", "subnets", "--server", "http://192.0.2.1:8080", "--token", "x")
	if !strings.Contains(stderr, "in clear") {
		t.Errorf("plain HTTP off loopback: %s", stderr)
	}
}

// A hostile server's error text reaches the terminal sanitized: no escape
// sequence of its own survives.
func TestAPIErrorsAreSanitized(t *testing.T) {
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("{\"error\": \"\\u001b]0;owned\\u0007\\u001b[2Jgone\"}"))
	}))
	defer hostile.Close()
	_, stderr := muster(t, true, "network", "subnets", "--server", hostile.URL, "--token", "x", "--data-dir", t.TempDir())
	if strings.ContainsAny(stderr, "\x1b\x07") || !strings.Contains(stderr, "403") {
		t.Fatalf("stderr %q", stderr)
	}
}
