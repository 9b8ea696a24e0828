//go:build windows

package discover

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/google/gopacket/pcap"
)

// ErrNoRawSocket explains that ARP needs Npcap on Windows.
var ErrNoRawSocket = errors.New("sending ARP on Windows needs Npcap (https://npcap.com) and an administrator")

// pcapLink sends and receives through Npcap's wpcap.dll, which gopacket
// loads at run time without cgo.
type pcapLink struct{ h *pcap.Handle }

// OpenLink opens the Npcap device that carries the interface's address.
func OpenLink(ifc *Interface) (Link, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRawSocket, err)
	}
	for _, d := range devs {
		for _, a := range d.Addresses {
			if a.IP.Equal(net.IP(ifc.Addr.Addr().AsSlice())) {
				h, err := pcap.OpenLive(d.Name, 1600, false, 20*time.Millisecond)
				if err != nil {
					return nil, fmt.Errorf("open %s: %w", d.Name, err)
				}
				if err := h.SetBPFFilter("arp"); err != nil {
					h.Close()
					return nil, fmt.Errorf("filter %s: %w", d.Name, err)
				}
				return &pcapLink{h: h}, nil
			}
		}
	}
	return nil, fmt.Errorf("no Npcap device has the address %s of %s", ifc.Addr.Addr(), ifc.Name)
}

func (l *pcapLink) Send(frames [][]byte) error {
	for _, f := range frames {
		if err := l.h.WritePacketData(f); err != nil {
			return err
		}
	}
	return nil
}

func (l *pcapLink) Recv(buf []byte) (int, error) {
	data, _, err := l.h.ReadPacketData()
	if errors.Is(err, pcap.NextErrorTimeoutExpired) {
		return 0, errRecvTimeout
	}
	if err != nil {
		return 0, err
	}
	return copy(buf, data), nil
}

func (l *pcapLink) Close() error { l.h.Close(); return nil }
