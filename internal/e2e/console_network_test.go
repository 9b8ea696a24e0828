//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/testbed"
)

// The console's network page after an elected scan on the namespace bed:
// the subnet with its elected agents and counts; an unknown device
// identified; the agent pushed to another, which joins the retry queue and
// becomes a push run once muster push --queue runs. The browser runs in
// the bed's operator namespace, beside the server.
func TestConsoleNetworkOnBed(t *testing.T) {
	requireBed(t)
	testenvTool(t, "unshare")
	node, script := browserScript(t, "network.mjs")
	b := bed(t, testbed.LAN{Prefix: netip.MustParsePrefix("10.77.40.0/24"), Hosts: 6})
	eb := &electionBed{Bed: b, data: t.TempDir(), workDir: map[string]string{}}
	muster(t, false, "server", "config", "set", "IPDISCOVER_NO_POSTPONE", "1", "--data-dir", eb.data)
	muster(t, false, "server", "config", "set", "IPDISCOVER_LATENCY", "10", "--data-dir", eb.data)
	eb.srv = startServerCmd(t, b.Command(musterBin, "-o", "json", "server", "--listen", "0.0.0.0:0", "--data-dir", eb.data), eb.data)
	eb.port = eb.srv.Base[strings.LastIndex(eb.srv.Base, ":")+1:]
	hosts := b.LANHosts(0)
	agents := hosts[:3]
	for _, h := range agents {
		eb.workDir[h.IP] = t.TempDir()
	}
	// Two rounds: the inventories elect two agents, then they scan.
	for round := 0; round < 2; round++ {
		for _, h := range agents {
			eb.agentRun(t, h)
		}
	}
	subnet := b.LANs[0].Prefix.Masked().Addr().String()
	if sn := eb.subnets(t)[subnet]; len(sn.Elected) != 2 || sn.Unknown < 3 {
		t.Fatalf("after two rounds: %+v", sn)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("alice-console-pw\n"), 0o600)
	muster(t, false, "server", "user", "add", "alice", "--role", "admin", "--password-file", pw, "--data-dir", eb.data)

	base := "http://127.0.0.1:" + eb.port
	queueCmd, _ := json.Marshal([]string{musterBin, "push", "--queue", "--user", testbed.SSHUser, "--password-file", pw,
		"--installer", pw, "--preset", "sh", "--activation", "ABCDEFGHIJ", "--retries", "0", "--handshake-timeout", "5s",
		"--known-hosts", filepath.Join(t.TempDir(), "known_hosts"), "--response", filepath.Join(t.TempDir(), "push.csv"),
		"--server", base, "--token", eb.srv.Token})
	shots := t.ArtifactDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	ns := b.Command(node, script) // ip netns exec OPERATOR node script, bounded by ctx
	cmd := exec.CommandContext(ctx, ns.Path, ns.Args[1:]...)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "BASE="+base, "ADMIN=alice:alice-console-pw", "SHOTS="+shots, "SUBNET="+subnet,
		"IDENTIFY_IP="+hosts[3].IP, "PUSH_IP="+hosts[4].IP, "QUEUE_CMD="+string(queueCmd))
	out, err := cmd.CombinedOutput()
	t.Logf("network.mjs:\n%s", out)
	if err != nil || !strings.Contains(string(out), "network e2e passed") {
		t.Fatalf("the network page in chromium: %v", err)
	}
	m := eb.netmap(t)
	if e := m[hosts[3].IP]; e.Type != "printer" || e.Unknown {
		t.Errorf("%s after identification: %+v", hosts[3].IP, e)
	}
}
