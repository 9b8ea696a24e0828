//go:build unix

package push_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/winrmemu"
	"muster/push"
	"muster/push/pushtest"
)

func emulator(t *testing.T, cfg winrmemu.Config) *winrmemu.Server {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{"Administrator": "s3cret!"}
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Exec == "" {
		cfg.Exec = winrmemu.ExecSh // the suite's commands are POSIX ones
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := winrmemu.New(cfg)
	s.Start(ln, false)
	t.Cleanup(s.Close)
	return s
}

func hostOf(t *testing.T, url string) push.Host {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/wsman")
	h, err := push.ParseHost("winrm://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func winrmDialer(t *testing.T, user, pw string) *push.WinRMDialer {
	t.Helper()
	d, err := push.NewWinRMDialer(push.WinRMConfig{User: user, Password: pw, Shell: "sh", OperationTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWinRMConformance(t *testing.T) {
	dir := t.TempDir()
	emu := emulator(t, winrmemu.Config{Dir: dir})
	good := winrmDialer(t, "Administrator", "s3cret!")
	bad := winrmDialer(t, "Administrator", "wrong")
	// A port nothing listens on, and one that accepts and never answers.
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := closed.Addr().String()
	closed.Close()
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	host := hostOf(t, emu.URL)
	pushtest.Run(t, pushtest.Target{
		Dial:        func(ctx context.Context) (push.Transport, error) { return good.Dial(ctx, host) },
		DialBadAuth: func(ctx context.Context) (push.Transport, error) { return bad.Dial(ctx, host) },
		DialRefused: func(ctx context.Context) (push.Transport, error) {
			return good.Dial(ctx, hostOf(t, "http://"+refused+"/wsman"))
		},
		DialSilent: func(ctx context.Context) (push.Transport, error) {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			return good.Dial(ctx, hostOf(t, "http://"+silent.Addr().String()+"/wsman"))
		},
		RemoteDir: filepath.Join(dir, "uploads"),
		Join:      func(dir, name string) string { return filepath.Join(dir, name) },
		ReadFile:  os.ReadFile,
	})
	if n := emu.Shells(); n != 0 {
		t.Errorf("%d shells left open on the server", n)
	}
}

// TestWinRMConformanceWindows runs the suite's file transfers against the
// emulated Windows host: upload.ps1 over sealed NTLM, Windows paths.
func TestWinRMConformanceWindows(t *testing.T) {
	dir := t.TempDir()
	emu := emulator(t, winrmemu.Config{Dir: dir, Exec: winrmemu.ExecWindows})
	dialer := func(pw string) *push.WinRMDialer {
		d, err := push.NewWinRMDialer(push.WinRMConfig{User: "Administrator", Password: pw, OperationTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	good, bad := dialer("s3cret!"), dialer("wrong")
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := closed.Addr().String()
	closed.Close()
	host := hostOf(t, emu.URL)
	pushtest.Run(t, pushtest.Target{
		Dial:        func(ctx context.Context) (push.Transport, error) { return good.Dial(ctx, host) },
		DialBadAuth: func(ctx context.Context) (push.Transport, error) { return bad.Dial(ctx, host) },
		DialRefused: func(ctx context.Context) (push.Transport, error) {
			return good.Dial(ctx, hostOf(t, "http://"+refused+"/wsman"))
		},
		RemoteDir: `C:\Users\Administrator\uploads`,
		Join:      func(dir, name string) string { return dir + `\` + name },
		ReadFile: func(remote string) ([]byte, error) {
			return os.ReadFile(filepath.Join(dir, "C", filepath.FromSlash(strings.ReplaceAll(remote[3:], `\`, "/"))))
		},
		ScriptsOnly: true,
	})
}

func TestWinRMFaultsBecomeErrors(t *testing.T) {
	emu := emulator(t, winrmemu.Config{MaxShellsPerUser: 1})
	d := winrmDialer(t, "Administrator", "s3cret!")
	ctx := context.Background()
	first, err := d.Dial(ctx, hostOf(t, emu.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// The quota fault on Create is an error, not a shell with an empty id.
	_, err = d.Dial(ctx, hostOf(t, emu.URL))
	var f *push.WinRMFault
	if !asFault(err, &f) || f.Code != "2150859173" {
		t.Fatalf("second shell: %T %v", err, err)
	}
	// A long silent command rides over OperationTimeout faults (2 s here)
	// without spinning: a few Receives, not thousands.
	before := emu.Requests("Receive")
	ex, err := first.Run(ctx, "sleep 5; echo late")
	if err != nil || strings.TrimSpace(string(ex.Stdout)) != "late" {
		t.Fatalf("%v %q", err, ex.Stdout)
	}
	if n := emu.Requests("Receive") - before; n > 10 {
		t.Fatalf("%d Receive requests for a 5 s command with a 2 s OperationTimeout", n)
	}
}

func asFault(err error, f **push.WinRMFault) bool {
	for err != nil {
		if v, ok := err.(*push.WinRMFault); ok {
			*f = v
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
