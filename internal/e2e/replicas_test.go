//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"muster/internal/fleet"
	haproxypkg "muster/internal/haproxy"
	"muster/internal/pgtest"
	"muster/internal/testenv"
	"muster/server/store"
)

func haproxy(t *testing.T, backends ...string) string {
	t.Helper()
	testenv.Tool(t, "haproxy")
	p, err := haproxypkg.Run(backends...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p.URL
}

// Two servers on one PostgreSQL behind HAProxy: agents through the load
// balancer land in the shared store, one replica is killed with SIGKILL in
// the middle of an ingest load, every acknowledged inventory is there
// once, and the survivor carries on.
func TestReplicasBehindALoadBalancer(t *testing.T) {
	dsn := pgtest.Start(t)
	data := t.TempDir() // shared by both: packages and keys
	a := startServer(t, data, "--database", dsn)
	b := startServer(t, data, "--database", dsn)
	if a.Token == "" || b.Token != "" {
		t.Fatalf("tokens: the first replica makes one, the second finds it (%q, %q)", a.Token, b.Token)
	}
	lb := haproxy(t, strings.TrimPrefix(a.Base, "http://"), strings.TrimPrefix(b.Base, "http://"))

	// The real OCS agent through the load balancer, twice (round robin:
	// once to each replica): one device.
	agent := testenv.Tool(t, "ocsinventory-agent")
	state := t.TempDir()
	for i := 0; i < 2; i++ {
		runAgent(t, agent, "--server", lb+"/ocsinventory", "--nolocal", "--basevardir="+state, "--force")
	}
	// And FusionInventory's agent, the other stock one.
	fusion := testenv.Tool(t, "fusioninventory-agent")
	if out, err := exec.Command(fusion, "--server", lb+"/ocsinventory", "--tasks=inventory", "--force", "--no-httpd").CombinedOutput(); err != nil {
		t.Fatalf("fusioninventory-agent: %v\n%s", err, out)
	}

	tmpl, err := fleet.Load("../../inventories/testdata/inventory-nosoftware.xml")
	if err != nil {
		t.Fatal(err)
	}
	const n = 240
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		next  = make(chan int)
		wg    sync.WaitGroup
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			for i := range next {
				req, _ := http.NewRequest("POST", lb+"/ocsinventory", bytes.NewReader(tmpl.Body("lb-", i)))
				req.Header.Set("User-Agent", "OCS-NG_unified_unix_agent_v2.10.0")
				resp, err := client.Do(req)
				if err != nil {
					continue // not acknowledged: the agent would send it again
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked[fleet.DeviceID("lb-", i)] = true
					mu.Unlock()
				}
			}
		}()
	}
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		// Kill replica a once it has stored 20 of the load's inventories:
		// by what happened, within a bound.
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if strings.Count(a.Stderr.String(), `msg="inventory stored" deviceid=lb-`) >= 20 {
				break
			}
		}
		a.Kill()
	}()
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	<-killed
	storedOnA := strings.Count(a.Stderr.String(), `msg="inventory stored" deviceid=lb-`)
	if storedOnA < 20 {
		t.Fatalf("replica a stored %d of the load before it was killed, want ≥ 20 (is the balancer spreading?)", storedOnA)
	}

	// The survivor, through the balancer, carries on.
	post := func(body []byte) int {
		req, _ := http.NewRequest("POST", lb+"/ocsinventory", bytes.NewReader(body))
		req.Header.Set("User-Agent", "OCS-NG_unified_unix_agent_v2.10.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(tmpl.Body("after-", 0)); code != 200 {
		t.Fatalf("an inventory after the kill: %d", code)
	}
	if code := post(fleet.Prolog("after-", 0)); code != 200 {
		t.Fatalf("a PROLOG after the kill: %d", code)
	}

	var devs []store.Device
	if code := b.api(t, a.Token, "/api/v1/devices", &devs); code != 200 {
		t.Fatalf("devices from the survivor: %d", code)
	}
	seen := map[string]int{}
	for _, d := range devs {
		seen[d.DeviceID]++
	}
	mu.Lock()
	defer mu.Unlock()
	missing := 0
	for id := range acked {
		if seen[id] == 0 {
			missing++
		}
	}
	for id, c := range seen {
		if c > 1 {
			t.Errorf("%s stored %d times", id, c)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged inventories are missing", missing, len(acked))
	}
	if len(acked) < n/2 {
		t.Fatalf("only %d of %d inventories were acknowledged across the kill", len(acked), n)
	}
	agents := map[string]int{}
	for _, d := range devs {
		if !strings.HasPrefix(d.DeviceID, "lb-") && !strings.HasPrefix(d.DeviceID, "after-") {
			agents[strings.SplitN(d.UserAgent, "_v", 2)[0]]++
		}
	}
	if agents["OCS-NG_unified_unix_agent"] != 1 || len(agents) != 2 {
		t.Errorf("stock agents through the balancer: %v, want one OCS agent device (two runs) and one FusionInventory one", agents)
	}
	if seen[fleet.DeviceID("after-", 0)] != 1 {
		t.Fatal("the inventory sent after the kill is not stored")
	}
	t.Logf("%d of %d acknowledged (%d stored by the killed replica), all present once; %d devices in all", len(acked), n, storedOnA, len(devs))
}

// Two replicas on one PostgreSQL, over HTTPS, sharing their data dir: a
// package built and assigned through one replica's API reaches a muster
// agent of each replica, each downloads it from its own, runs it once, and
// both results are in the shared store.
func TestReplicasServeOnePackageToAgentsOfBoth(t *testing.T) {
	dsn := pgtest.Start(t)
	cert, key := selfSigned(t)
	t.Setenv("SSL_CERT_FILE", cert) // the CLI's API client trusts the test CA
	data := t.TempDir()
	local := []string{"--data-dir", data, "--database", dsn}
	for _, o := range []string{"DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_PERIOD_LATENCY"} {
		muster(t, false, append(append([]string{}, local...), "server", "config", "set", o, "1")...)
	}
	tls := []string{"--database", dsn, "--tls-cert", cert, "--tls-key", key}
	a := startServer(t, data, tls...)
	b := startServer(t, data, tls...)
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(a.Token), 0o600)

	agent := func(srv *serverProc, work string) string {
		out, _ := muster(t, false, "-o", "json", "agent", "run", "--server", srv.URL, "--work-dir", work, "--ca", cert)
		return out
	}
	// Two machines: two work dirs with their own DEVICEID (made in one
	// second on one host they would be the same).
	host, _ := os.Hostname()
	wa, wb := t.TempDir(), t.TempDir()
	for i, w := range []string{wa, wb} {
		short, _, _ := strings.Cut(host, ".")
		state := fmt.Sprintf(`{"deviceid": "%s-2026-01-01-00-00-0%d", "hostname": %q}`, short, i, short)
		if err := os.WriteFile(filepath.Join(w, "state.json"), []byte(state), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Both machines report at once, each to its own replica.
	var wg sync.WaitGroup
	for _, r := range []struct {
		srv  *serverProc
		work string
	}{{a, wa}, {b, wb}} {
		wg.Add(1)
		go func() { defer wg.Done(); agent(r.srv, r.work) }()
	}
	wg.Wait()

	marks := t.TempDir()
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\necho ran >> "+marks+"/ran\n"), 0o755)
	api := []string{"--server", strings.TrimSuffix(b.URL, "/ocsinventory"), "--token-file", tokenFile, "--data-dir", t.TempDir()}
	out, _ := muster(t, false, append([]string{"-o", "json", "package", "build", src, "--name", "both", "--action", "execute",
		"--command", "sh run.sh", "--frag-size", "1KiB", "--priority", "1"}, api...)...)
	var info struct{ ID string }
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.ID == "" {
		t.Fatalf("build through replica b: %q %v", out, err)
	}
	muster(t, false, append([]string{"package", "assign", info.ID, "--all"}, api...)...)

	for _, run := range []struct {
		srv  *serverProc
		work string
	}{{a, wa}, {b, wb}} {
		if out := agent(run.srv, run.work); !strings.Contains(out, `"`+info.ID+`": "SUCCESS"`) {
			t.Fatalf("agent of %s: %s\nserver log:\n%s", run.srv.Base, out, run.srv.Stderr)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(marks, "ran")); string(b) != "ran\nran\n" {
		t.Fatalf("the package ran %q, want once per agent", b)
	}
	out, _ = muster(t, false, append([]string{"-o", "json", "package", "status", info.ID}, api...)...)
	var states []store.PackageState
	if err := json.Unmarshal([]byte(out), &states); err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || states[0].State != "SUCCESS" || states[1].State != "SUCCESS" {
		t.Fatalf("package status through the API: %+v", states)
	}

}
