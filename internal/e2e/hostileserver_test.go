package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"muster/inventories/ocsxml"
)

// peakRSS is a process's high-water resident set (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestAmplificationInventoriesStayBounded: 16 clients post at once an
// inventory of a few KB that inflates to 1.8 million elements (before,
// about 0.9 GB of server memory each, unbounded in parallel). Each is
// refused, and the server's peak RSS stays under the stated bound
// (MaxParses × (2 × MaxBody + 600 B × MaxElements) ≈ 4 × 76 MB, plus the
// process itself).
func TestAmplificationInventoriesStayBounded(t *testing.T) {
	srv := startServer(t, t.TempDir())
	var doc bytes.Buffer
	doc.WriteString(`<?xml version="1.0" encoding="UTF-8"?><REQUEST><QUERY>INVENTORY</QUERY><DEVICEID>bomb-2026-01-01-00-00-00</DEVICEID><CONTENT>`)
	doc.WriteString(strings.Repeat("<A/>", 1_800_000))
	doc.WriteString(`</CONTENT></REQUEST>`)
	body := ocsxml.Compress(doc.Bytes())
	t.Logf("%d bytes of zlib inflate to %d bytes, 1.8 M elements", len(body), doc.Len())
	before := peakRSS(t, srv.cmd.Process.Pid)
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(body))
			req.Header.Set("User-Agent", "OCS-NG_unified_unix_agent_v2.10.0")
			req.Header.Set("Content-Type", "application/x-compress")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes[i] = -1
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusBadRequest && c != http.StatusRequestEntityTooLarge {
			t.Errorf("client %d: HTTP %d, want a refusal", i, c)
		}
	}
	peak := peakRSS(t, srv.cmd.Process.Pid)
	const bound = 450 << 20
	t.Logf("server peak RSS %d MB (%d MB before the attack); bound %d MB", peak>>20, before>>20, bound>>20)
	if peak > bound {
		t.Errorf("peak RSS %d MB over the bound of %d MB", peak>>20, bound>>20)
	}
}

// TestSlowBodiesAreCut: 100 connections from one address send their
// headers, then a body a byte at a time. Those over the per-IP limit (64)
// are closed at once; the rest are cut once their body falls under the
// minimum rate (here 1 KiB/s after 1 s). A real agent is served
// meanwhile and afterwards.
func TestSlowBodiesAreCut(t *testing.T) {
	srv := startServer(t, t.TempDir(), "--min-body-rate", "1024", "--body-grace", "1s")
	addr := strings.TrimPrefix(srv.Base, "http://")
	prolog := ocsxml.Compress(ocsxml.Marshal(ocsxml.RequestDecl, ocsxml.NewRequest("agent-2026-01-01-00-00-00", ocsxml.QueryProlog, nil)))
	agentOK := func() error {
		req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(prolog))
		req.Header.Set("User-Agent", "OCS-NG_unified_unix_agent_v2.10.0")
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	}
	const n = 100
	ended := make(chan string, n)
	var conns []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /ocsinventory HTTP/1.1\r\nHost: %s\r\nUser-Agent: OCS-NG_unified_unix_agent_v2.10.0\r\nContent-Length: 100000\r\n\r\nx", addr)
		go func(c net.Conn) {
			// Trickle a byte every 200 ms until the server ends it (bounded:
			// 100 bytes, 20 s); report how it ended.
			c.SetDeadline(time.Now().Add(30 * time.Second))
			go func() {
				for j := 0; j < 100; j++ {
					time.Sleep(200 * time.Millisecond)
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
				}
			}()
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				ended <- "closed"
				return
			}
			ended <- strings.TrimSpace(line)
		}(c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	closed, timedOut := 0, 0
	for i := 0; i < n; i++ {
		select {
		case how := <-ended:
			switch {
			case how == "closed":
				closed++
			case strings.Contains(how, "408"):
				timedOut++
			default:
				t.Errorf("a slow body was answered %q", how)
			}
		case <-time.After(40 * time.Second):
			t.Fatalf("after 40 s, %d of %d slow connections still open", n-i, n)
		}
	}
	t.Logf("%d closed at once or cut, %d answered 408", closed, timedOut)
	if timedOut == 0 || closed < n-64 {
		t.Errorf("closed %d, 408 %d: want the %d over the per-IP limit closed and the rest cut with 408", closed, timedOut, n-64)
	}
	if err := agentOK(); err != nil {
		t.Errorf("an agent after the attack: %v", err)
	}
	if !strings.Contains(srv.Stderr.String(), "connections over the limits") {
		t.Errorf("no aggregate log of the refused connections:\n%s", tailLines(srv.Stderr.String(), 10))
	}
}
