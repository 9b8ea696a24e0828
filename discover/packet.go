// Package discover finds the live devices of a subnet by ARP, as OCS's
// IPDISCOVER does: one request per address, paced at a latency an admin
// sets or as fast as the link takes, replies collected while sending,
// silent addresses asked again, every answer matched to what was asked.
// Packets are encoded and decoded with gopacket's layers as pure functions
// on bytes; the raw socket (AF_PACKET on Linux, Npcap on Windows) is a
// small Link at the edge.
package discover

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// minFrame is the shortest Ethernet frame without FCS; shorter requests are
// padded, as NICs would.
const minFrame = 60

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// EncodeRequest returns a broadcast ARP request from srcMAC/srcIP asking
// who has dst.
func EncodeRequest(srcMAC net.HardwareAddr, srcIP, dst netip.Addr) ([]byte, error) {
	if len(srcMAC) != 6 || !srcIP.Is4() || !dst.Is4() {
		return nil, fmt.Errorf("arp request: need a 6-byte MAC and IPv4 addresses (got %v, %v, %v)", srcMAC, srcIP, dst)
	}
	s, d := srcIP.As4(), dst.As4()
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: broadcast, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: srcMAC, SourceProtAddress: s[:],
		DstHwAddress: make([]byte, 6), DstProtAddress: d[:],
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, arp); err != nil {
		return nil, err
	}
	frame := buf.Bytes()
	if len(frame) < minFrame {
		frame = append(frame, make([]byte, minFrame-len(frame))...)
	}
	return frame, nil
}

// requestTargetOffset is where the target IP sits in an ARP request frame
// (14 bytes of Ethernet, then 24 bytes of ARP before it).
const requestTargetOffset = 14 + 24

// requestTemplate returns a function that writes the request for dst into
// buf (len ≥ minFrame): a copy of one request encoded by EncodeRequest with
// the target address patched, so a /16 costs a copy per request, not an
// encoding.
func requestTemplate(srcMAC net.HardwareAddr, srcIP netip.Addr) (func(buf []byte, dst netip.Addr) []byte, error) {
	tmpl, err := EncodeRequest(srcMAC, srcIP, netip.IPv4Unspecified())
	if err != nil {
		return nil, err
	}
	return func(buf []byte, dst netip.Addr) []byte {
		f := buf[:len(tmpl)]
		copy(f, tmpl)
		d := dst.As4()
		copy(f[requestTargetOffset:], d[:])
		return f
	}, nil
}

// ARPPacket is a decoded ARP frame: what the matcher needs.
type ARPPacket struct {
	Op uint16
	// SenderMAC and SenderIP are the ARP sender fields.
	SenderMAC net.HardwareAddr
	SenderIP  netip.Addr
	TargetIP  netip.Addr
	// EtherSrc is the Ethernet source, which may differ from SenderMAC
	// (proxies, bridges that rewrite).
	EtherSrc net.HardwareAddr
}

// Errors of DecodeARP.
var (
	ErrNotARP = errors.New("not an ARP frame")
	ErrBadARP = errors.New("ARP frame is not Ethernet/IPv4")
)

// DecodeARP decodes an Ethernet frame (optionally 802.1Q-tagged) carrying
// an Ethernet/IPv4 ARP packet. It never panics on any input.
func DecodeARP(frame []byte) (ARPPacket, error) {
	var (
		eth   layers.Ethernet
		dot1q layers.Dot1Q
		arp   layers.ARP
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &arp)
	p.IgnoreUnsupported = true
	var decoded []gopacket.LayerType
	if err := p.DecodeLayers(frame, &decoded); err != nil {
		return ARPPacket{}, fmt.Errorf("%w: %v", ErrNotARP, err)
	}
	found := false
	for _, t := range decoded {
		if t == layers.LayerTypeARP {
			found = true
		}
	}
	if !found {
		return ARPPacket{}, ErrNotARP
	}
	if arp.AddrType != layers.LinkTypeEthernet || arp.Protocol != layers.EthernetTypeIPv4 ||
		arp.HwAddressSize != 6 || arp.ProtAddressSize != 4 ||
		len(arp.SourceHwAddress) != 6 || len(arp.SourceProtAddress) != 4 || len(arp.DstProtAddress) != 4 {
		return ARPPacket{}, ErrBadARP
	}
	sip, _ := netip.AddrFromSlice(arp.SourceProtAddress)
	tip, _ := netip.AddrFromSlice(arp.DstProtAddress)
	return ARPPacket{
		Op:        arp.Operation,
		SenderMAC: append(net.HardwareAddr(nil), arp.SourceHwAddress...),
		SenderIP:  sip,
		TargetIP:  tip,
		EtherSrc:  append(net.HardwareAddr(nil), eth.SrcMAC...),
	}, nil
}
