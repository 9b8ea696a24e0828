package agent_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/agent"
	"muster/internal/testenv"
	"muster/inventories"
)

// startDante runs Debian's danted (SOCKS4 and SOCKS5, no auth) on a
// loopback port and returns its address and log file.
func startDante(t *testing.T) (string, string) {
	t.Helper()
	danted := testenv.Tool(t, "danted")
	testenv.Root(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	logFile := filepath.Join(dir, "danted.log")
	conf := fmt.Sprintf(`logoutput: %s
internal: 127.0.0.1 port = %d
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: connect
}
socks pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  protocol: tcp
  log: connect
}
`, logFile, addr.Port)
	os.WriteFile(filepath.Join(dir, "danted.conf"), []byte(conf), 0o644)
	cmd := exec.Command(danted, "-f", filepath.Join(dir, "danted.conf"), "-N", "1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Ready when its log says so (bounded).
	for try := 0; ; try++ {
		b, _ := os.ReadFile(logFile)
		if strings.Contains(string(b), "running") {
			break
		}
		if try == 200 {
			t.Fatalf("danted did not start:\n%s", b)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return addr.String(), logFile
}

// The agent reaches its server through a real SOCKS4 and SOCKS5 proxy
// (OCS ProxyType 2 and 3), and danted's log shows each connection.
func TestAgentThroughSOCKS(t *testing.T) {
	proxy, logFile := startDante(t)
	ts := httptest.NewServer(&scripted{freq: 7})
	defer ts.Close()
	host, port, _ := net.SplitHostPort(proxy)
	var portN int
	fmt.Sscan(port, &portN)
	for _, typ := range []int{agent.ProxySOCKS4, agent.ProxySOCKS5} {
		u, err := agent.ProxyURL(typ, host, portN)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(logFile)
		c, err := agent.NewClient(agent.Config{Server: ts.URL + "/ocsinventory", Proxy: u, ProxyUser: "muster", Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ag := &agent.Agent{Client: c, WorkDir: t.TempDir(), Collect: func(context.Context) *inventories.Inventory { return &inventories.Inventory{} }}
		res, err := ag.Run(context.Background(), false)
		if err != nil || res.PrologFreq != 7 {
			t.Fatalf("%s: run %+v, %v", u, res, err)
		}
		after, _ := os.ReadFile(logFile)
		target := strings.Replace(strings.TrimPrefix(ts.URL, "http://"), ":", ".", 1)
		if !strings.Contains(string(after[len(before):]), "-> ") || !strings.Contains(string(after[len(before):]), target) {
			t.Errorf("%s: danted logged no connection to %s:\n%s", u, target, after[len(before):])
		}
	}
	// A proxy that is not there is an error that names it.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	c, _ := agent.NewClient(agent.Config{Server: ts.URL + "/ocsinventory", Proxy: "socks4://" + dead, Timeout: 5 * time.Second})
	ag := &agent.Agent{Client: c, WorkDir: t.TempDir(), Collect: func(context.Context) *inventories.Inventory { return &inventories.Inventory{} }}
	if _, err := ag.Run(context.Background(), false); err == nil || !strings.Contains(err.Error(), dead) {
		t.Errorf("a dead SOCKS4 proxy: %v", err)
	}
}
