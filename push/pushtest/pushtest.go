// Package pushtest is the conformance suite that every push transport
// (WinRM, SSH) must pass, run by each transport's tests against a real peer.
package pushtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"muster/push"
)

// Target describes a peer to run the suite against.
type Target struct {
	// Dial opens a transport to the peer with good credentials.
	Dial func(ctx context.Context) (push.Transport, error)
	// DialBadAuth dials with wrong credentials.
	DialBadAuth func(ctx context.Context) (push.Transport, error)
	// DialRefused dials a port where nothing listens.
	DialRefused func(ctx context.Context) (push.Transport, error)
	// DialSilent dials a host that accepts TCP and never answers.
	DialSilent func(ctx context.Context) (push.Transport, error)
	// RemoteDir is a directory on the peer the suite may write to, in the
	// peer's own syntax.
	RemoteDir string
	// Join joins RemoteDir and a file name in the peer's syntax.
	Join func(dir, name string) string
	// ReadFile reads a file the suite uploaded, from the test's side.
	ReadFile func(remote string) ([]byte, error)
	// ScriptsOnly is set for a peer that runs only muster's own scripts
	// (the emulated Windows host, which models them): the subtests that
	// send raw shell commands are left out, the file transfers stay.
	ScriptsOnly bool
}

// Run runs the suite.
func Run(t *testing.T, tg Target) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tr, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer tr.Close()

	if !tg.ScriptsOnly {
		t.Run("exit code and both streams", func(t *testing.T) {
			// These commands mean the same in sh and in cmd.exe.
			ex, err := tr.Run(ctx, "echo out && echo err 1>&2 && exit 3")
			if err != nil {
				t.Fatal(err)
			}
			if ex.ExitCode != 3 || strings.TrimSpace(string(ex.Stdout)) != "out" || strings.TrimSpace(string(ex.Stderr)) != "err" {
				t.Fatalf("exit %d stdout %q stderr %q", ex.ExitCode, ex.Stdout, ex.Stderr)
			}
			ex, err = tr.Run(ctx, "echo fine")
			if err != nil || ex.ExitCode != 0 {
				t.Fatalf("exit %d err %v", ex.ExitCode, err)
			}
		})
		t.Run("output is bounded", func(t *testing.T) {
			ex, err := tr.Run(ctx, longOutput(tr.Family()))
			if err != nil {
				t.Fatal(err)
			}
			if len(ex.Stdout) == 0 || len(ex.Stdout) > push.OutputLimit || !strings.Contains(string(ex.Stdout), "last-line") {
				t.Fatalf("kept %d bytes, tail %q", len(ex.Stdout), tailOf(ex.Stdout))
			}
		})
		t.Run("a deadline stops a long command", func(t *testing.T) {
			dctx, dcancel := context.WithTimeout(ctx, time.Second)
			defer dcancel()
			start := time.Now()
			_, err := tr.Run(dctx, sleepCommand(tr.Family(), 30))
			if err == nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err %v", err)
			}
			if took := time.Since(start); took > 15*time.Second {
				t.Fatalf("returned after %v", took)
			}
		})
	}
	for _, size := range []int{0, 1, 1 << 20, 3<<20 + 17} {
		size := size
		t.Run("upload "+human(size), func(t *testing.T) {
			data := make([]byte, size)
			rand.Read(data)
			remote := tg.Join(tg.RemoteDir, "upload-"+human(size)+".bin")
			// Twice: the second replaces the first.
			for i := 0; i < 2; i++ {
				if i == 1 {
					rand.Read(data)
				}
				if err := tr.Upload(ctx, bytes.NewReader(data), int64(size), remote); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tg.ReadFile(remote)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, differ from the %d sent", len(got), size)
			}
			if _, err := tg.ReadFile(remote + ".part"); err == nil {
				t.Fatalf("the temporary file was left behind")
			}
		})
	}
	t.Run("a wrong size is an error", func(t *testing.T) {
		err := tr.Upload(ctx, bytes.NewReader([]byte("short")), 100, tg.Join(tg.RemoteDir, "short.bin"))
		if err == nil {
			t.Fatal("uploading 5 bytes announced as 100 succeeded")
		}
	})
	t.Run("bad credentials are an AuthError", func(t *testing.T) {
		_, err := tg.DialBadAuth(ctx)
		var ae *push.AuthError
		if !errors.As(err, &ae) {
			t.Fatalf("err %T %v", err, err)
		}
	})
	t.Run("a refused port is unreachable", func(t *testing.T) {
		_, err := tg.DialRefused(ctx)
		var ue *push.UnreachableError
		if !errors.As(err, &ue) {
			t.Fatalf("err %T %v", err, err)
		}
	})
	if tg.DialSilent != nil {
		t.Run("a host that never answers is unreachable, in bounded time", func(t *testing.T) {
			start := time.Now()
			_, err := tg.DialSilent(ctx)
			var ue *push.UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("err %T %v", err, err)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Fatalf("took %v", took)
			}
		})
	}
}

func longOutput(family string) string {
	if family == "windows" {
		return `for /L %i in (1,1,20000) do @echo line-%i-xxxxxxxxxxxxxxxxxxxxxxxx & echo last-line`
	}
	return `i=0; while [ $i -lt 20000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo last-line`
}

func sleepCommand(family string, secs int) string {
	if family == "windows" {
		return "ping -n " + strconv.Itoa(secs+1) + " 127.0.0.1 > NUL"
	}
	return "sleep " + strconv.Itoa(secs)
}

func tailOf(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}

func human(n int) string { return strconv.Itoa(n) + "B" }
