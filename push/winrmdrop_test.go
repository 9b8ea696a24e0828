//go:build unix

package push_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"muster/internal/winrmemu"
	"muster/push"
)

// An installer that says it started, then waits to be released.
const slowMSI = `n=$(cat runs 2>/dev/null || echo 0); echo $((n+1)) > runs
touch started
i=0; while [ ! -e release ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
echo 0 > "$WINRMEMU_EXITCODE_FILE"
`

// TestDroppedConnectionNeverInstallsTwice: the connections drop once the
// installer has started. The runner retries the host, reads the marker,
// and reports unknown; the installer ran once.
func TestDroppedConnectionNeverInstallsTwice(t *testing.T) {
	dir := t.TempDir()
	emu := emulator(t, winrmemu.Config{Dir: dir, Exec: winrmemu.ExecWindows})
	var mu sync.Mutex
	var conns []net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		return c, err
	}
	d, err := push.NewWinRMDialer(push.WinRMConfig{User: "Administrator", Password: "s3cret!", OperationTimeout: 2 * time.Second, Dial: dial})
	if err != nil {
		t.Fatal(err)
	}
	msi := filepath.Join(t.TempDir(), "agent_ABCDEFGHIJ.msi")
	os.WriteFile(msi, []byte(slowMSI), 0o644)
	j := &push.Job{Mode: push.Copy, Installer: msi, Command: push.Presets["msi"], RunID: "drop"}
	if err := j.Prepare(); err != nil {
		t.Fatal(err)
	}
	r := &push.Runner{Dialers: map[push.Scheme]push.Dialer{push.SchemeWinRM: d}, Default: push.SchemeWinRM, Job: j,
		Retries: 2, RetryWait: 20 * time.Millisecond, HostTimeout: 30 * time.Second}
	done := make(chan push.Summary, 1)
	var recs []push.Record
	r.Progress = func(e push.Event) {
		if e.Done {
			recs = append(recs, e.Record)
		}
	}
	go func() { s, _ := r.Run(context.Background(), []push.Host{hostOf(t, emu.URL)}); done <- s }()
	// The event: the installer started. Then the network drops.
	started := filepath.Join(dir, "started")
	for i := 0; i < 1000; i++ {
		if _, err := os.Stat(started); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(started); err != nil {
		t.Fatal("the installer never started")
	}
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	var sum push.Summary
	select {
	case sum = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not end")
	}
	os.WriteFile(filepath.Join(dir, "release"), nil, 0o644)
	if sum[push.Unknown] != 1 || len(recs) != 1 || recs[0].Attempts != 2 || !strings.Contains(recs[0].Error, "started") {
		t.Fatalf("summary %v, records %+v", sum, recs)
	}
	if runs, _ := os.ReadFile(filepath.Join(dir, "runs")); strings.TrimSpace(string(runs)) != "1" {
		t.Fatalf("the installer ran %q times", runs)
	}
}
