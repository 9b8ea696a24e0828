package shell

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A session that drops mid-install (the pusher killed: its end of the
// pipe closed, SIGHUP from sshd) neither kills the installer nor loses
// its exit code: the marker says "done 0" and the output is kept beside
// it. Before the output went to files, the installer's first write to the
// dead session killed it with SIGPIPE (exit 141, seen in CI).
func TestShInstallSurvivesADroppedSession(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "agent.sh.run-1.state")
	gate := filepath.Join(dir, "gate")
	// The installer waits until the session is gone, then writes.
	script := Sh{}.Install(Install{Marker: marker, Command: "while [ ! -e " + ShQuote(gate) + " ]; do sleep 0.01; done; echo installed; echo warning >&2"})
	cmd := exec.Command("sh", "-c", script)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(marker); strings.HasPrefix(string(b), "started") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the installer never started")
		}
	}
	r.Close() // the session is gone
	cmd.Process.Signal(syscall.SIGHUP)
	os.WriteFile(gate, nil, 0o644)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the install script did not end")
	}
	if b, _ := os.ReadFile(marker); strings.TrimSpace(string(b)) != "done 0" {
		t.Errorf("marker %q, want done 0", b)
	}
	if b, _ := os.ReadFile(marker + ".out"); string(b) != "installed\n" {
		t.Errorf("kept output %q", b)
	}
	if b, _ := os.ReadFile(marker + ".err"); string(b) != "warning\n" {
		t.Errorf("kept errors %q", b)
	}
}
