//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"muster/internal/testbed"
	"muster/internal/testenv"
)

func requireBed(t *testing.T) {
	t.Helper()
	testenv.Root(t)
	for _, tool := range []string{"ip", "nft", "ethtool"} {
		testenv.Tool(t, tool)
	}
}

func bed(t *testing.T, lans ...testbed.LAN) *testbed.Bed {
	t.Helper()
	b, err := testbed.Up(context.Background(), testbed.Options{LANs: lans})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Down() })
	return b
}

type found struct {
	IP, MAC, Vendor, Name string
	RTTms                 float64 `json:"rtt_ms"`
	FirstRTTms            float64 `json:"first_rtt_ms"`
	Requests              int
}

// discoverOn runs `muster discover -o json` in the bed's operator namespace.
func discoverOn(t *testing.T, b *testbed.Bed, args ...string) (map[string]found, string) {
	t.Helper()
	cmd := b.Command(append([]string{musterBin, "discover", "-o", "json"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("muster discover %v: %v\n%s", args, err, errb.String())
	}
	got := map[string]found{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var f found
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		if _, dup := got[f.IP]; dup {
			t.Errorf("%s reported twice", f.IP)
		}
		got[f.IP] = f
	}
	return got, errb.String()
}

// exactly checks that the scan found these hosts, with their MACs (and
// names when checkNames), and nothing else.
func exactly(t *testing.T, got map[string]found, want []testbed.Host, checkNames bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("found %d hosts, want %d", len(got), len(want))
	}
	missing := 0
	for _, h := range want {
		f, ok := got[h.IP]
		switch {
		case !ok:
			missing++
			if missing <= 5 {
				t.Errorf("%s (%s) not found", h.Name, h.IP)
			}
		case f.MAC != h.MAC:
			t.Errorf("%s: MAC %s, want %s", h.IP, f.MAC, h.MAC)
		case checkNames && f.Name != h.Name:
			t.Errorf("%s: name %q, want %q", h.IP, f.Name, h.Name)
		}
	}
	if missing > 5 {
		t.Errorf("... %d hosts missing in all", missing)
	}
}

func TestDiscoverSlash24(t *testing.T) {
	requireBed(t)
	b := bed(t, testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/24"), Hosts: 50, Spread: true})
	hosts := b.Hosts()
	t.Run("every host, right MAC and name", func(t *testing.T) {
		got, _ := discoverOn(t, b, "--fast", "--timeout", "100ms", "10.77.0.0/24")
		exactly(t, got, hosts, true)
	})
	t.Run("a one-off scan reported to the server's network map", func(t *testing.T) {
		data := t.TempDir()
		srv := startServerCmd(t, b.Command(musterBin, "-o", "json", "server", "--listen", "127.0.0.1:0", "--data-dir", data), data)
		_, stderr := discoverOn(t, b, "--fast", "--timeout", "100ms", "--report", srv.Base, "--token", srv.Token, "10.77.0.0/24")
		if !strings.Contains(stderr, "50 hosts reported") {
			t.Fatalf("report: %s", stderr)
		}
		out, _ := muster(t, false, "network", "list", "-o", "json", "--data-dir", data)
		var m []struct{ IP, MAC, Name string }
		json.Unmarshal([]byte(out), &m)
		byIP := map[string]found{}
		for _, e := range m {
			byIP[e.IP] = found{IP: e.IP, MAC: e.MAC, Name: e.Name}
		}
		exactly(t, byIP, hosts, true)
	})
	t.Run("paced at a latency", func(t *testing.T) {
		got, _ := discoverOn(t, b, "--latency", "2ms", "--timeout", "100ms", "--names=false", "10.77.0.0/24")
		exactly(t, got, hosts, false)
	})
	t.Run("10% loss on every host", func(t *testing.T) {
		for _, h := range hosts {
			if err := b.SetLoss(h, 0.10); err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			for _, h := range hosts {
				b.SetLoss(h, 0)
			}
		}()
		// Each silent address is asked up to 5 times: a host is missed only
		// if all 5 replies are lost (1e-5 each).
		got, _ := discoverOn(t, b, "--fast", "--retries", "4", "--timeout", "100ms", "10.77.0.0/24")
		exactly(t, got, hosts, true)
	})
	t.Run("10% loss, and 5 ms more on one host in five", func(t *testing.T) {
		// The final wait follows the replies: the delayed hosts raise it
		// above the floor, so none of their late replies is lost.
		for i, h := range hosts {
			if err := b.SetLoss(h, 0.10); err != nil {
				t.Fatal(err)
			}
			if i%5 == 0 {
				if err := b.SetDelay(h, 5*time.Millisecond); err != nil {
					t.Fatal(err)
				}
			}
		}
		defer func() {
			for i, h := range hosts {
				b.SetLoss(h, 0)
				if i%5 == 0 {
					b.SetDelay(h, 0)
				}
			}
		}()
		got, summary := discoverOn(t, b, "--fast", "--retries", "4", "--timeout", "100ms", "--names=false", "10.77.0.0/24")
		exactly(t, got, hosts, false)
		// A delayed host's reply comes at least 5 ms after the request it
		// answers. From the first request that always holds; from the last
		// only for an address asked once: after a retry, a 5 ms reply to
		// the first request can land 1 ms after the second (seen in CI),
		// and on a busy machine every delayed host may be retried.
		once := 0
		for i, h := range hosts {
			f := got[h.IP]
			switch {
			case f.Requests < 1 || f.FirstRTTms < f.RTTms:
				t.Errorf("%s: %d requests, reply %.2f ms after the last and %.2f ms after the first", h.IP, f.Requests, f.RTTms, f.FirstRTTms)
			case i%5 != 0:
			case f.FirstRTTms < 5:
				t.Errorf("%s is 5 ms away, but answered %.2f ms after its first request", h.IP, f.FirstRTTms)
			case f.Requests == 1 && f.RTTms < 5:
				t.Errorf("%s is 5 ms away and was asked once, but its reply time is %.2f ms", h.IP, f.RTTms)
			case f.Requests == 1:
				once++
			}
		}
		t.Logf("%d of the 10 delayed hosts were asked once", once)
		t.Log(strings.TrimSpace(summary))
	})
	t.Run("hosts set down are not reported", func(t *testing.T) {
		var up []testbed.Host
		for i, h := range hosts {
			if i%10 == 3 {
				if err := b.SetDown(h, true); err != nil {
					t.Fatal(err)
				}
				defer b.SetDown(h, false)
				continue
			}
			up = append(up, h)
		}
		got, _ := discoverOn(t, b, "--fast", "--timeout", "100ms", "10.77.0.0/24")
		exactly(t, got, up, true)
	})
}

func TestDiscoverSlash20(t *testing.T) {
	requireBed(t)
	b := bed(t, testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/20"), Hosts: 200, Spread: true})
	got, summary := discoverOn(t, b, "--fast", "--timeout", "200ms", "10.77.0.0/20")
	exactly(t, got, b.Hosts(), true)
	t.Log(strings.TrimSpace(summary))
}

func TestDiscoverSlash16CheapMode(t *testing.T) {
	requireBed(t)
	b := bed(t, testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/16"), Hosts: 1000, Spread: true, Mode: testbed.ModeRewrite})
	got, summary := discoverOn(t, b, "--fast", "--timeout", "200ms", "--names=false", "10.77.0.0/16")
	exactly(t, got, b.Hosts(), false)
	t.Log(strings.TrimSpace(summary))
}

func TestDiscoverErrors(t *testing.T) {
	requireBed(t)
	b := bed(t, testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/24"), Hosts: 2})
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"10.78.0.0/24"}, "not on any connected subnet"},
		{[]string{"--iface", "eth0", "10.78.0.1"}, "not on a subnet connected to eth0"},
		{[]string{"--iface", "nope0", "10.77.0.1"}, "no such interface"},
		{[]string{"--iface", "lo", "10.77.0.1"}, "not Ethernet"},
		{[]string{"--iface", "dummy0", "10.77.0.1"}, "interface dummy0 is down"},
		{[]string{"10.77.0.0/33"}, `target "10.77.0.0/33"`},
		{[]string{"10.0.0.0/15"}, "--force"},
		{[]string{"--rate", "10", "10.77.0.0/24"}, "--rate goes with --fast"},
		{[]string{"-o", "xml", "10.77.0.1"}, "-o"},
	}
	// An Ethernet-like interface in the operator, down and without IPv4.
	if out, err := b.Command("ip", "link", "add", "dummy0", "type", "veth", "peer", "name", "dummy1").CombinedOutput(); err != nil {
		t.Fatalf("dummy interface: %v %s", err, out)
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			cmd := b.Command(append([]string{musterBin, "discover"}, c.args...)...)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Fatalf("err %v, output %q, want %q", err, out, c.want)
			}
		})
	}
	b.Command("ip", "link", "set", "dummy0", "up").Run()
	b.Command("ip", "link", "set", "dummy1", "up").Run()
	if out, err := b.Command(musterBin, "discover", "--iface", "dummy0", "10.77.0.1").CombinedOutput(); err == nil || !strings.Contains(string(out), "dummy0 has no IPv4 address") {
		t.Errorf("interface without IPv4: %v %s", err, out)
	}
	// Without root's raw socket: as nobody, the error names CAP_NET_RAW.
	cmd := b.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", musterBin, "discover", "--data-dir", t.TempDir(), "10.77.0.1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "CAP_NET_RAW") {
		t.Fatalf("unprivileged: %v %s", err, out)
	}
}
