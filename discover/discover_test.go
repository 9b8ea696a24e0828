package discover

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	ourMAC = net.HardwareAddr{0x02, 0x77, 0, 0xff, 0xff, 0xfe}
	ourIP  = netip.MustParseAddr("10.77.0.254")
)

func reply(t testing.TB, mac net.HardwareAddr, ip, target netip.Addr, op uint16, vlan bool) []byte {
	t.Helper()
	s, d := ip.As4(), target.As4()
	eth := &layers.Ethernet{SrcMAC: mac, DstMAC: ourMAC, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: op, SourceHwAddress: mac, SourceProtAddress: s[:], DstHwAddress: ourMAC, DstProtAddress: d[:]}
	ls := []gopacket.SerializableLayer{eth, arp}
	if vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = []gopacket.SerializableLayer{eth, &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeARP}, arp}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPacketRoundTrip(t *testing.T) {
	dst := netip.MustParseAddr("10.77.0.9")
	f, err := EncodeRequest(ourMAC, ourIP, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != minFrame {
		t.Errorf("request is %d bytes, want padded to %d", len(f), minFrame)
	}
	p, err := DecodeARP(f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Op != 1 || p.SenderIP != ourIP || p.TargetIP != dst || p.SenderMAC.String() != ourMAC.String() {
		t.Fatalf("decoded %+v", p)
	}
	for _, vlan := range []bool{false, true} {
		mac := net.HardwareAddr{0, 0x11, 0x22, 0x33, 0x44, 0x55}
		p, err := DecodeARP(reply(t, mac, dst, ourIP, 2, vlan))
		if err != nil {
			t.Fatalf("vlan=%v: %v", vlan, err)
		}
		if p.Op != 2 || p.SenderIP != dst || p.SenderMAC.String() != mac.String() || p.EtherSrc.String() != mac.String() {
			t.Fatalf("vlan=%v: decoded %+v", vlan, p)
		}
	}
	// The template used for speed writes the very same frames.
	encode, err := requestTemplate(ourMAC, ourIP)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, minFrame)
	for _, d := range []string{"10.77.0.9", "192.168.255.1", "0.0.0.1"} {
		want, _ := EncodeRequest(ourMAC, ourIP, netip.MustParseAddr(d))
		if got := encode(buf, netip.MustParseAddr(d)); string(got) != string(want) {
			t.Errorf("template for %s:\n got %x\nwant %x", d, got, want)
		}
	}
	if _, err := EncodeRequest(ourMAC[:4], ourIP, dst); err == nil {
		t.Error("a 4-byte MAC was accepted")
	}
}

func TestDecodeRejects(t *testing.T) {
	good := reply(t, ourMAC, ourIP, ourIP, 2, false)
	ipv4 := append([]byte(nil), good...)
	ipv4[12], ipv4[13] = 0x08, 0x00 // EtherType IPv4
	cases := map[string][]byte{
		"empty":     nil,
		"truncated": good[:20],
		"not arp":   ipv4,
		"short arp": good[:14+10],
	}
	for name, f := range cases {
		if _, err := DecodeARP(f); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func FuzzDecodeARP(f *testing.F) {
	f.Add(reply(f, ourMAC, ourIP, ourIP, 2, false))
	f.Add(reply(f, ourMAC, ourIP, ourIP, 1, true))
	req, _ := EncodeRequest(ourMAC, ourIP, netip.MustParseAddr("10.0.0.1"))
	f.Add(req)
	f.Fuzz(func(t *testing.T, frame []byte) {
		p, err := DecodeARP(frame)
		if err != nil {
			return
		}
		if !p.SenderIP.Is4() || !p.TargetIP.Is4() || len(p.SenderMAC) != 6 {
			t.Fatalf("accepted a malformed packet: %+v", p)
		}
	})
}

func TestParseTargets(t *testing.T) {
	cases := []struct {
		args, excl []string
		force      bool
		n          int
		first      string
		last       string
		err        string
	}{
		{args: []string{"10.0.0.0/24"}, n: 254, first: "10.0.0.1", last: "10.0.0.254"},
		{args: []string{"10.0.0.5"}, n: 1, first: "10.0.0.5", last: "10.0.0.5"},
		{args: []string{"10.0.0.10-20"}, n: 11, first: "10.0.0.10", last: "10.0.0.20"},
		{args: []string{"10.0.0.250-10.0.1.5"}, n: 12, first: "10.0.0.250", last: "10.0.1.5"},
		{args: []string{"10.0.0.1,10.0.0.3", "10.0.0.2"}, n: 3, first: "10.0.0.1", last: "10.0.0.3"},
		{args: []string{"10.0.0.0/30"}, n: 2, first: "10.0.0.1", last: "10.0.0.2"},
		{args: []string{"10.0.0.0/31"}, n: 2, first: "10.0.0.0", last: "10.0.0.1"},
		{args: []string{"10.0.0.0/24"}, excl: []string{"10.0.0.1-100"}, n: 154, first: "10.0.0.101", last: "10.0.0.254"},
		{args: []string{"10.0.0.0/24", "10.0.0.0/25"}, n: 254, first: "10.0.0.1", last: "10.0.0.254"},
		{args: []string{"10.0.0.0/16"}, n: 65534, first: "10.0.0.1", last: "10.0.255.254"},
		{args: []string{"10.0.0.0/15"}, err: "--force"},
		{args: []string{"10.0.0.0/15"}, force: true, n: 131070, first: "10.0.0.1", last: "10.1.255.254"},
		{args: []string{"10.0.0.0/33"}, err: `target "10.0.0.0/33": not a CIDR`},
		{args: []string{"10.0.0.300"}, err: `target "10.0.0.300"`},
		{args: []string{"fe80::/64"}, err: "IPv4 only"},
		{args: []string{"10.0.0.9-3"}, err: "ends before"},
		{args: []string{"10.0.0.1-999"}, err: "0-255"},
		{args: []string{"10.0.0.5"}, excl: []string{"10.0.0.5"}, err: "leave no address"},
		{args: []string{"10.0.0.5"}, excl: []string{"bogus"}, err: `--exclude: target "bogus"`},
		{args: nil, err: "no target"},
	}
	for _, c := range cases {
		got, err := ParseTargets(c.args, c.excl, c.force)
		name := strings.Join(c.args, " ")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != c.n || got[0].String() != c.first || got[len(got)-1].String() != c.last {
			t.Errorf("%s: %d addresses %v..%v", name, len(got), got[0], got[len(got)-1])
		}
	}
}

// fakeClock moves only when something sleeps on it.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
	}
	return nil
}

func TestPacerLatency(t *testing.T) {
	c := &fakeClock{now: time.Unix(1000, 0)}
	p := NewPacer(c, 100*time.Millisecond, 1)
	var at []time.Duration
	start := c.now
	for i := 0; i < 10; i++ {
		n, err := p.Wait(context.Background(), 5)
		if err != nil || n != 1 {
			t.Fatalf("wait %d: n=%d err=%v", i, n, err)
		}
		at = append(at, c.now.Sub(start))
		p.Sent(1)
		// Sending costs time: the schedule must absorb it, not add it.
		c.now = c.now.Add(7 * time.Millisecond)
	}
	for i, d := range at {
		if d != time.Duration(i)*100*time.Millisecond {
			t.Fatalf("request %d at %v, want %v (all: %v)", i, d, time.Duration(i)*100*time.Millisecond, at)
		}
	}
	// A stall of 550 ms: the next request goes at once, but only one, and
	// the one after is a full interval later: no burst to catch up.
	c.now = c.now.Add(550 * time.Millisecond)
	before := c.now
	if n, _ := p.Wait(context.Background(), 5); n != 1 || c.now != before {
		t.Fatalf("after a stall: n=%d, slept %v", n, c.now.Sub(before))
	}
	p.Sent(1)
	p.Wait(context.Background(), 5)
	if gap := c.now.Sub(before); gap != 100*time.Millisecond {
		t.Fatalf("gap after a stall %v", gap)
	}
}

func TestPacerRate(t *testing.T) {
	c := &fakeClock{now: time.Unix(1000, 0)}
	p := NewPacer(c, time.Millisecond, 64) // 1000/s, bursts allowed
	total := 0
	for total < 1000 {
		n, err := p.Wait(context.Background(), 1000-total)
		if err != nil {
			t.Fatal(err)
		}
		p.Sent(n)
		total += n
		c.now = c.now.Add(10 * time.Millisecond) // a slow sender: sends come in bursts
	}
	if elapsed := c.now.Sub(time.Unix(1000, 0)); elapsed < 990*time.Millisecond || elapsed > 1100*time.Millisecond {
		t.Fatalf("1000 requests at 1000/s took %v", elapsed)
	}
	unpaced := NewPacer(c, 0, 64)
	if n, _ := unpaced.Wait(context.Background(), 500); n != 64 {
		t.Fatalf("unpaced: %d", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestMatcher(t *testing.T) {
	a, b, stray := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.2"), netip.MustParseAddr("10.77.0.99")
	macA := net.HardwareAddr{0, 1, 2, 3, 4, 5}
	macX := net.HardwareAddr{0, 1, 2, 3, 4, 6}
	t0 := time.Unix(1000, 0)
	m := newMatcher(ourIP, []netip.Addr{a, b, stray})
	m.sent([]netip.Addr{a, b}, t0)
	pkt := func(op uint16, mac net.HardwareAddr, sender, target netip.Addr) ARPPacket {
		return ARPPacket{Op: op, SenderMAC: mac, SenderIP: sender, TargetIP: target, EtherSrc: mac}
	}
	steps := []struct {
		name string
		p    ARPPacket
		want outcome
	}{
		{"first reply", pkt(2, macA, a, ourIP), newHost},
		{"same MAC again", pkt(2, macA, a, ourIP), duplicate},
		{"another MAC for the same IP", pkt(2, macX, a, ourIP), conflict},
		{"that conflict again", pkt(2, macX, a, ourIP), conflict},
		{"a request, not a reply", pkt(1, macA, b, ourIP), ignored},
		{"gratuitous", pkt(2, macA, b, b), ignored},
		{"reply from an address never asked", pkt(2, macA, stray, ourIP), ignored},
		{"reply from outside the set", pkt(2, macA, netip.MustParseAddr("192.168.1.1"), ourIP), ignored},
	}
	for _, s := range steps {
		got, r := m.handle(s.p, t0.Add(3*time.Millisecond))
		if got != s.want {
			t.Errorf("%s: outcome %d, want %d", s.name, got, s.want)
		}
		if got == newHost && (r.IP != a || r.MAC.String() != macA.String() || r.RTT != 3*time.Millisecond || r.Requests != 1) {
			t.Errorf("%s: result %+v", s.name, r)
		}
	}
	st := m.snapshot()
	if st.Found != 1 || st.Duplicates != 1 || len(st.Conflicts) != 1 || st.Strays != 2 || st.Gratuitous != 1 || st.Ignored != 1 {
		t.Errorf("stats %+v", st)
	}
	if c := st.Conflicts[0]; c.IP != a || strings.Join(c.MACs, " ") != macA.String()+" "+macX.String() {
		t.Errorf("conflict %+v", c)
	}
	if silent := m.silentOnes([]netip.Addr{a, b}); len(silent) != 1 || silent[0] != b || m.allFound() {
		t.Errorf("silent %v, allFound %v", silent, m.allFound())
	}
	// b is asked again 4 ms later; a reply 1 ms after the retry may answer
	// either request: the result says b was asked twice, and it is no
	// sample for the wait (Karn's rule).
	m.sent([]netip.Addr{b}, t0.Add(4*time.Millisecond))
	got, r := m.handle(pkt(2, macX, b, ourIP), t0.Add(5*time.Millisecond))
	if got != newHost || r.Requests != 2 || r.RTT != time.Millisecond || r.FirstRTT != 5*time.Millisecond || r.sample >= 0 {
		t.Errorf("reply after a retry: outcome %d, requests %d, rtt %v, sample %v", got, r.Requests, r.RTT, r.sample)
	}
}

func TestVendors(t *testing.T) {
	v := &Vendors{byPrefix: map[string]string{}}
	csv := "Registry,Assignment,Organization Name,Organization Address\n" +
		"MA-L,00000C,\"Cisco Systems, Inc\",170 WEST TASMAN DRIVE\n" +
		"MA-M,0050C27,Some Small Maker,\n" +
		"MA-S,0050C2712,Tiny Maker,\n"
	if err := v.ReadIEEECSV(strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	for mac, want := range map[string]string{
		"00:00:0c:12:34:56": "Cisco Systems, Inc",
		"00:50:c2:7f:00:01": "Some Small Maker",
		"00:50:c2:71:20:01": "Tiny Maker",
		"00:50:c2:71:30:01": "Some Small Maker",
		"02:77:00:00:00:01": "(locally administered)",
		"00:99:99:00:00:01": "",
	} {
		m, _ := net.ParseMAC(mac)
		if got := v.Lookup(m); got != want {
			t.Errorf("%s: %q, want %q", mac, got, want)
		}
	}
	if err := v.ReadIEEECSV(strings.NewReader("MA-L,XYZ,Foo,\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad assignment: %v", err)
	}
	// The built-in table (searched in place) agrees with the same table
	// read into a map.
	mapped, err := ReadTSV(bytes.NewReader(builtinTable))
	if err != nil {
		t.Fatal(err)
	}
	b := BuiltinVendors()
	if b.Len() != mapped.Len() {
		t.Fatalf("built-in %d prefixes, mapped %d", b.Len(), mapped.Len())
	}
	for k, want := range mapped.byPrefix {
		if got, ok := b.get(k); !ok || got != want {
			t.Fatalf("%s: %q, want %q", k, got, want)
		}
	}
	if b.Len() < 30000 {
		t.Fatalf("built-in table has %d prefixes", b.Len())
	}
	cisco, _ := net.ParseMAC("00:00:0c:00:00:01")
	if !strings.Contains(b.Lookup(cisco), "Cisco") {
		t.Errorf("built-in: 00:00:0c is %q", b.Lookup(cisco))
	}
}

func FuzzReadIEEECSV(f *testing.F) {
	f.Add("Registry,Assignment,Organization Name,Organization Address\nMA-L,00000C,\"Cisco, Inc\",x\n")
	f.Add("MA-M,0050C27,Some,\n")
	f.Fuzz(func(t *testing.T, data string) {
		v := &Vendors{byPrefix: map[string]string{}}
		if err := v.ReadIEEECSV(strings.NewReader(data)); err != nil {
			return
		}
		for k := range v.byPrefix {
			if !validPrefix(k) {
				t.Fatalf("accepted prefix %q", k)
			}
		}
	})
}
