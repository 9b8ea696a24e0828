package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var musterBin, winrmemuBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "muster-e2e-")
	if err != nil {
		panic(err)
	}
	musterBin = filepath.Join(dir, "muster")
	out, err := exec.Command("go", "build", "-o", musterBin, "muster/cmd/muster").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build muster: %v\n%s", err, out)
		os.Exit(1)
	}
	winrmemuBin = filepath.Join(dir, "winrmemu")
	if out, err := exec.Command("go", "build", "-o", winrmemuBin, "muster/internal/winrmemu/cmd/winrmemu").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build winrmemu: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer collects a process's stderr while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type serverProc struct {
	cmd     *exec.Cmd
	URL     string // http://host:port/ocsinventory
	Base    string // http://host:port
	Token   string
	DataDir string
	Stderr  *lockedBuffer
}

// startServer runs `muster server` on a free loopback port over dataDir.
// token is empty when the data dir already had one.
//
// Agents that report to it run on the test machine itself, not in a bed:
// elections are off (IPDISCOVER 0), so no agent is ever asked to scan the
// machine's real network. Tests of elections use a bed (startServerCmd).
func startServer(t *testing.T, dataDir string, args ...string) *serverProc {
	t.Helper()
	cfg := []string{"server", "config", "set", "IPDISCOVER", "0", "--data-dir", dataDir}
	for i, a := range args {
		if a == "--database" && i+1 < len(args) {
			cfg = append(cfg, "--database", args[i+1])
		}
	}
	muster(t, false, cfg...)
	return startServerCmd(t, exec.Command(musterBin, append([]string{"-o", "json", "server", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, args...)...), dataDir)
}

// startServerCmd starts a `muster -o json server …` command (in a bed's
// operator namespace, say) and waits for its ready line.
func startServerCmd(t *testing.T, cmd *exec.Cmd, dataDir string) *serverProc {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, DataDir: dataDir, Stderr: &lockedBuffer{}}
	cmd.Stderr = p.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text())
			if sc.Text() == "}" {
				lines <- b.String()
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-lines:
		var ready struct{ URL, Listen, API_Token string }
		if err := json.Unmarshal([]byte(l), &ready); err != nil {
			t.Fatalf("server ready line %q: %v", l, err)
		}
		p.URL, p.Token, p.Base = ready.URL, ready.API_Token, "http://"+ready.Listen
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start: %s", p.Stderr)
	}
	return p
}

// Kill stops the server with SIGKILL: no chance to flush or clean up.
func (p *serverProc) Kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// api GETs path with the bearer token and decodes the JSON reply into v.
func (p *serverProc) api(t *testing.T, token, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", p.Base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// muster runs the muster binary and returns its stdout; it fails the test
// on a non-zero exit unless wantFail.
func muster(t *testing.T, wantFail bool, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(musterBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if wantFail != (err != nil) {
		t.Fatalf("muster %v: err=%v\nstdout:\n%s\nstderr:\n%s", args, err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func testenvTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s is not installed", name)
		}
		t.Skipf("%s is not installed", name)
	}
}
