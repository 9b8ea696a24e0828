// Package haproxy runs Debian's HAProxy on loopback in front of muster
// server replicas (round robin, health checks on /healthz, connection
// failures redispatched), for the replica e2e test and the ingest
// benchmark.
package haproxy

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Proxy is a running HAProxy.
type Proxy struct {
	URL  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	dir  string
	logs *bytes.Buffer
	once sync.Once
}

// Run starts HAProxy in front of backends (host:port each) and waits, up
// to 20 s, until it serves /healthz from one of them.
func Run(backends ...string) (*Proxy, error) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return nil, fmt.Errorf("haproxy is not installed (make test installs it): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "  server r%d %s check inter 200ms fall 3 rise 2\n", i, b)
	}
	cfg := fmt.Sprintf(`global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  retries 3
  option redispatch
frontend agents
  bind %s
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /healthz
%s`, addr, servers.String())
	dir, err := os.MkdirTemp("", "muster-haproxy-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &Proxy{URL: "http://" + addr, dir: dir, logs: &bytes.Buffer{}}
	p.cmd = exec.Command(bin, "-db", "-f", conf)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for i := 0; i < 200; i++ {
		if resp, err := http.Get(p.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs := p.logs.String()
	p.Stop()
	return nil, fmt.Errorf("haproxy did not serve on %s: %s", addr, logs)
}

// Stop stops HAProxy and removes its files.
func (p *Proxy) Stop() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		os.RemoveAll(p.dir)
	})
}
