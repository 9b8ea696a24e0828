//go:build unix

package push_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"muster/internal/winrmemu"
	"muster/push"
)

// BenchmarkWinRMCopy copies a 10 MB installer to one emulated Windows host
// (NTLM, sealed, in the same process) and installs it: the per-host work
// of winrmbench, with client and host in one CPU profile. It has no anchor:
// it is for profiling (go test ./push -bench WinRMCopy -cpuprofile F), and
// winrmbench is the comparison.
func BenchmarkWinRMCopy(b *testing.B) {
	dir := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	emu := winrmemu.New(winrmemu.Config{Dir: dir, Exec: winrmemu.ExecWindows, Users: map[string]string{"Administrator": "s3cret!"}})
	emu.Start(ln, false)
	defer emu.Close()
	d, err := push.NewWinRMDialer(push.WinRMConfig{User: "Administrator", Password: "s3cret!", OperationTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	msi := filepath.Join(b.TempDir(), "agent_ABCDEFGHIJ.msi")
	body := make([]byte, 10<<20)
	rand.Read(body)
	copy(body, "exit 0\n")
	os.WriteFile(msi, body, 0o644)
	h, err := push.ParseHost("winrm://" + ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for i := 0; b.Loop(); i++ {
		j := &push.Job{Mode: push.Copy, Installer: msi, Command: push.Presets["msi"], RunID: fmt.Sprintf("r%d", i), Cleanup: true}
		if err := j.Prepare(); err != nil {
			b.Fatal(err)
		}
		tr, err := d.Dial(context.Background(), h)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := j.Install(context.Background(), tr, h, 1); err != nil {
			b.Fatal(err)
		}
		tr.Close()
	}
}
