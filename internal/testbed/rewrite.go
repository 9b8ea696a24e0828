//go:build linux

package testbed

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
)

func responderMAC(lan int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x77, byte(lan), 0xff, 0xff, 0xfd}
}

// buildRewriteHosts is the cheap mode: one responder namespace holds every
// host address, and an nftables table in the bridge namespace rewrites the
// source MAC (Ethernet and ARP sender) of its frames to the host's own MAC,
// and frames sent to a host's MAC back to the responder's.
func (b *Bed) buildRewriteHosts(br *netlink.Handle, bridge *netlink.Bridge, li int, lan LAN, addrs []netip.Addr) error {
	name := fmt.Sprintf("%s-l%drsp", b.Name, li)
	rsp, err := newNS(name, quietSysctls)
	if err != nil {
		return err
	}
	defer rsp.Close()
	port := fmt.Sprintf("l%drsp", li)
	if err := b.attach(br, rsp, name, bridge, port, "eth0", responderMAC(li), nil); err != nil {
		return err
	}
	link, err := rsp.LinkByName("eth0")
	if err != nil {
		return err
	}
	var elems, macs strings.Builder
	for i, a := range addrs {
		idx := i + 1
		ipn := &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(lan.Prefix.Bits(), 32)}
		if err := rsp.AddrAdd(link, &netlink.Addr{IPNet: ipn}); err != nil {
			return fmt.Errorf("address %s: %w", a, err)
		}
		mac := hostMAC(li, idx)
		if i > 0 {
			elems.WriteString(",\n")
			macs.WriteString(",\n")
		}
		fmt.Fprintf(&elems, "\t\t\t%s : %s", a, mac)
		fmt.Fprintf(&macs, "\t\t\t%s", mac)
		b.hosts = append(b.hosts, Host{Index: idx, LAN: li, IP: a.String(), MAC: mac.String(), Name: hostName(li, idx), Netns: name})
	}
	if len(addrs) == 0 {
		return nil
	}
	ruleset := fmt.Sprintf(`table bridge %[1]s {
	map ip2mac {
		type ipv4_addr : ether_addr
		elements = {
%[2]s
		}
	}
	set hostmacs {
		type ether_addr
		elements = {
%[3]s
		}
	}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "%[4]s" ether type arp arp saddr ether set arp saddr ip map @ip2mac
		iifname "%[4]s" ether type arp ether saddr set arp saddr ip map @ip2mac
		iifname "%[4]s" ether type ip ether saddr set ip saddr map @ip2mac
		ether daddr @hostmacs ether daddr set %[5]s
	}
}
`, fmt.Sprintf("lan%d", li), elems.String(), macs.String(), port, responderMAC(li))
	file := filepath.Join(b.Dir, fmt.Sprintf("lan%d.nft", li))
	if err := os.WriteFile(file, []byte(ruleset), 0o644); err != nil {
		return err
	}
	if out, err := nsCommand(b.bridgeNS, "nft", "-f", file).CombinedOutput(); err != nil {
		return fmt.Errorf("nft (is nftables installed?): %v: %s", err, out)
	}
	return nil
}
