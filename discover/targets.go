package discover

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// MaxAddresses is the most addresses a scan takes without Force: a /16, the
// largest subnet OCS ever scans.
const MaxAddresses = 1 << 16

// ParseTargets turns command-line targets into the sorted, de-duplicated
// IPv4 addresses to ask, minus excludes. A target is an address
// (10.0.0.5), a CIDR (10.0.0.0/24: its host addresses), a range
// (10.0.0.10-10.0.0.50, or 10.0.0.10-50), or a comma-separated list of
// those. Errors name the argument. More than MaxAddresses addresses need
// force.
func ParseTargets(args, excludes []string, force bool) ([]netip.Addr, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no target: give a CIDR, a range or addresses")
	}
	want := map[netip.Addr]bool{}
	for _, a := range args {
		if err := expand(a, want, force); err != nil {
			return nil, err
		}
	}
	drop := map[netip.Addr]bool{}
	for _, e := range excludes {
		if err := expand(e, drop, true); err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
	}
	out := make([]netip.Addr, 0, len(want))
	for a := range want {
		if !drop[a] {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("targets %s leave no address to scan", strings.Join(args, " "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out, nil
}

func expand(arg string, into map[netip.Addr]bool, force bool) error {
	for _, part := range strings.Split(arg, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		first, last, err := parseOne(part)
		if err != nil {
			return fmt.Errorf("target %q: %w", part, err)
		}
		n := span(first, last)
		if n+uint64(len(into)) > MaxAddresses && !force {
			return fmt.Errorf("target %q: %d addresses is more than a /16 (%d); ARP scans are for one LAN, pass --force if you mean it", part, n, MaxAddresses)
		}
		if n > 1<<24 {
			return fmt.Errorf("target %q: %d addresses is too many even with --force (at most a /8)", part, n)
		}
		for a := first; ; a = a.Next() {
			into[a] = true
			if a == last {
				break
			}
		}
	}
	return nil
}

func span(first, last netip.Addr) uint64 {
	return uint64(u32(last)-u32(first)) + 1
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func fromU32(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// parseOne returns the first and last address of one target.
func parseOne(s string) (netip.Addr, netip.Addr, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Addr{}, netip.Addr{}, fmt.Errorf("not a CIDR (want a.b.c.d/n)")
		}
		if !p.Addr().Is4() {
			return netip.Addr{}, netip.Addr{}, fmt.Errorf("ARP is IPv4 only")
		}
		if p.Bits() < 8 {
			return netip.Addr{}, netip.Addr{}, fmt.Errorf("/%d is far wider than any LAN", p.Bits())
		}
		p = p.Masked()
		lo := u32(p.Addr())
		hi := lo | (1<<(32-p.Bits()) - 1)
		if p.Bits() <= 30 { // skip network and broadcast
			lo, hi = lo+1, hi-1
		}
		return fromU32(lo), fromU32(hi), nil
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		first, err := netip.ParseAddr(strings.TrimSpace(s[:i]))
		if err != nil || !first.Is4() {
			return netip.Addr{}, netip.Addr{}, fmt.Errorf("range start is not an IPv4 address")
		}
		end := strings.TrimSpace(s[i+1:])
		var last netip.Addr
		if n, err := strconv.Atoi(end); err == nil && !strings.Contains(end, ".") {
			if n < 0 || n > 255 {
				return netip.Addr{}, netip.Addr{}, fmt.Errorf("range end %d is not 0-255", n)
			}
			b := first.As4()
			b[3] = byte(n)
			last = netip.AddrFrom4(b)
		} else if last, err = netip.ParseAddr(end); err != nil || !last.Is4() {
			return netip.Addr{}, netip.Addr{}, fmt.Errorf("range end is not an IPv4 address or last octet")
		}
		if last.Less(first) {
			return netip.Addr{}, netip.Addr{}, fmt.Errorf("range ends before it starts")
		}
		return first, last, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, netip.Addr{}, fmt.Errorf("not an address, CIDR or range")
	}
	if !a.Is4() {
		return netip.Addr{}, netip.Addr{}, fmt.Errorf("ARP is IPv4 only")
	}
	return a, a, nil
}
