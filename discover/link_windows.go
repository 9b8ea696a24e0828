//go:build windows

package discover

import (
	"errors"
	"fmt"
	"net"
)

// ErrNoRawSocket explains that ARP needs Npcap on Windows.
var ErrNoRawSocket = errors.New("sending ARP on Windows needs Npcap (https://npcap.com) and an administrator")

// pcapLink sends and receives through Npcap's wpcap.dll, loaded at the
// first scan (npcap_windows.go), without cgo.
type pcapLink struct{ h *npcapHandle }

// OpenLink opens the Npcap device that carries the interface's address.
func OpenLink(ifc *Interface) (Link, error) {
	l, err := loadNpcap()
	if err != nil {
		return nil, err
	}
	devs, err := l.devices()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRawSocket, err)
	}
	want := net.IP(ifc.Addr.Addr().AsSlice()).To4()
	for _, d := range devs {
		for _, a := range d.addrs {
			if !net.IP(a[:]).Equal(want) {
				continue
			}
			h, err := l.open(d.name, 1600, 20)
			if err != nil {
				return nil, err
			}
			if err := h.filter("arp"); err != nil {
				h.closeHandle()
				return nil, fmt.Errorf("filter %s: %w", d.name, err)
			}
			return &pcapLink{h: h}, nil
		}
	}
	return nil, fmt.Errorf("no Npcap device has the address %s of %s", ifc.Addr.Addr(), ifc.Name)
}

func (l *pcapLink) Send(frames [][]byte) error {
	for _, f := range frames {
		if err := l.h.send(f); err != nil {
			return err
		}
	}
	return nil
}

func (l *pcapLink) Recv(buf []byte) (int, error) { return l.h.recv(buf) }

func (l *pcapLink) Close() error { l.h.closeHandle(); return nil }
