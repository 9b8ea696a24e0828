package agent

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"muster/discover"
	"muster/inventories"
	"muster/inventories/ocsxml"
)

// ScanFunc runs IPDISCOVER on a network (its network address, as the
// server sends it) with a latency between requests.
type ScanFunc func(ctx context.Context, network string, latency time.Duration) ([]inventories.DiscoveredHost, error)

// ipdiscoverRequest finds the IPDISCOVER option of a PROLOG reply.
func ipdiscoverRequest(pr *ocsxml.PrologReply) (string, time.Duration, bool) {
	for _, o := range pr.Options {
		if o.Name != "IPDISCOVER" || len(o.Params) == 0 {
			continue
		}
		p := o.Params[0]
		ms, err := strconv.Atoi(p.Get("IPDISC_LAT"))
		if err != nil || ms <= 0 {
			ms = 100
		}
		return p.Text, time.Duration(ms) * time.Millisecond, p.Text != ""
	}
	return "", 0, false
}

// ScanNetwork is the default ScanFunc: it finds the interface whose
// network address is network (taking its mask, as the OCS Windows agent
// does; never wider than /16, as OCS) and ARP-scans every address of it
// with muster's scanner, names resolved.
func ScanNetwork(ctx context.Context, network string, latency time.Duration) ([]inventories.DiscoveredHost, error) {
	want, err := netip.ParseAddr(network)
	if err != nil || !want.Is4() {
		return nil, fmt.Errorf("ipdiscover: %q is not an IPv4 network address", network)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var prefix netip.Prefix
	var ifname string
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			ones, _ := ipn.Mask.Size()
			ip, _ := netip.AddrFromSlice(ipn.IP.To4())
			if p := netip.PrefixFrom(ip, ones).Masked(); p.Addr() == want {
				prefix, ifname = p, i.Name
			}
		}
	}
	if ifname == "" {
		return nil, fmt.Errorf("ipdiscover: no interface on network %s", network)
	}
	if prefix.Bits() < 16 {
		return nil, fmt.Errorf("ipdiscover: network %s is wider than /16", prefix)
	}
	targets, err := discover.ParseTargets([]string{prefix.String()}, nil, false)
	if err != nil {
		return nil, err
	}
	ifc, err := discover.ChooseInterface(ifname, targets)
	if err != nil {
		return nil, err
	}
	link, err := discover.OpenLink(ifc)
	if err != nil {
		return nil, err
	}
	defer link.Close()
	sc := discover.NewScanner(link, ifc.MAC, ifc.Addr.Addr(), discover.Options{
		Targets: targets, Latency: latency, Retries: 1, Timeout: time.Second, Names: true, NameTimeout: time.Second,
	})
	out := make(chan discover.Result, 64)
	var hosts []inventories.DiscoveredHost
	done := make(chan struct{})
	go func() {
		for r := range out {
			hosts = append(hosts, inventories.DiscoveredHost{IP: r.IP.String(), MAC: r.MAC.String(), Name: r.Name})
		}
		close(done)
	}()
	_, err = sc.Run(ctx, out)
	<-done
	return hosts, err
}
