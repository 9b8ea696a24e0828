//go:build linux

package testbed

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
)

func (b *Bed) mode(h Host) Mode { return b.LANs[h.LAN].Mode }

// SetDown takes host h off the LAN (it answers nothing, not even ARP) or
// brings it back.
func (b *Bed) SetDown(h Host, down bool) error {
	nh, err := handleAt(h.Netns)
	if err != nil {
		return err
	}
	defer nh.Close()
	link, err := nh.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("testbed: %s: %w", h.Name, err)
	}
	switch b.mode(h) {
	case ModeNS:
		if down {
			err = nh.LinkSetDown(link)
		} else {
			err = nh.LinkSetUp(link)
		}
	case ModeRewrite:
		// One responder answers for every host: remove the address.
		a := netip.MustParseAddr(h.IP)
		ipn := &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(b.LANs[h.LAN].Prefix.Bits(), 32)}
		if down {
			err = nh.AddrDel(link, &netlink.Addr{IPNet: ipn})
		} else {
			err = nh.AddrAdd(link, &netlink.Addr{IPNet: ipn})
		}
	}
	if err != nil {
		return fmt.Errorf("testbed: set %s down=%v: %w", h.Name, down, err)
	}
	b.mu.Lock()
	b.down[h.IP] = down
	b.mu.Unlock()
	return nil
}

// IsDown reports whether host h was set down.
func (b *Bed) IsDown(h Host) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.down[h.IP]
}

// SetLoss makes host h lose a fraction (0..1) of the frames it sends, ARP
// replies included, like netem loss on its interface; 0 clears it. It works
// in both modes: an nftables rule in the bed's bridge namespace drops a
// random share of the host's frames (this machine's kernel has no netem).
func (b *Bed) SetLoss(h Host, loss float64) error {
	if loss < 0 || loss > 1 {
		return fmt.Errorf("testbed: loss %v: want 0..1", loss)
	}
	b.mu.Lock()
	if b.loss == nil {
		b.loss = map[string]float64{}
	}
	if loss == 0 {
		delete(b.loss, h.IP)
	} else {
		b.loss[h.IP] = loss
	}
	b.mu.Unlock()
	if err := b.reloadLoss(); err != nil {
		return fmt.Errorf("testbed: loss on %s: %w", h.Name, err)
	}
	return nil
}

// reloadLoss applies b.loss to the bridge, on whichever port each host's
// frames enter it (its own, or its delay relay's).
func (b *Bed) reloadLoss() error {
	b.mu.Lock()
	ruleset := b.lossRuleset()
	b.mu.Unlock()
	cmd := nsCommand(b.bridgeNS, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %v: %s", err, out)
	}
	return nil
}

// lossRuleset rebuilds the faults table from b.loss, atomically.
func (b *Bed) lossRuleset() string {
	var r strings.Builder
	r.WriteString("table bridge faults {}\nflush table bridge faults\ntable bridge faults {\n")
	r.WriteString("\tchain pre {\n\t\ttype filter hook prerouting priority -350; policy accept;\n")
	ips := make([]string, 0, len(b.loss))
	for ip := range b.loss {
		ips = append(ips, ip)
	}
	sort.Strings(ips)
	for _, ip := range ips {
		h := b.hostByIP(ip)
		keep := fmt.Sprintf("numgen random mod 10000 < %d drop", int(b.loss[ip]*10000+0.5))
		switch b.LANs[h.LAN].Mode {
		case ModeNS:
			port := "l"
			if b.relays[ip] != nil {
				port = "e"
			}
			fmt.Fprintf(&r, "\t\tiifname \"%s%dh%04d\" %s\n", port, h.LAN, h.Index, keep)
		case ModeRewrite:
			port := fmt.Sprintf("l%drsp", h.LAN)
			fmt.Fprintf(&r, "\t\tiifname \"%s\" ether type arp arp saddr ip %s %s\n", port, ip, keep)
			fmt.Fprintf(&r, "\t\tiifname \"%s\" ether type ip ip saddr %s %s\n", port, ip, keep)
		}
	}
	r.WriteString("\t}\n}\n")
	return r.String()
}

func (b *Bed) hostByIP(ip string) Host {
	for _, h := range b.hosts {
		if h.IP == ip {
			return h
		}
	}
	return Host{}
}

// Flap takes host h down for downFor, then up for upFor, cycles times (at
// most 1000), in the background. It stops early when ctx ends or Down runs,
// and always leaves the host up.
func (b *Bed) Flap(ctx context.Context, h Host, downFor, upFor time.Duration, cycles int) {
	if cycles > 1000 {
		cycles = 1000
	}
	ctx, cancel := context.WithCancel(ctx)
	b.mu.Lock()
	b.stop = append(b.stop, cancel)
	b.mu.Unlock()
	go func() {
		defer b.SetDown(h, false)
		for i := 0; i < cycles; i++ {
			if b.SetDown(h, true) != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(downFor):
			}
			if b.SetDown(h, false) != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(upFor):
			}
		}
	}()
}

// Tarpit makes host h accept TCP connections on port and never answer:
// the handshake completes (the kernel does it) but nothing is ever read or
// written. It lasts until Down.
func (b *Bed) Tarpit(h Host, port int) error {
	var ln net.Listener
	err := inNS(h.Netns, func() error {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(h.IP, strconv.Itoa(port)))
		return err
	})
	if err != nil {
		return fmt.Errorf("testbed: tarpit on %s:%d: %w", h.Name, port, err)
	}
	b.mu.Lock()
	b.stop = append(b.stop, func() { ln.Close() })
	b.mu.Unlock()
	return nil
}
