//go:build linux

package e2e

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"muster/internal/testbed"
	"muster/internal/testenv"
	"muster/server/store"
)

// TestRealOCSAgentElected: the Debian OCS Unix agent, elected by muster's
// server for its subnet in the bed, runs its own ipdiscover and muster
// stores the results.
func TestRealOCSAgentElected(t *testing.T) {
	requireBed(t)
	agentBin := testenv.Tool(t, "ocsinventory-agent")
	testenv.Tool(t, "ipdiscover")
	b := bed(t, testbed.LAN{Prefix: netip.MustParsePrefix("10.77.40.0/24"), Hosts: 5})
	hosts := b.LANHosts(0)
	ocsHost := hosts[0]
	// The OCS agent's ipdiscover always scans the default route's interface.
	if out, err := b.HostCommand(ocsHost, "ip", "route", "add", "default", "via", b.OperatorIPs[0]).CombinedOutput(); err != nil {
		t.Fatalf("default route: %v %s", err, out)
	}
	data := t.TempDir()
	muster(t, false, "server", "config", "set", "IPDISCOVER_LATENCY", "10", "--data-dir", data)
	srv := startServerCmd(t, b.Command(musterBin, "-o", "json", "server", "--listen", "0.0.0.0:0", "--data-dir", data), data)
	port := srv.Base[strings.LastIndex(srv.Base, ":")+1:]
	url := "http://" + b.OperatorIPs[0] + ":" + port + "/ocsinventory"
	vardir := t.TempDir()
	run := func() string {
		out, err := b.HostCommand(ocsHost, agentBin, "--server", url, "--nolocal", "--basevardir="+vardir, "--nosoftware").CombinedOutput()
		if err != nil {
			t.Fatalf("ocsinventory-agent: %v\n%s", err, out)
		}
		return string(out)
	}
	run()
	out, _ := muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
	var devs []store.Device
	json.Unmarshal([]byte(out), &devs)
	if len(devs) != 1 || !strings.HasPrefix(devs[0].UserAgent, "OCS-NG_unified_unix_agent") {
		t.Fatalf("devices: %+v", devs)
	}
	subnet := b.LANs[0].Prefix.Masked().Addr().String()
	muster(t, false, "network", "elect", devs[0].DeviceID, subnet, "--data-dir", data)
	run() // PROLOG with the IPDISCOVER option: the agent scans and reports
	m := map[string]store.NetmapEntry{}
	out, _ = muster(t, false, "network", "list", "-o", "json", "--subnet", subnet, "--data-dir", data)
	var entries []store.NetmapEntry
	json.Unmarshal([]byte(out), &entries)
	for _, e := range entries {
		m[e.IP] = e
	}
	for _, h := range hosts[1:] {
		e, ok := m[h.IP]
		if !ok || e.MAC != h.MAC || e.SeenBy != devs[0].DeviceID {
			t.Errorf("%s (%s): map has %+v", h.IP, h.MAC, e)
		}
	}
	if len(m) < len(hosts)-1 {
		t.Fatalf("the OCS agent's scan stored %d hosts: %s", len(m), filepath.Base(vardir))
	}
}
