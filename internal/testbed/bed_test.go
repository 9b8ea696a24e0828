//go:build linux

package testbed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"muster/internal/testenv"
)

// TestMain doubles as a helper process for the signal and crash tests:
// with MUSTER_TESTBED_HELPER set it brings a bed up, prints its name and
// waits to be killed.
func TestMain(m *testing.M) {
	if os.Getenv("MUSTER_TESTBED_HELPER") != "" {
		b, err := Up(context.Background(), Options{LANs: []LAN{{Hosts: 3}}})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(b.Name)
		time.Sleep(60 * time.Second)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func requireBed(t *testing.T) {
	t.Helper()
	testenv.Root(t)
	for _, tool := range []string{"ip", "nft", "sshd", "arp-scan", "ping", "ethtool"} {
		testenv.Tool(t, tool)
	}
}

// rootSnapshot is what a bed must never change in the root namespace.
func rootSnapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{{"ip", "-o", "link"}, {"ip", "-o", "addr"}, {"ip", "route"}, {"nft", "list", "tables"}} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
		// Link counters and neighbour state change on their own; keep names.
		for _, l := range strings.Split(string(out), "\n") {
			if args[1] == "-o" && args[2] == "link" {
				if f := strings.Fields(l); len(f) > 1 {
					l = f[1]
				}
			}
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// up builds a bed and checks, at the end, that it left nothing behind.
func up(t *testing.T, o Options) *Bed {
	t.Helper()
	before := rootSnapshot(t)
	start := time.Now()
	b, err := Up(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("set-up: %d hosts in %v = %.0f hosts/s (%s)", len(b.Hosts()), took.Round(time.Millisecond),
		float64(len(b.Hosts()))/took.Seconds(), modes(o))
	t.Cleanup(func() {
		if err := b.Down(); err != nil {
			t.Errorf("teardown: %v", err)
		}
		if left := listNS(b.Name); len(left) > 0 {
			t.Errorf("teardown left namespaces %v", left)
		}
		if _, err := os.Stat("/etc/netns/" + b.Operator); err == nil {
			t.Errorf("teardown left /etc/netns/%s", b.Operator)
		}
		if _, err := os.Stat(statePath(b.Name)); err == nil {
			t.Errorf("teardown left the state file")
		}
		if after := rootSnapshot(t); after != before {
			t.Errorf("the root namespace changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
	return b
}

func modes(o Options) string {
	var m []string
	for _, l := range o.LANs {
		m = append(m, string(l.Mode))
	}
	return strings.Join(m, ",")
}

// arpScan runs arp-scan in the operator namespace and returns IP → MAC.
func arpScan(t *testing.T, b *Bed, iface string, prefix netip.Prefix, extra ...string) map[string]string {
	t.Helper()
	args := append([]string{"arp-scan", "-I", iface, "--plain", "-q", "--retry=3"}, extra...)
	out, err := b.Command(append(args, prefix.String())...).CombinedOutput()
	if err != nil {
		t.Fatalf("arp-scan: %v\n%s", err, out)
	}
	found := map[string]string{}
	for _, l := range readLines(out) {
		f := strings.Fields(l)
		if len(f) >= 2 {
			if old, dup := found[f[0]]; dup && old != f[1] {
				t.Errorf("%s answered with two MACs: %s and %s", f[0], old, f[1])
			}
			found[f[0]] = f[1]
		}
	}
	return found
}

func checkFound(t *testing.T, found map[string]string, want []Host) {
	t.Helper()
	if len(found) != len(want) {
		t.Errorf("arp-scan found %d hosts, want %d", len(found), len(want))
	}
	for _, h := range want {
		if found[h.IP] != h.MAC {
			t.Errorf("%s (%s): arp-scan saw MAC %q, want %s", h.Name, h.IP, found[h.IP], h.MAC)
		}
	}
}

func sshRun(ctx context.Context, b *Bed, h Host, auth ssh.AuthMethod, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := b.DialContext(ctx, "tcp", net.JoinHostPort(h.IP, "22"))
	if err != nil {
		return "", err
	}
	cfg := &ssh.ClientConfig{User: SSHUser, Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(b.SSHHostKey(h.IP)), Timeout: 10 * time.Second}
	c, chans, reqs, err := ssh.NewClientConn(conn, h.IP, cfg)
	if err != nil {
		conn.Close()
		return "", err
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

var (
	lossRe = regexp.MustCompile(`(\d+(?:\.\d+)?)% packet loss`)
	rttRe  = regexp.MustCompile(`= [\d.]+/([\d.]+)/`)
)

// pingRTT returns the mean round trip and the loss of n pings 10 ms apart.
func pingRTT(t *testing.T, b *Bed, ip string, n int) (time.Duration, float64) {
	t.Helper()
	out, _ := b.Command("ping", "-n", "-q", "-c", strconv.Itoa(n), "-i", "0.01", "-W", "2", ip).CombinedOutput()
	lm, rm := lossRe.FindSubmatch(out), rttRe.FindSubmatch(out)
	if lm == nil || rm == nil {
		t.Fatalf("ping output: %s", out)
	}
	loss, _ := strconv.ParseFloat(string(lm[1]), 64)
	ms, _ := strconv.ParseFloat(string(rm[1]), 64)
	return time.Duration(ms * float64(time.Millisecond)), loss / 100
}

func pingLoss(t *testing.T, b *Bed, ip string, n int) float64 {
	t.Helper()
	out, _ := b.Command("ping", "-n", "-q", "-c", strconv.Itoa(n), "-i", "0.005", "-W", "1", ip).CombinedOutput()
	m := lossRe.FindSubmatch(out)
	if m == nil {
		t.Fatalf("ping output: %s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v / 100
}

func TestFiftyHostNamespaces(t *testing.T) {
	requireBed(t)
	b := up(t, Options{LANs: []LAN{{Prefix: netip.MustParsePrefix("10.77.0.0/24"), Hosts: 50, SSH: true, Spread: true}}})
	hosts := b.Hosts()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("every host answers ARP with its MAC", func(t *testing.T) {
		checkFound(t, arpScan(t, b, "eth0", b.LANs[0].Prefix), hosts)
	})
	t.Run("every host takes an SSH login with the test key, inside itself", func(t *testing.T) {
		auth := ssh.PublicKeys(b.SSHSigner())
		for _, h := range hosts {
			out, err := sshRun(ctx, b, h, auth, "id -un; echo $HOME; cat /proc/net/fib_trie | grep -c "+h.IP)
			if err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			lines := readLines([]byte(out))
			// The command ran as the test user, in the host's own home, in a
			// network stack that has the host's address.
			if len(lines) != 3 || lines[0] != SSHUser || lines[1] != h.Home || lines[2] == "0" {
				t.Fatalf("%s: %q", h.Name, out)
			}
		}
		if _, err := sshRun(ctx, b, hosts[0], ssh.Password(SSHPassword), "true"); err != nil {
			t.Errorf("password login: %v", err)
		}
		if _, err := sshRun(ctx, b, hosts[0], ssh.Password("wrong"), "true"); err == nil {
			t.Errorf("a wrong password was accepted")
		}
	})
	t.Run("10% loss is visible as loss", func(t *testing.T) {
		lossy, clean := hosts[3], hosts[4]
		if err := b.SetLoss(lossy, 0.10); err != nil {
			t.Fatal(err)
		}
		l := pingLoss(t, b, lossy.IP, 400)
		c := pingLoss(t, b, clean.IP, 400)
		t.Logf("ping loss: %.1f%% with 10%% loss set, %.1f%% without", l*100, c*100)
		// 400 replies at p=0.1: mean 40, sd 6; 3% and 20% are over 4 sd away.
		if l < 0.03 || l > 0.20 || c > 0.01 {
			t.Errorf("loss %.3f on the lossy host, %.3f on the clean one", l, c)
		}
		if err := b.SetLoss(lossy, 0); err != nil {
			t.Fatal(err)
		}
		if l := pingLoss(t, b, lossy.IP, 100); l > 0.01 {
			t.Errorf("loss %.3f after clearing netem", l)
		}
	})
	t.Run("delay is visible as delay, and TCP still works", func(t *testing.T) {
		h := hosts[5]
		if err := b.SetDelay(h, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := b.SetLoss(h, 0.5); err != nil { // loss follows the host onto its relay
			t.Fatal(err)
		}
		rtt, loss := pingRTT(t, b, h.IP, 60)
		t.Logf("with 50ms delay and 50%% loss: rtt %v, loss %.0f%%", rtt, loss*100)
		if rtt < 50*time.Millisecond || rtt > 150*time.Millisecond || loss < 0.2 || loss > 0.8 {
			t.Errorf("rtt %v loss %.2f", rtt, loss)
		}
		b.SetLoss(h, 0)
		if out, err := sshRun(ctx, b, h, ssh.PublicKeys(b.SSHSigner()), "echo through"); err != nil || strings.TrimSpace(out) != "through" {
			t.Errorf("ssh through the delay: %q %v", out, err)
		}
		if err := b.SetDelay(h, 0); err != nil {
			t.Fatal(err)
		}
		if rtt, loss := pingRTT(t, b, h.IP, 20); rtt > 10*time.Millisecond || loss > 0 {
			t.Errorf("after clearing: rtt %v loss %.2f", rtt, loss)
		}
	})
	t.Run("a host set down stops answering, and comes back", func(t *testing.T) {
		h := hosts[10]
		if err := b.SetDown(h, true); err != nil {
			t.Fatal(err)
		}
		found := arpScan(t, b, "eth0", b.LANs[0].Prefix)
		if _, ok := found[h.IP]; ok || len(found) != len(hosts)-1 {
			t.Errorf("down host answered ARP, or others stopped: %d found", len(found))
		}
		dctx, dcancel := context.WithTimeout(ctx, time.Second)
		if c, err := b.DialContext(dctx, "tcp", net.JoinHostPort(h.IP, "22")); err == nil {
			c.Close()
			t.Errorf("down host accepted TCP")
		}
		dcancel()
		if err := b.SetDown(h, false); err != nil {
			t.Fatal(err)
		}
		checkFound(t, arpScan(t, b, "eth0", b.LANs[0].Prefix), hosts)
	})
	t.Run("a tarpit accepts TCP and never answers", func(t *testing.T) {
		h := hosts[11]
		if err := b.Tarpit(h, 5985); err != nil {
			t.Fatal(err)
		}
		c, err := b.DialContext(ctx, "tcp", net.JoinHostPort(h.IP, "5985"))
		if err != nil {
			t.Fatalf("tarpit refused: %v", err)
		}
		defer c.Close()
		c.Write([]byte("POST /wsman HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if n, err := c.Read(make([]byte, 10)); n > 0 || !isTimeout(err) {
			t.Errorf("tarpit answered: %d bytes, %v", n, err)
		}
	})
	t.Run("flapping takes a host down and up, and leaves it up", func(t *testing.T) {
		h := hosts[12]
		b.Flap(ctx, h, 150*time.Millisecond, 150*time.Millisecond, 3)
		sawDown := waitFor(2*time.Second, func() bool { return b.IsDown(h) })
		sawUp := waitFor(2*time.Second, func() bool { return !b.IsDown(h) })
		if !sawDown || !sawUp {
			t.Fatalf("down seen %v, up seen %v", sawDown, sawUp)
		}
		time.Sleep(time.Second) // the three cycles end
		if b.IsDown(h) {
			t.Fatal("flapping left the host down")
		}
		if l := pingLoss(t, b, h.IP, 20); l > 0 {
			t.Errorf("host after flapping: loss %.2f", l)
		}
	})
	t.Run("a command the caller names runs inside a host", func(t *testing.T) {
		h := hosts[20]
		out := b.Dir + "/started-" + h.Netns
		if _, err := b.Start(h, "", "sh", "-c", "cat /proc/net/fib_trie | grep -c "+h.IP+" > "+out); err != nil {
			t.Fatal(err)
		}
		if !waitFor(5*time.Second, func() bool { d, _ := os.ReadFile(out); return len(bytes.TrimSpace(d)) > 0 }) {
			t.Fatal("command did not run")
		}
		if d, _ := os.ReadFile(out); strings.TrimSpace(string(d)) == "0" {
			t.Fatal("command ran outside the host's namespace")
		}
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestCheapModeFourThousandHosts(t *testing.T) {
	requireBed(t)
	b := up(t, Options{LANs: []LAN{{Prefix: netip.MustParsePrefix("10.77.0.0/20"), Hosts: 4000, Mode: ModeRewrite}}})
	found := arpScan(t, b, "eth0", b.LANs[0].Prefix, "--bandwidth=1000M")
	checkFound(t, found, b.Hosts())
	macs := map[string]bool{}
	for _, m := range found {
		macs[m] = true
	}
	if len(macs) != 4000 {
		t.Errorf("%d distinct MACs, want 4000", len(macs))
	}
	// IP works too, and a host set down stops answering.
	h := b.Hosts()[1234]
	if l := pingLoss(t, b, h.IP, 10); l > 0 {
		t.Errorf("ping %s: loss %.2f", h.IP, l)
	}
	if err := b.SetLoss(h, 0.5); err != nil {
		t.Fatal(err)
	}
	if l := pingLoss(t, b, h.IP, 200); l < 0.3 || l > 0.7 {
		t.Errorf("50%% loss on one rewritten host: %.2f seen", l)
	}
	if err := b.SetDown(h, true); err != nil {
		t.Fatal(err)
	}
	if l := pingLoss(t, b, h.IP, 3); l < 1 {
		t.Errorf("down host still answers ping")
	}
}

func TestSeveralLANs(t *testing.T) {
	requireBed(t)
	b := up(t, Options{LANs: []LAN{
		{Prefix: netip.MustParsePrefix("10.77.10.0/24"), Hosts: 5},
		{Prefix: netip.MustParsePrefix("10.77.20.0/24"), Hosts: 7, Mode: ModeRewrite},
		{Prefix: netip.MustParsePrefix("192.168.77.0/26"), Hosts: 3, Spread: true},
	}})
	for li, l := range b.LANs {
		checkFound(t, arpScan(t, b, fmt.Sprintf("eth%d", li), l.Prefix), b.LANHosts(li))
	}
	out, err := b.Command("getent", "hosts", b.LANHosts(2)[0].Name).CombinedOutput()
	if err != nil || !strings.Contains(string(out), b.LANHosts(2)[0].IP) {
		t.Errorf("name lookup in the operator: %v %s", err, out)
	}
}

func TestOptionsRejected(t *testing.T) {
	cases := map[string]Options{
		"public prefix":   {LANs: []LAN{{Prefix: netip.MustParsePrefix("8.8.8.0/24"), Hosts: 1}}},
		"too many hosts":  {LANs: []LAN{{Prefix: netip.MustParsePrefix("10.77.0.0/28"), Hosts: 20}}},
		"ns beyond 1000":  {LANs: []LAN{{Prefix: netip.MustParsePrefix("10.77.0.0/20"), Hosts: 1500}}},
		"overlap":         {LANs: []LAN{{Prefix: netip.MustParsePrefix("10.77.0.0/16"), Hosts: 1}, {Prefix: netip.MustParsePrefix("10.77.3.0/24"), Hosts: 1}}},
		"ssh in rewrite":  {LANs: []LAN{{Hosts: 2, Mode: ModeRewrite, SSH: true}}},
		"bad name":        {Name: "foo", LANs: []LAN{{Hosts: 1}}},
		"unknown mode":    {LANs: []LAN{{Hosts: 1, Mode: "vlan"}}},
		"ipv6":            {LANs: []LAN{{Prefix: netip.MustParsePrefix("fd00::/64"), Hosts: 1}}},
		"prefix too wide": {LANs: []LAN{{Prefix: netip.MustParsePrefix("10.0.0.0/7"), Hosts: 1}}},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			if b, err := Up(context.Background(), o); err == nil {
				b.Down()
				t.Fatal("accepted")
			}
		})
	}
}

func TestHostPlacement(t *testing.T) {
	p := netip.MustParsePrefix("10.77.0.0/24")
	seq, _ := hostAddrs(p, 3, false)
	if fmt.Sprint(seq) != "[10.77.0.1 10.77.0.2 10.77.0.3]" {
		t.Errorf("sequential: %v", seq)
	}
	spread, _ := hostAddrs(p, 4, true)
	if fmt.Sprint(spread) != "[10.77.0.1 10.77.0.64 10.77.0.127 10.77.0.190]" {
		t.Errorf("spread: %v", spread)
	}
	if operatorAddr(p).String() != "10.77.0.254" {
		t.Errorf("operator %s", operatorAddr(p))
	}
	if _, err := hostAddrs(p, 254, false); err == nil {
		t.Error("254 hosts fit a /24 beside the operator")
	}
}

// helper starts this test binary as a process that brings a bed up.
func helper(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MUSTER_TESTBED_HELPER=1")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), Prefix) {
		t.Fatalf("helper: %q", sc.Text())
	}
	name := sc.Text()
	if len(listNS(name)) == 0 {
		t.Fatalf("helper bed %s has no namespaces", name)
	}
	return cmd, name
}

func TestSIGINTTearsDown(t *testing.T) {
	requireBed(t)
	cmd, name := helper(t)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if left := listNS(name); len(left) > 0 {
		t.Fatalf("SIGINT left %v", left)
	}
}

func TestDownAllRemovesCrashedBeds(t *testing.T) {
	requireBed(t)
	cmd, name := helper(t)
	cmd.Process.Kill() // no chance to clean up
	cmd.Wait()
	if len(listNS(name)) == 0 {
		t.Fatal("SIGKILL should have left the bed behind")
	}
	// DownAll's own code path, limited to this bed: other packages' tests
	// may have beds up right now.
	removed, err := downMatching(name)
	if err != nil {
		t.Fatal(err)
	}
	if left := listNS(name); len(left) > 0 {
		t.Fatalf("DownAll left %v (removed %v)", left, removed)
	}
	if _, err := os.Stat(statePath(name)); err == nil {
		t.Fatal("DownAll left the state file")
	}
}
