package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/testenv"
	"muster/packages"
	"muster/server/store"
)

// buildPackage builds a package from a directory holding files and
// returns its info.
func buildPackage(t *testing.T, data string, files map[string]string, args ...string) *packages.Info {
	t.Helper()
	src := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := muster(t, false, append([]string{"-o", "json", "--data-dir", data, "package", "build", src}, args...)...)
	var info packages.Info
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("package build output %q: %v", out, err)
	}
	return &info
}

// packageStates returns each device's state for package id.
func packageStates(t *testing.T, data, id string) []store.PackageState {
	t.Helper()
	out, _ := muster(t, false, "-o", "json", "--data-dir", data, "package", "status", id)
	var states []store.PackageState
	if err := json.Unmarshal([]byte(out), &states); err != nil {
		t.Fatalf("package status %q: %v", out, err)
	}
	return states
}

// waitStates polls until every package in want has that state on its one
// device, for at most limit.
func waitStates(t *testing.T, data string, want map[string]string, limit time.Duration, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := map[string]string{}
		done := true
		for id, w := range want {
			st := packageStates(t, data, id)
			if len(st) == 1 {
				got[id] = st[0].State
			}
			if got[id] != w {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("package states after %v: %v, want %v\n%s", limit, got, want, logs())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestRealOCSAgentRunsPackage: the Debian OCS agent downloads a package
// built by muster over HTTPS (with a CA the test makes), checks it, runs
// it and muster records SUCCESS; a corrupted fragment gives
// ERR_BAD_DIGEST and runs nothing; a later run is not offered either again.
func TestRealOCSAgentRunsPackage(t *testing.T) {
	agent := testenv.Tool(t, "ocsinventory-agent")
	cert, key := selfSigned(t)
	data := t.TempDir()
	for _, o := range []string{"DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_PERIOD_LATENCY"} {
		muster(t, false, "--data-dir", data, "server", "config", "set", o, "1")
	}
	srv := startServer(t, data, "--tls-cert", cert, "--tls-key", key)
	vardir := t.TempDir()
	// No --force: with it the agent skips the PROLOG, and so the packages.
	run := func() {
		if code, out := agentExit(agent, "--server", srv.URL, "--nolocal", "--basevardir="+vardir, "--nosoftware", "--ca="+cert); code != 0 {
			t.Fatalf("agent: exit %d\n%s", code, out)
		}
	}
	run() // the device now exists

	marks := t.TempDir()
	good := buildPackage(t, data, map[string]string{"run.sh": "#!/bin/sh\necho ran > " + marks + "/good\n"},
		"--name", "good", "--action", "execute", "--command", "sh run.sh", "--frag-size", "1KiB")
	bad := buildPackage(t, data, map[string]string{"run.sh": "#!/bin/sh\necho ran > " + marks + "/bad\n",
		"pad": strings.Repeat("x", 5000)}, "--name", "bad", "--action", "execute", "--command", "sh run.sh", "--frag-size", "1KiB")
	if bad.Frags < 1 {
		t.Fatalf("bad package has %d fragments", bad.Frags)
	}
	frag := filepath.Join(data, "packages", bad.ID, packages.FragmentName(bad.ID, 1))
	b, _ := os.ReadFile(frag)
	b[len(b)/2] ^= 0xff
	os.WriteFile(frag, b, 0o644)
	for _, p := range []*packages.Info{good, bad} {
		out, _ := muster(t, false, "--data-dir", data, "package", "assign", p.ID, "--all")
		if !strings.Contains(out, "1 device") {
			t.Fatalf("assign: %s", out)
		}
	}
	run() // PROLOG offers both; the agent's worker goes on in the background
	waitStates(t, data, map[string]string{good.ID: "SUCCESS", bad.ID: "ERR_BAD_DIGEST"}, 120*time.Second, srv.Stderr.String)
	if b, err := os.ReadFile(filepath.Join(marks, "good")); err != nil || string(b) != "ran\n" {
		t.Fatalf("the good package did not run: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(marks, "bad")); err == nil {
		t.Fatal("the package with a bad digest ran")
	}
	// The next contact offers neither (a stock agent offered a package of
	// its history breaks), and states stay as reported.
	run()
	if n := strings.Count(srv.Stderr.String(), `msg="packages offered"`); n != 1 {
		t.Fatalf("packages offered in %d PROLOGs, want 1", n)
	}
	for id, want := range map[string]string{good.ID: "SUCCESS", bad.ID: "ERR_BAD_DIGEST"} {
		if st := packageStates(t, data, id); st[0].State != want {
			t.Fatalf("package %s after another run: %s", id, st[0].State)
		}
	}
}
