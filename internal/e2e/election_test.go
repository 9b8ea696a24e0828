//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"muster/internal/testbed"
	"muster/server/store"
)

type electionBed struct {
	*testbed.Bed
	srv     *serverProc
	data    string
	clock   string
	port    string
	agents  map[int][]testbed.Host // by LAN: the hosts running muster's agent
	workDir map[string]string
	// ca, when set, is the server's certificate: agents speak HTTPS.
	ca string
}

// agentRun runs `muster agent run` on host h, under its own host name (the
// bed's namespaces share one).
func (eb *electionBed) agentRun(t *testing.T, h testbed.Host, extra ...string) string {
	t.Helper()
	url := fmt.Sprintf("http://%s:%s/ocsinventory", eb.OperatorIPs[h.LAN], eb.port)
	if eb.ca != "" {
		url = strings.Replace(url, "http://", "https://", 1)
		extra = append([]string{"--ca", eb.ca}, extra...)
	}
	name := strings.SplitN(h.Name, ".", 2)[0] + fmt.Sprintf("-l%d", h.LAN)
	cmdline := fmt.Sprintf("hostname %s && exec %s agent run -o json --server %s --work-dir %s %s", name, musterBin, url, eb.workDir[h.IP], strings.Join(extra, " "))
	out, err := eb.HostCommand(h, "unshare", "--uts", "sh", "-c", cmdline).CombinedOutput()
	if err != nil {
		t.Fatalf("agent on %s: %v\n%s", h.Name, err, out)
	}
	return string(out)
}

func (eb *electionBed) subnets(t *testing.T) map[string]store.Subnet {
	out, _ := muster(t, false, "network", "subnets", "-o", "json", "--data-dir", eb.data)
	var sn []store.Subnet
	if err := json.Unmarshal([]byte(out), &sn); err != nil {
		t.Fatalf("subnets: %v %s", err, out)
	}
	by := map[string]store.Subnet{}
	for _, s := range sn {
		by[s.Subnet] = s
	}
	return by
}

func (eb *electionBed) netmap(t *testing.T, args ...string) map[string]store.NetmapEntry {
	out, _ := muster(t, false, append([]string{"network", "list", "-o", "json", "--data-dir", eb.data}, args...)...)
	var m []store.NetmapEntry
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("network list: %v %s", err, out)
	}
	by := map[string]store.NetmapEntry{}
	for _, e := range m {
		by[e.IP] = e
	}
	return by
}

func deviceIDOf(t *testing.T, work string) string {
	b, err := os.ReadFile(filepath.Join(work, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ DeviceID string }
	json.Unmarshal(b, &st)
	return st.DeviceID
}

func TestElectedDiscovery(t *testing.T) {
	requireBed(t)
	testenvTool(t, "unshare")
	b := bed(t,
		testbed.LAN{Prefix: netip.MustParsePrefix("10.77.10.0/24"), Hosts: 8},
		testbed.LAN{Prefix: netip.MustParsePrefix("10.77.20.0/24"), Hosts: 8},
		testbed.LAN{Prefix: netip.MustParsePrefix("10.77.30.0/24"), Hosts: 8})
	eb := &electionBed{Bed: b, data: t.TempDir(), agents: map[int][]testbed.Host{}, workDir: map[string]string{}}
	eb.clock = filepath.Join(eb.data, "clock")
	os.WriteFile(eb.clock, []byte("0s"), 0o644)
	// The server in the operator namespace, on every LAN.
	muster(t, false, "server", "config", "set", "IPDISCOVER_NO_POSTPONE", "1", "--data-dir", eb.data)
	muster(t, false, "server", "config", "set", "IPDISCOVER_LATENCY", "10", "--data-dir", eb.data)
	eb.srv = startServerCmd(t, b.Command(musterBin, "-o", "json", "server", "--listen", "0.0.0.0:0", "--data-dir", eb.data,
		"--clock-offset-file", eb.clock), eb.data)
	eb.port = eb.srv.Base[strings.LastIndex(eb.srv.Base, ":")+1:]
	// One host per LAN is down at first: brought up after the first scan.
	late := map[int]testbed.Host{}
	for li := 0; li < 3; li++ {
		hosts := b.LANHosts(li)
		eb.agents[li] = hosts[:3]
		for _, h := range hosts[:3] {
			eb.workDir[h.IP] = t.TempDir()
		}
		late[li] = hosts[7]
		b.SetDown(hosts[7], true)
	}
	// Two rounds: inventories elect two agents per subnet; then the
	// elected are asked to scan (IPDISCOVER option) and report.
	for round := 0; round < 2; round++ {
		for li := 0; li < 3; li++ {
			for _, h := range eb.agents[li] {
				eb.agentRun(t, h)
			}
		}
	}
	subnets := eb.subnets(t)
	for li := 0; li < 3; li++ {
		sub := b.LANs[li].Prefix.Masked().Addr().String()
		if n := len(subnets[sub].Elected); n != 2 {
			t.Errorf("%s: %d elected, want IPDISCOVER=2: %+v", sub, n, subnets[sub])
		}
	}

	// The network map against the bed's ground truth.
	m := eb.netmap(t)
	for li := 0; li < 3; li++ {
		agentIP := map[string]bool{}
		for _, h := range eb.agents[li] {
			agentIP[h.IP] = true
		}
		for _, h := range b.LANHosts(li) {
			e, ok := m[h.IP]
			switch {
			case h.IP == late[li].IP:
				if ok {
					t.Errorf("%s was down but is in the map", h.IP)
				}
			case !ok:
				t.Errorf("%s (%s) missing from the network map", h.Name, h.IP)
			case e.MAC != h.MAC || e.Name != h.Name:
				t.Errorf("%s: map says %s %q, bed says %s %q", h.IP, e.MAC, e.Name, h.MAC, h.Name)
			case e.Unknown == agentIP[h.IP]:
				t.Errorf("%s: unknown=%v but it runs an agent=%v", h.IP, e.Unknown, agentIP[h.IP])
			}
		}
	}
	// Unknown devices: exactly the hosts without an agent (and the
	// operator, which runs the server but no agent).
	unknown := eb.netmap(t, "--unknown")
	var want, got []string
	for li := 0; li < 3; li++ {
		for _, h := range b.LANHosts(li)[3:7] {
			want = append(want, h.IP)
		}
		want = append(want, b.OperatorIPs[li])
	}
	for ip := range unknown {
		got = append(got, ip)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unknown devices\n got %v\nwant %v", got, want)
	}

	// Rescans on a schedule: not due, no scan; due, the late host appears.
	lan0 := b.LANs[0].Prefix.Masked().Addr().String()
	muster(t, false, "network", "schedule", lan0, "4h", "--data-dir", eb.data)
	b.SetDown(late[0], false)
	elected0 := subnets[lan0].Elected
	var electedHost testbed.Host
	for _, h := range eb.agents[0] {
		if deviceIDOf(t, eb.workDir[h.IP]) == elected0[0] {
			electedHost = h
		}
	}
	if out := eb.agentRun(t, electedHost); strings.Contains(out, `"ipdiscover"`) {
		t.Errorf("scanned although the rescan was not due: %s", out)
	}
	if _, ok := eb.netmap(t)[late[0].IP]; ok {
		t.Errorf("the late host appeared before the rescan")
	}
	os.WriteFile(eb.clock, []byte("5h"), 0o644)
	if out := eb.agentRun(t, electedHost, "--log-level", "debug"); !strings.Contains(out, `"ipdiscover": "`+lan0+`"`) {
		t.Errorf("no scan when the rescan was due: %s", out)
	}
	if e, ok := eb.netmap(t)[late[0].IP]; !ok || e.MAC != late[0].MAC {
		t.Errorf("the late host %s is not in the map after the rescan", late[0].IP)
	}

	// An elected agent that stops calling is replaced after MAX_ALIVE
	// (14 days): move the server's clock, let the other elected agent and
	// then the third one call.
	lan1 := b.LANs[1].Prefix.Masked().Addr().String()
	el := eb.subnets(t)[lan1].Elected
	var silent, other, third testbed.Host
	for _, h := range eb.agents[1] {
		switch deviceIDOf(t, eb.workDir[h.IP]) {
		case el[0]:
			silent = h
		case el[1]:
			other = h
		default:
			third = h
		}
	}
	os.WriteFile(eb.clock, []byte(fmt.Sprintf("%dh", 15*24)), 0o644)
	eb.agentRun(t, other)
	eb.agentRun(t, third)
	now := eb.subnets(t)[lan1].Elected
	sort.Strings(now)
	wantNow := []string{deviceIDOf(t, eb.workDir[other.IP]), deviceIDOf(t, eb.workDir[third.IP])}
	sort.Strings(wantNow)
	if strings.Join(now, " ") != strings.Join(wantNow, " ") {
		t.Errorf("after %s went silent for 15 days: elected %v, want %v", silent.IP, now, wantNow)
	}
}
