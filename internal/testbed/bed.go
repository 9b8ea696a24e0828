//go:build linux

package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Prefix starts the name of everything a bed creates (namespaces, /etc/netns
// directories, state files), so DownAll finds leftovers of crashed runs.
const Prefix = "mtb"

// Mode is how a LAN's hosts are made.
type Mode string

// Host modes.
const (
	// ModeNS gives every host its own namespace: realistic, runs services,
	// takes faults; practical up to about 1000 hosts on a 2-core machine.
	ModeNS Mode = "ns"
	// ModeRewrite answers for every host from one namespace and rewrites
	// MACs on the bridge: thousands of hosts with distinct MACs, ARP and
	// IP only (no per-host services or netem).
	ModeRewrite Mode = "rewrite"
)

// LAN describes one subnet of a bed.
type LAN struct {
	// Prefix is the subnet (default 10.77.0.0/24). Only private (10/8,
	// 172.16/12, 192.168/16) and benchmark (198.18/15) prefixes are accepted.
	Prefix netip.Prefix
	// Hosts is how many hosts to make.
	Hosts int
	// Mode is ModeNS (default) or ModeRewrite.
	Mode Mode
	// Spread places hosts evenly over the prefix instead of from .1 up.
	Spread bool
	// SSH runs OpenSSH's sshd on every host (ModeNS only).
	SSH bool
}

// Options describe a bed.
type Options struct {
	// Name is the bed's name; it must start with Prefix. Empty means a
	// fresh unique name, so tests can run in parallel.
	Name string
	LANs []LAN
	// Dir holds the bed's files (keys, sshd configs, host homes). Empty
	// means a new directory under os.TempDir().
	Dir string
}

// Host is the ground truth about one host.
type Host struct {
	// Index is the host's number within its LAN, from 1.
	Index int    `json:"index"`
	LAN   int    `json:"lan"`
	IP    string `json:"ip"`
	MAC   string `json:"mac"`
	Name  string `json:"name"`
	// Netns is the host's namespace (ModeNS) or the LAN's responder
	// namespace (ModeRewrite).
	Netns string `json:"netns"`
	// Home is the test user's home on this host (ModeNS with SSH).
	Home string `json:"home,omitempty"`
}

// Bed is a running test LAN.
type Bed struct {
	Name string
	Dir  string
	// Operator is the namespace where muster and test clients run.
	Operator string
	// OperatorIPs is the operator's address on each LAN, by LAN index.
	OperatorIPs []string
	LANs        []LAN
	hosts       []Host
	bridgeNS    string

	mu     sync.Mutex
	procs  []*os.Process
	down   map[string]bool
	loss   map[string]float64 // by host IP
	relays map[string]*relay  // delay relays, by host IP
	stop   []func()
	ssh    *sshConfig
}

var allowed = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
}

func checkPrefix(p netip.Prefix) error {
	if !p.Addr().Is4() {
		return fmt.Errorf("prefix %s: only IPv4 is supported", p)
	}
	if p.Bits() > 30 || p.Bits() < 8 {
		return fmt.Errorf("prefix %s: length must be between /8 and /30", p)
	}
	for _, a := range allowed {
		if a.Bits() <= p.Bits() && a.Contains(p.Addr()) {
			return nil
		}
	}
	return fmt.Errorf("prefix %s: only private (10/8, 172.16/12, 192.168/16) or 198.18/15 test prefixes are allowed", p)
}

// NewName returns a fresh bed name.
func NewName() string {
	b := make([]byte, 3)
	rand.Read(b)
	return Prefix + hex.EncodeToString(b)
}

// hostAddrs places k hosts in p: from .1 up, or spread evenly. The last
// usable address is the operator's.
func hostAddrs(p netip.Prefix, k int, spread bool) ([]netip.Addr, error) {
	size := 1 << (32 - p.Bits())
	usable := size - 3 // network, broadcast, operator
	if k > usable {
		return nil, fmt.Errorf("prefix %s: %d hosts do not fit (at most %d)", p, k, usable)
	}
	base := p.Masked().Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	step := 1
	if spread && k > 0 {
		step = usable / k
	}
	out := make([]netip.Addr, k)
	for i := 0; i < k; i++ {
		v := start + uint32(1+i*step)
		out[i] = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return out, nil
}

func operatorAddr(p netip.Prefix) netip.Addr {
	base := p.Masked().Addr().As4()
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	v += uint32(1<<(32-p.Bits())) - 2
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// hostMAC is 02:77:LL:HH:HH:HH, locally administered, unique in the bed.
func hostMAC(lan, i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x77, byte(lan), byte(i >> 16), byte(i >> 8), byte(i)}
}

func operatorMAC(lan int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x77, byte(lan), 0xff, 0xff, 0xfe}
}

func hostName(lan, i int) string { return fmt.Sprintf("host-%04d.l%d.lan", i, lan) }

// Up builds a bed. On error, whatever was built is torn down.
func Up(ctx context.Context, o Options) (*Bed, error) {
	if o.Name == "" {
		o.Name = NewName()
	}
	if !strings.HasPrefix(o.Name, Prefix) || len(o.Name) > 12 {
		return nil, fmt.Errorf("bed name %q must start with %q and have at most 12 characters", o.Name, Prefix)
	}
	if len(o.LANs) == 0 {
		o.LANs = []LAN{{Hosts: 10}}
	}
	if len(o.LANs) > 8 {
		return nil, errors.New("at most 8 LANs per bed")
	}
	for i := range o.LANs {
		l := &o.LANs[i]
		if !l.Prefix.IsValid() {
			l.Prefix = netip.MustParsePrefix(fmt.Sprintf("10.77.%d.0/24", i))
		}
		if l.Mode == "" {
			l.Mode = ModeNS
		}
		if err := checkPrefix(l.Prefix); err != nil {
			return nil, err
		}
		if l.Mode != ModeNS && l.Mode != ModeRewrite {
			return nil, fmt.Errorf("LAN %d: unknown mode %q (ns or rewrite)", i, l.Mode)
		}
		if l.SSH && l.Mode != ModeNS {
			return nil, fmt.Errorf("LAN %d: sshd needs mode ns", i)
		}
		if l.Mode == ModeNS && l.Hosts > 1000 {
			return nil, fmt.Errorf("LAN %d: %d host namespaces: one namespace per host stops scaling near 1000; use mode rewrite", i, l.Hosts)
		}
		for j := 0; j < i; j++ {
			if o.LANs[j].Prefix.Overlaps(l.Prefix) {
				return nil, fmt.Errorf("LAN %d (%s) overlaps LAN %d (%s)", i, l.Prefix, j, o.LANs[j].Prefix)
			}
		}
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", o.Name+"-")
		if err != nil {
			return nil, err
		}
		o.Dir = d
	}
	b := &Bed{Name: o.Name, Dir: o.Dir, LANs: o.LANs, Operator: o.Name + "-op", bridgeNS: o.Name + "-br", down: map[string]bool{}}
	register(b)
	if err := b.build(ctx); err != nil {
		b.Down()
		return nil, fmt.Errorf("testbed %s: %w", b.Name, err)
	}
	if err := b.saveState(); err != nil {
		b.Down()
		return nil, err
	}
	return b, nil
}

func (b *Bed) build(ctx context.Context) error {
	br, err := newNS(b.bridgeNS, quietSysctls)
	if err != nil {
		return err
	}
	defer br.Close()
	op, err := newNS(b.Operator, quietSysctls)
	if err != nil {
		return err
	}
	defer op.Close()
	var hostsFile strings.Builder
	hostsFile.WriteString("127.0.0.1\tlocalhost\n")
	for li, lan := range b.LANs {
		bridge := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("br%d", li), TxQLen: 10000}, MulticastSnooping: boolPtr(false)}
		if err := br.LinkAdd(bridge); err != nil {
			return fmt.Errorf("LAN %d: bridge: %w", li, err)
		}
		if err := br.LinkSetUp(bridge); err != nil {
			return err
		}
		// The operator's leg on this LAN.
		opIP := operatorAddr(lan.Prefix)
		b.OperatorIPs = append(b.OperatorIPs, opIP.String())
		if err := b.attach(br, op, b.Operator, bridge, fmt.Sprintf("l%dop", li), fmt.Sprintf("eth%d", li), operatorMAC(li), []netip.Prefix{netip.PrefixFrom(opIP, lan.Prefix.Bits())}); err != nil {
			return fmt.Errorf("LAN %d: operator: %w", li, err)
		}
		addrs, err := hostAddrs(lan.Prefix, lan.Hosts, lan.Spread)
		if err != nil {
			return err
		}
		switch lan.Mode {
		case ModeNS:
			err = b.buildNSHosts(ctx, br, bridge, li, lan, addrs)
		case ModeRewrite:
			err = b.buildRewriteHosts(br, bridge, li, lan, addrs)
		}
		if err != nil {
			return fmt.Errorf("LAN %d: %w", li, err)
		}
	}
	for _, h := range b.hosts {
		fmt.Fprintf(&hostsFile, "%s\t%s %s\n", h.IP, h.Name, strings.SplitN(h.Name, ".", 2)[0])
	}
	// Inside the operator and every host (via `ip netns exec`), names
	// resolve from this hosts file only; resolv.conf points at loopback,
	// so no query ever leaves the bed.
	etc := map[string]string{
		"hosts":       hostsFile.String(),
		"resolv.conf": "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
	}
	seen := map[string]bool{b.Operator: true}
	if err := writeEtc(b.Operator, etc); err != nil {
		return err
	}
	for _, h := range b.hosts {
		if !seen[h.Netns] {
			seen[h.Netns] = true
			if err := writeEtc(h.Netns, etc); err != nil {
				return err
			}
		}
	}
	return b.startSSH(ctx)
}

func boolPtr(v bool) *bool { return &v }

// attach makes a veth pair: end brName on the bridge, end peerName in the
// namespace of peer with the given MAC and addresses, both up.
func (b *Bed) attach(br, peer *netlink.Handle, peerNS string, bridge *netlink.Bridge, brName, peerName string, mac net.HardwareAddr, addrs []netip.Prefix) error {
	ns, err := netns.GetFromName(peerNS)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", peerNS, err)
	}
	defer ns.Close()
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: brName, MasterIndex: bridge.Index, TxQLen: 1000},
		PeerName:         peerName,
		PeerHardwareAddr: mac,
		PeerNamespace:    netlink.NsFd(int(ns)),
	}
	if err := br.LinkAdd(veth); err != nil {
		return fmt.Errorf("veth %s: %w", brName, err)
	}
	if err := br.LinkSetUp(veth); err != nil {
		return err
	}
	link, err := peer.LinkByName(peerName)
	if err != nil {
		return fmt.Errorf("veth peer %s: %w", peerName, err)
	}
	for _, a := range addrs {
		ipn := &net.IPNet{IP: a.Addr().AsSlice(), Mask: net.CIDRMask(a.Bits(), 32)}
		if err := peer.AddrAdd(link, &netlink.Addr{IPNet: ipn}); err != nil {
			return fmt.Errorf("address %s on %s: %w", a, peerName, err)
		}
	}
	return peer.LinkSetUp(link)
}

func (b *Bed) buildNSHosts(ctx context.Context, br *netlink.Handle, bridge *netlink.Bridge, li int, lan LAN, addrs []netip.Addr) error {
	for i, a := range addrs {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx := i + 1
		name := fmt.Sprintf("%s-l%dh%04d", b.Name, li, idx)
		h, err := newNS(name, quietSysctls)
		if err != nil {
			return err
		}
		err = b.attach(br, h, name, bridge, fmt.Sprintf("l%dh%04d", li, idx), "eth0", hostMAC(li, idx), []netip.Prefix{netip.PrefixFrom(a, lan.Prefix.Bits())})
		h.Close()
		if err != nil {
			return fmt.Errorf("host %d: %w", idx, err)
		}
		b.hosts = append(b.hosts, Host{Index: idx, LAN: li, IP: a.String(), MAC: hostMAC(li, idx).String(), Name: hostName(li, idx), Netns: name})
	}
	return nil
}

// Hosts returns the ground truth: every host of every LAN.
func (b *Bed) Hosts() []Host { return append([]Host(nil), b.hosts...) }

// LANHosts returns the hosts of LAN li.
func (b *Bed) LANHosts(li int) []Host {
	var out []Host
	for _, h := range b.hosts {
		if h.LAN == li {
			out = append(out, h)
		}
	}
	return out
}

// Host returns host idx (from 1) of LAN li.
func (b *Bed) Host(li, idx int) (Host, error) {
	for _, h := range b.hosts {
		if h.LAN == li && h.Index == idx {
			return h, nil
		}
	}
	return Host{}, fmt.Errorf("testbed %s: no host %d on LAN %d", b.Name, idx, li)
}

// Down tears the bed down: processes, namespaces, files. It is safe to call
// more than once and after a partial Up.
func (b *Bed) Down() error {
	b.mu.Lock()
	for _, s := range b.stop {
		s()
	}
	b.stop = nil
	for _, p := range b.procs {
		p.Kill()
	}
	b.procs = nil
	b.mu.Unlock()
	var errs []error
	for _, n := range listNS(b.Name + "-") {
		if err := deleteNS(n); err != nil {
			errs = append(errs, err)
		}
	}
	os.RemoveAll(b.Dir)
	os.Remove(statePath(b.Name))
	unregister(b)
	return errors.Join(errs...)
}

// DownAll removes every bed on the machine, including what crashed runs
// left behind. It returns the names of the namespaces it removed.
func DownAll() ([]string, error) { return downMatching(Prefix) }

// downMatching removes every bed whose name starts with prefix.
func downMatching(prefix string) ([]string, error) {
	names := listNS(prefix)
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		if err := deleteNS(n); err != nil {
			errs = append(errs, err)
		}
	}
	states, _ := filepath.Glob(filepath.Join(stateDir, prefix+"*.json"))
	for _, s := range states {
		if st, err := loadState(s); err == nil && st.Dir != "" && strings.Contains(filepath.Base(st.Dir), Prefix) {
			os.RemoveAll(st.Dir)
		}
		os.Remove(s)
	}
	leftovers, _ := filepath.Glob(filepath.Join("/etc/netns", prefix+"*"))
	for _, d := range leftovers {
		os.RemoveAll(d)
	}
	return names, errors.Join(errs...)
}

// writeEtc writes files into /etc/netns/NS, which `ip netns exec NS`
// bind-mounts over /etc for the processes it starts.
func writeEtc(ns string, files map[string]string) error {
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, body := range files {
		mode := os.FileMode(0o644)
		if name == "shadow" {
			mode = 0o640
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), mode); err != nil {
			return err
		}
	}
	return nil
}

// waitFor polls cond every 20 ms until it is true or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}
