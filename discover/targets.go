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
	var want, drop []span32
	for _, a := range args {
		rs, err := parseArg(a)
		if err != nil {
			return nil, err
		}
		want = append(want, rs...)
	}
	for _, e := range excludes {
		rs, err := parseArg(e)
		if err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
		drop = append(drop, rs...)
	}
	want, drop = merge(want), merge(drop)
	var total uint64
	for _, r := range want {
		total += uint64(r.hi-r.lo) + 1
	}
	if total > MaxAddresses && !force {
		return nil, fmt.Errorf("targets %s: %d addresses is more than a /16 (%d); ARP scans are for one LAN, pass --force if you mean it", strings.Join(args, " "), total, MaxAddresses)
	}
	if total > 1<<24 {
		return nil, fmt.Errorf("targets %s: %d addresses is too many even with --force (at most a /8)", strings.Join(args, " "), total)
	}
	out := make([]netip.Addr, 0, total)
	d := 0
	for _, r := range want {
		for v := uint64(r.lo); v <= uint64(r.hi); v++ {
			for d < len(drop) && uint64(drop[d].hi) < v {
				d++
			}
			if d < len(drop) && uint64(drop[d].lo) <= v {
				v = uint64(drop[d].hi) // skip the excluded span
				continue
			}
			out = append(out, fromU32(uint32(v)))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("targets %s leave no address to scan", strings.Join(args, " "))
	}
	return out, nil
}

// span32 is an inclusive range of IPv4 addresses as numbers.
type span32 struct{ lo, hi uint32 }

// merge sorts ranges and joins the ones that overlap or touch.
func merge(rs []span32) []span32 {
	sort.Slice(rs, func(i, j int) bool { return rs[i].lo < rs[j].lo })
	var out []span32
	for _, r := range rs {
		if n := len(out); n > 0 && uint64(r.lo) <= uint64(out[n-1].hi)+1 {
			if r.hi > out[n-1].hi {
				out[n-1].hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// parseArg parses one argument: targets separated by commas.
func parseArg(arg string) ([]span32, error) {
	var out []span32
	for _, part := range strings.Split(arg, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		first, last, err := parseOne(part)
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", part, err)
		}
		out = append(out, span32{u32(first), u32(last)})
	}
	return out, nil
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
