//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"muster/internal/testbed"
	"muster/push"
)

// TestPushRetriesWhenDiscoverySeesTheHost: push to hosts that are down;
// they end unreachable and queued on the server; they come back; an
// elected agent's scan sees them; push --queue installs on them.
func TestPushRetriesWhenDiscoverySeesTheHost(t *testing.T) {
	requireBed(t)
	testenvTool(t, "unshare")
	b := bed(t, testbed.LAN{Prefix: netip.MustParsePrefix("10.77.50.0/24"), Hosts: 6, SSH: true})
	hosts := b.LANHosts(0)
	agentHost, targets, down := hosts[0], hosts[1:], hosts[3:]
	data := t.TempDir()
	muster(t, false, "server", "config", "set", "IPDISCOVER_NO_POSTPONE", "1", "--data-dir", data)
	muster(t, false, "server", "config", "set", "IPDISCOVER_LATENCY", "10", "--data-dir", data)
	// HTTPS: push records outcomes with the API token, which never crosses
	// plain HTTP off loopback.
	cert, key := selfSigned(t, b.OperatorIPs...)
	srv := startServerCmd(t, b.Command(musterBin, "-o", "json", "server", "--listen", "0.0.0.0:0", "--data-dir", data,
		"--tls-cert", cert, "--tls-key", key), data)
	port := srv.Base[strings.LastIndex(srv.Base, ":")+1:]
	url := fmt.Sprintf("https://%s:%s/ocsinventory", b.OperatorIPs[0], port)
	eb := &electionBed{Bed: b, data: data, port: port, workDir: map[string]string{agentHost.IP: t.TempDir()}, ca: cert}
	command := func(args ...string) *exec.Cmd {
		cmd := b.Command(args...)
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+cert) // the push's API client trusts it
		return cmd
	}
	eb.agentRun(t, agentHost) // inventory: elected
	for _, h := range down {
		b.SetDown(h, true)
	}

	dir := t.TempDir()
	inst := filepath.Join(dir, "agent.sh")
	os.WriteFile(inst, []byte(installerScript), 0o755)
	var lines []string
	for _, h := range targets {
		lines = append(lines, "ssh://"+testbed.SSHUser+"@"+h.IP)
	}
	list := writeList(t, dir, lines)
	pushArgs := func(extra ...string) []string {
		return append([]string{musterBin, "push", "--user", testbed.SSHUser, "--key", b.SSHKeyPath(),
			"--known-hosts", filepath.Join(dir, "known_hosts"), "--remote-dir", "muster-push", "--installer", inst,
			"--preset", "sh", "--activation", "ABCDEFGHIJ", "--server", url, "--token", srv.Token,
			"--handshake-timeout", "2s", "--retries", "0"}, extra...)
	}
	queue := func() []push.QueuedHost {
		out, err := command(musterBin, "push", "queue", "-o", "json", "--server", url, "--token", srv.Token).CombinedOutput()
		if err != nil {
			t.Fatalf("push queue: %v %s", err, out)
		}
		var q []push.QueuedHost
		if err := json.Unmarshal(out, &q); err != nil {
			t.Fatalf("push queue: %v %s", err, out)
		}
		return q
	}

	resp1 := filepath.Join(dir, "first.csv")
	if out, err := command(pushArgs("-f", list, "--response", resp1)...).CombinedOutput(); err == nil {
		t.Fatalf("push with 3 hosts down exited 0:\n%s", out)
	}
	first := records(t, resp1)
	q := queue()
	if len(q) != 3 {
		t.Fatalf("queue after the first push: %+v", q)
	}
	for _, h := range q {
		if h.Due || first[h.Name].Outcome != push.Unreachable {
			t.Errorf("queued %s: due=%v, response file says %s", h.Name, h.Due, first[h.Name].Outcome)
		}
	}

	// They come back; the elected agent's next scan sees them.
	for _, h := range down {
		b.SetDown(h, false)
	}
	if out := eb.agentRun(t, agentHost); !strings.Contains(out, `"ipdiscover"`) {
		t.Fatalf("the elected agent did not scan: %s", out)
	}
	due := 0
	for _, h := range queue() {
		if h.Due {
			due++
		}
	}
	if due != 3 {
		t.Fatalf("%d hosts due after the scan, want 3: %+v", due, queue())
	}

	resp2 := filepath.Join(dir, "queue.csv")
	out, err := command(pushArgs("--queue", "--response", resp2)...).CombinedOutput()
	if err != nil {
		t.Fatalf("push --queue: %v\n%s", err, out)
	}
	second := records(t, resp2)
	var got, want []string
	for ip, r := range second {
		if r.Outcome != push.OK {
			t.Errorf("%s: %s", ip, r.Outcome)
		}
		got = append(got, ip)
	}
	for _, h := range down {
		want = append(want, h.IP)
		if b, err := os.ReadFile(filepath.Join(h.Home, "installed")); err != nil || !strings.Contains(string(b), "ABCDEFGHIJ") {
			t.Errorf("%s: agent not installed after push --queue", h.IP)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("push --queue pushed to %v, want %v", got, want)
	}
	if q := queue(); len(q) != 0 {
		t.Errorf("queue after push --queue: %+v", q)
	}
}
