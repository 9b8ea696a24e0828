//go:build linux

package testbed

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// relay forwards one host's frames between its bridge port and the bridge
// through a second veth pair, holding the host's frames for a fixed delay:
// netem's delay, in user space, for kernels built without netem.
//
//	host eth0 ═ lXhNNNN ⇄ relay ⇄ dXhNNNN ═ eXhNNNN ─ bridge
type relay struct {
	stop    atomic.Bool
	wg      sync.WaitGroup
	portFD  int
	innerFD int
	name    string // dXhNNNN
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// rawSocket opens an AF_PACKET socket on ifname in the current namespace.
func rawSocket(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// pump copies frames received on from to to, after delay. Frames the
// kernel sent out of from (PACKET_OUTGOING) are ours and skipped.
func (r *relay) pump(from, to int, delay time.Duration) {
	defer r.wg.Done()
	type frame struct {
		at   time.Time
		data []byte
	}
	queue := make(chan frame, 4096)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for f := range queue {
			if d := time.Until(f.at); d > 0 {
				time.Sleep(d)
			}
			unix.Write(to, f.data)
		}
	}()
	defer close(queue)
	buf := make([]byte, 65536)
	for !r.stop.Load() {
		n, sa, err := unix.Recvfrom(from, buf, 0)
		if err != nil {
			continue // timeout: check stop
		}
		if ll, ok := sa.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		f := frame{at: time.Now().Add(delay), data: append([]byte(nil), buf[:n]...)}
		select {
		case queue <- f:
		default: // queue full: the frame is lost, as on a congested link
		}
	}
}

// SetDelay delays every frame host h sends by d (mode ns), like netem
// delay on its interface; 0 clears it.
func (b *Bed) SetDelay(h Host, d time.Duration) error {
	if b.mode(h) != ModeNS {
		return fmt.Errorf("testbed: delay on %s needs mode ns", h.Name)
	}
	if d < 0 || d > 10*time.Second {
		return fmt.Errorf("testbed: delay %v: want 0..10s", d)
	}
	b.mu.Lock()
	old := b.relays[h.IP]
	delete(b.relays, h.IP)
	b.mu.Unlock()
	if old != nil {
		if err := b.stopRelay(h, old); err != nil {
			return err
		}
	}
	if d == 0 {
		return b.reloadLoss()
	}
	r, err := b.startRelay(h, d)
	if err != nil {
		return fmt.Errorf("testbed: delay on %s: %w", h.Name, err)
	}
	b.mu.Lock()
	if b.relays == nil {
		b.relays = map[string]*relay{}
	}
	b.relays[h.IP] = r
	b.mu.Unlock()
	return b.reloadLoss()
}

// offloadOff makes an interface hand out finished frames: a relay reads
// frames raw and sends them on, so checksums must be complete and segments
// no larger than the MTU.
func offloadOff(ns, ifname string) error {
	out, err := nsCommand(ns, "ethtool", "-K", ifname, "tx", "off", "tso", "off", "gso", "off", "gro", "off").CombinedOutput()
	if err != nil {
		return fmt.Errorf("ethtool -K %s (is ethtool installed?): %v: %s", ifname, err, out)
	}
	return nil
}

func (b *Bed) startRelay(h Host, d time.Duration) (*relay, error) {
	if err := offloadOff(h.Netns, "eth0"); err != nil {
		return nil, err
	}
	if err := offloadOff(b.Operator, fmt.Sprintf("eth%d", h.LAN)); err != nil {
		return nil, err
	}
	br, err := handleAt(b.bridgeNS)
	if err != nil {
		return nil, err
	}
	defer br.Close()
	port, err := br.LinkByName(fmt.Sprintf("l%dh%04d", h.LAN, h.Index))
	if err != nil {
		return nil, err
	}
	bridge, err := br.LinkByName(fmt.Sprintf("br%d", h.LAN))
	if err != nil {
		return nil, err
	}
	r := &relay{name: fmt.Sprintf("d%dh%04d", h.LAN, h.Index)}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: r.name, TxQLen: 1000}, PeerName: fmt.Sprintf("e%dh%04d", h.LAN, h.Index)}
	if err := br.LinkAdd(veth); err != nil {
		return nil, err
	}
	outer, err := br.LinkByName(veth.PeerName)
	if err != nil {
		return nil, err
	}
	inner, err := br.LinkByName(r.name)
	if err != nil {
		return nil, err
	}
	for _, step := range []func() error{
		func() error { return br.LinkSetNoMaster(port) },
		func() error { return br.LinkSetMaster(outer, bridge) },
		func() error { return br.LinkSetUp(outer) },
		func() error { return br.LinkSetUp(inner) },
	} {
		if err := step(); err != nil {
			br.LinkDel(inner)
			br.LinkSetMaster(port, bridge)
			return nil, err
		}
	}
	err = inNS(b.bridgeNS, func() error {
		var err error
		if r.portFD, err = rawSocket(port.Attrs().Index); err != nil {
			return err
		}
		r.innerFD, err = rawSocket(inner.Attrs().Index)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.wg.Add(2)
	go r.pump(r.portFD, r.innerFD, d) // host → LAN, delayed
	go r.pump(r.innerFD, r.portFD, 0) // LAN → host
	b.mu.Lock()
	b.stop = append(b.stop, func() { r.stop.Store(true) })
	b.mu.Unlock()
	return r, nil
}

func (b *Bed) stopRelay(h Host, r *relay) error {
	r.stop.Store(true)
	r.wg.Wait()
	unix.Close(r.portFD)
	unix.Close(r.innerFD)
	br, err := handleAt(b.bridgeNS)
	if err != nil {
		return err
	}
	defer br.Close()
	if inner, err := br.LinkByName(r.name); err == nil {
		br.LinkDel(inner)
	}
	port, err := br.LinkByName(fmt.Sprintf("l%dh%04d", h.LAN, h.Index))
	if err != nil {
		return err
	}
	bridge, err := br.LinkByName(fmt.Sprintf("br%d", h.LAN))
	if err != nil {
		return err
	}
	return br.LinkSetMaster(port, bridge)
}
