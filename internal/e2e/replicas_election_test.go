//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"

	"muster/internal/pgtest"
	"muster/internal/testbed"
	"muster/server/store"
)

// Two replicas on one PostgreSQL, in the bed's operator namespace (the
// database is reached through its Unix socket, which namespaces share).
// Six muster agents of one subnet report at once, half to each replica:
// exactly IPDISCOVER=2 of them are elected, the election holds in a second
// round, the elected ones (and only they) scan when asked by either replica, and the network map they
// report holds the subnet's hosts as the bed has them.
func TestReplicasElectOnASharedSubnet(t *testing.T) {
	requireBed(t)
	testenvTool(t, "unshare")
	pg := pgtest.StartServer(t)
	b := bed(t, testbed.LAN{Prefix: netip.MustParsePrefix("10.77.40.0/24"), Hosts: 8})
	data := t.TempDir() // shared by both replicas: packages and keys
	local := []string{"--data-dir", data, "--database", pg.SocketDSN}
	for _, kv := range [][2]string{{"IPDISCOVER", "2"}, {"IPDISCOVER_NO_POSTPONE", "1"}, {"IPDISCOVER_LATENCY", "10"}} {
		muster(t, false, append([]string{"server", "config", "set", kv[0], kv[1]}, local...)...)
	}
	var replicas []*serverProc
	var ports []string
	for i := 0; i < 2; i++ {
		srv := startServerCmd(t, b.Command(append([]string{musterBin, "-o", "json", "server", "--listen", "0.0.0.0:0"}, local...)...), data)
		replicas = append(replicas, srv)
		ports = append(ports, srv.Base[strings.LastIndex(srv.Base, ":")+1:])
	}
	hosts := b.LANHosts(0)
	agents := hosts[:6]
	work := map[string]string{}
	for _, h := range agents {
		work[h.IP] = t.TempDir()
	}
	// run runs `muster agent run` on host h against replica r, under its
	// own host name (the bed's namespaces share one).
	run := func(h testbed.Host, r int) (string, error) {
		url := fmt.Sprintf("http://%s:%s/ocsinventory", b.OperatorIPs[0], ports[r])
		name := strings.SplitN(h.Name, ".", 2)[0]
		cmdline := fmt.Sprintf("hostname %s && exec %s agent run -o json --server %s --work-dir %s", name, musterBin, url, work[h.IP])
		out, err := b.HostCommand(h, "unshare", "--uts", "sh", "-c", cmdline).CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("agent on %s (replica %d): %v\n%s", h.Name, r, err, out)
		}
		return string(out), nil
	}
	// All at once, alternating replicas, so that inventories of one subnet
	// reach both servers together.
	round := func() map[string]string {
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			outs = map[string]string{}
			errs []error
		)
		for i, h := range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := run(h, i%2)
				mu.Lock()
				defer mu.Unlock()
				outs[h.IP] = out
				if err != nil {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
		if len(errs) > 0 {
			t.FailNow()
		}
		return outs
	}
	round()
	sub := b.LANs[0].Prefix.Masked().Addr().String()
	elected := subnetsLocal(t, local, sub)
	if len(elected) != 2 {
		t.Fatalf("%s: %d elected after one concurrent round across two replicas, want IPDISCOVER=2: %v\nreplica 0:\n%s\nreplica 1:\n%s",
			sub, len(elected), elected, replicas[0].Stderr, replicas[1].Stderr)
	}
	// The second round: the elected are asked to scan, whichever replica
	// they reach, and report what they found.
	outs := round()
	if again := subnetsLocal(t, local, sub); strings.Join(again, " ") != strings.Join(elected, " ") {
		t.Errorf("the election moved in the second round: %v, then %v", elected, again)
	}
	scanned := 0
	for _, h := range agents {
		id := deviceIDOf(t, work[h.IP])
		isElected := false
		for _, e := range elected {
			isElected = isElected || e == id
		}
		did := strings.Contains(outs[h.IP], `"ipdiscover": "`+sub+`"`)
		if did {
			scanned++
		}
		if did && !isElected {
			t.Errorf("%s scanned but was not elected: %s", h.IP, outs[h.IP])
		}
	}
	if scanned != 2 {
		t.Errorf("%d agents scanned in the second round, want the 2 elected", scanned)
	}
	// The map both scans fed: every bed host, with its MAC, and unknown
	// exactly when it runs no agent.
	out, _ := muster(t, false, append([]string{"network", "list", "-o", "json"}, local...)...)
	var m []store.NetmapEntry
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("network list: %v %s", err, out)
	}
	byIP := map[string]store.NetmapEntry{}
	for _, e := range m {
		byIP[e.IP] = e
	}
	for i, h := range hosts {
		e, ok := byIP[h.IP]
		switch {
		case !ok:
			t.Errorf("%s (%s) missing from the network map", h.Name, h.IP)
		case e.MAC != h.MAC:
			t.Errorf("%s: map says %s, bed says %s", h.IP, e.MAC, h.MAC)
		case e.Unknown != (i >= len(agents)):
			t.Errorf("%s: unknown=%v, runs an agent=%v", h.IP, e.Unknown, i < len(agents))
		}
	}
}

// subnetsLocal returns the elected devices of subnet sub, sorted, read from
// the shared store.
func subnetsLocal(t *testing.T, local []string, sub string) []string {
	t.Helper()
	out, _ := muster(t, false, append([]string{"network", "subnets", "-o", "json"}, local...)...)
	var sn []store.Subnet
	if err := json.Unmarshal([]byte(out), &sn); err != nil {
		t.Fatalf("subnets: %v %s", err, out)
	}
	for _, s := range sn {
		if s.Subnet == sub {
			e := append([]string(nil), s.Elected...)
			sort.Strings(e)
			return e
		}
	}
	return nil
}
