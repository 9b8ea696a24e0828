package discover

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Interface is the interface a scan goes out of, with the address it
// speaks from.
type Interface struct {
	Name string
	MAC  net.HardwareAddr
	// Addr is the interface's IPv4 address on the targets' subnet.
	Addr   netip.Prefix
	Index  int
	System net.Interface
}

// ChooseInterface picks the interface whose connected subnet holds the
// targets: the one named by iface, or else the one whose subnet holds the
// first target. ARP only reaches the local link, so every target must be
// on the chosen interface's subnet(s).
func ChooseInterface(iface string, targets []netip.Addr) (*Interface, error) {
	if len(targets) == 0 {
		return nil, errors.New("no targets")
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var cands []net.Interface
	for _, i := range ifs {
		if iface == "" || i.Name == iface {
			cands = append(cands, i)
		}
	}
	if iface != "" && len(cands) == 0 {
		return nil, fmt.Errorf("--iface %s: no such interface", iface)
	}
	var found *Interface
	for _, i := range cands {
		nets := ipv4Nets(i)
		if iface != "" {
			if i.Flags&net.FlagUp == 0 {
				return nil, fmt.Errorf("interface %s is down", i.Name)
			}
			if len(nets) == 0 {
				return nil, fmt.Errorf("interface %s has no IPv4 address", i.Name)
			}
			if i.Flags&net.FlagLoopback != 0 || len(i.HardwareAddr) != 6 {
				return nil, fmt.Errorf("interface %s is not Ethernet: ARP needs an Ethernet interface", i.Name)
			}
		}
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 || len(i.HardwareAddr) != 6 {
			continue
		}
		for _, n := range nets {
			if n.Contains(targets[0]) {
				found = &Interface{Name: i.Name, MAC: i.HardwareAddr, Addr: n, Index: i.Index, System: i}
				break
			}
		}
		if found != nil {
			break
		}
		if iface != "" {
			return nil, fmt.Errorf("target %s is not on a subnet connected to %s (%s): ARP only reaches the local link", targets[0], i.Name, describe(nets))
		}
	}
	if found == nil {
		return nil, fmt.Errorf("target %s is not on any connected subnet: ARP only reaches the local link (use --iface to name the interface)", targets[0])
	}
	nets := ipv4Nets(found.System)
	for _, t := range targets {
		ok := false
		for _, n := range nets {
			if n.Contains(t) {
				ok = true
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("target %s is not on a subnet connected to %s (%s): ARP only reaches the local link", t, found.Name, describe(nets))
		}
	}
	return found, nil
}

func ipv4Nets(i net.Interface) []netip.Prefix {
	addrs, err := i.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP.To4())
		if !ok || ipn.IP.To4() == nil {
			continue
		}
		ones, _ := ipn.Mask.Size()
		out = append(out, netip.PrefixFrom(ip, ones))
	}
	return out
}

func describe(nets []netip.Prefix) string {
	if len(nets) == 0 {
		return "no IPv4 address"
	}
	s := ""
	for i, n := range nets {
		if i > 0 {
			s += ", "
		}
		s += n.String()
	}
	return s
}
