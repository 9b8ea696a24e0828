package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"muster/packages"
	"muster/server/store"
)

// TestAgentRunsPackage: muster's agent gets a package assigned through
// muster's server over HTTPS (CA-verified), downloads it, resumes after
// the server is killed mid-download, verifies and runs it once; a
// corrupted one is reported ERR_BAD_DIGEST and runs nothing.
func TestAgentRunsPackage(t *testing.T) {
	cert, key := selfSigned(t)
	data := t.TempDir()
	for _, o := range []string{"DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_PERIOD_LATENCY"} {
		muster(t, false, "--data-dir", data, "server", "config", "set", o, "1")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srvArgs := []string{"--listen", addr, "--tls-cert", cert, "--tls-key", key}
	srv := startServer(t, data, srvArgs...)
	work := t.TempDir()
	agentArgs := []string{"-o", "json", "agent", "run", "--server", srv.URL, "--work-dir", work, "--ca", cert}
	muster(t, false, agentArgs...)

	marks := t.TempDir()
	pad := make([]byte, 8000) // incompressible: 8 fragments of 1 KiB
	rand.Read(pad)
	good := buildPackage(t, data, map[string]string{"run.sh": "#!/bin/sh\necho ran >> " + marks + "/good\n", "pad": string(pad)},
		"--name", "good", "--action", "execute", "--command", "sh run.sh", "--frag-size", "1KiB", "--priority", "1")
	bad := buildPackage(t, data, map[string]string{"run.sh": "#!/bin/sh\necho ran > " + marks + "/bad\n"},
		"--name", "bad", "--action", "execute", "--command", "sh run.sh", "--frag-size", "1KiB", "--priority", "1")
	frag := filepath.Join(data, "packages", bad.ID, packages.FragmentName(bad.ID, 1))
	b, _ := os.ReadFile(frag)
	b[len(b)/2] ^= 0xff
	os.WriteFile(frag, b, 0o644)
	for _, p := range []*packages.Info{good, bad} {
		muster(t, false, "--data-dir", data, "package", "assign", p.ID, "--all")
	}

	// The agent downloads with 1 s between fragments; the server is killed
	// once two fragments of the good package are in, and comes back on the
	// same address once the agent failed to get the next one.
	cmd := exec.Command(musterBin, agentArgs...)
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	second := filepath.Join(work, "download", good.ID, packages.FragmentName(good.ID, 2))
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(second); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fragment 2 never arrived:\n%s", stderr.String())
		}
	}
	srv.Kill()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(stderr.String(), "will resume"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent saw no failed fragment while the server was down:\n%s", stderr.String())
		}
	}
	srv = startServer(t, data, srvArgs...)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent run: %v\n%s", err, stderr.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump for the log
		<-done
		t.Fatalf("agent run did not finish:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), `"`+good.ID+`": "SUCCESS"`) || !strings.Contains(stdout.String(), `"`+bad.ID+`": "ERR_BAD_DIGEST"`) {
		t.Fatalf("agent results: %s", stdout.String())
	}
	for id, want := range map[string]string{good.ID: "SUCCESS", bad.ID: "ERR_BAD_DIGEST"} {
		if st := packageStates(t, data, id); len(st) != 1 || st[0].State != want {
			t.Fatalf("package %s: %+v, want %s", id, st, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(marks, "good")); string(b) != "ran\n" {
		t.Fatalf("good package marker %q", b)
	}
	if _, err := os.Stat(filepath.Join(marks, "bad")); err == nil {
		t.Fatal("the corrupted package ran")
	}
	// A second cycle runs nothing again; the inventory lists the history.
	out, _ := muster(t, false, agentArgs...)
	if strings.Contains(out, `"packages"`) {
		t.Fatalf("second cycle handled packages: %s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(marks, "good")); string(b) != "ran\n" {
		t.Fatalf("the package ran again: %q", b)
	}
	out, _ = muster(t, false, "-o", "json", "--data-dir", data, "inventory", "show", deviceIDOf(t, work))
	var dev store.DeviceDetail
	if err := json.Unmarshal([]byte(out), &dev); err != nil {
		t.Fatalf("inventory show: %v\n%s", err, out)
	}
	if h := dev.Inventory.DownloadHistory; len(h) != 1 || h[0] != good.ID {
		t.Fatalf("DOWNLOAD/HISTORY in the inventory: %v, want [%s]", h, good.ID)
	}
}
