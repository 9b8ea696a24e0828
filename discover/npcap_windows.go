//go:build windows

package discover

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// npcap is the part of wpcap.dll (Npcap, or WinPcap) that ARP scanning
// needs. The DLL is loaded on the first scan, never at start: a wpcap.dll
// that lacks a function (Wine's builtin one, an old WinPcap) makes that
// scan fail with a message, and leaves every other command alone.
type npcap struct {
	findAllDevs, freeAllDevs, openLive, close      *windows.Proc
	sendPacket, nextEx, compile, setFilter, geterr *windows.Proc
	freeCode                                       *windows.Proc
}

var (
	npcapOnce sync.Once
	npcapLib  *npcap
	npcapErr  error
)

// loadNpcap loads wpcap.dll from Npcap's folder, else from the system's
// search path, and resolves every function before any is called.
func loadNpcap() (*npcap, error) {
	npcapOnce.Do(func() {
		var dll *windows.DLL
		var err error
		sys, _ := windows.GetSystemDirectory()
		for _, p := range []string{filepath.Join(sys, "Npcap", "wpcap.dll"), "wpcap.dll"} {
			if filepath.IsAbs(p) {
				if _, serr := os.Stat(p); serr != nil {
					continue
				}
			}
			if dll, err = windows.LoadDLL(p); err == nil {
				break
			}
		}
		if dll == nil {
			if err == nil {
				err = errors.New("wpcap.dll not found")
			}
			npcapErr = fmt.Errorf("%w: %v", ErrNoRawSocket, err)
			return
		}
		l := &npcap{}
		for _, f := range []struct {
			name string
			dst  **windows.Proc
		}{
			{"pcap_findalldevs", &l.findAllDevs}, {"pcap_freealldevs", &l.freeAllDevs},
			{"pcap_open_live", &l.openLive}, {"pcap_close", &l.close},
			{"pcap_sendpacket", &l.sendPacket}, {"pcap_next_ex", &l.nextEx},
			{"pcap_compile", &l.compile}, {"pcap_setfilter", &l.setFilter},
			{"pcap_freecode", &l.freeCode}, {"pcap_geterr", &l.geterr},
		} {
			p, err := dll.FindProc(f.name)
			if err != nil {
				npcapErr = fmt.Errorf("%w: %s has no %s (install Npcap)", ErrNoRawSocket, dll.Name, f.name)
				return
			}
			*f.dst = p
		}
		npcapLib = l
	})
	return npcapLib, npcapErr
}

// The C structures of pcap.h, as laid out on 64-bit Windows.
type pcapIf struct {
	next        *pcapIf
	name        *byte
	description *byte
	addresses   *pcapAddr
	flags       uint32
}

type pcapAddr struct {
	next                              *pcapAddr
	addr, netmask, broadaddr, dstaddr *syscall.RawSockaddrAny
}

// pcapPkthdr: struct timeval holds two 32-bit longs on Windows.
type pcapPkthdr struct {
	sec, usec      int32
	caplen, length uint32
}

type bpfProgram struct {
	len   uint32
	insns uintptr
}

const pcapErrbufSize = 256

func cstring(p *byte) string {
	if p == nil {
		return ""
	}
	var b []byte
	for ptr := unsafe.Pointer(p); *(*byte)(ptr) != 0 && len(b) < 4096; ptr = unsafe.Add(ptr, 1) {
		b = append(b, *(*byte)(ptr))
	}
	return string(b)
}

// npcapDevice is one capture device and its IPv4 addresses.
type npcapDevice struct {
	name  string
	addrs [][4]byte
}

func (l *npcap) devices() ([]npcapDevice, error) {
	var list *pcapIf
	errbuf := make([]byte, pcapErrbufSize)
	if r, _, _ := l.findAllDevs.Call(uintptr(unsafe.Pointer(&list)), uintptr(unsafe.Pointer(&errbuf[0]))); int32(r) != 0 {
		return nil, fmt.Errorf("pcap_findalldevs: %s", cstring(&errbuf[0]))
	}
	defer l.freeAllDevs.Call(uintptr(unsafe.Pointer(list)))
	var out []npcapDevice
	for d, n := list, 0; d != nil && n < 1024; d, n = d.next, n+1 {
		dev := npcapDevice{name: cstring(d.name)}
		for a, m := d.addresses, 0; a != nil && m < 1024; a, m = a.next, m+1 {
			if a.addr != nil && a.addr.Addr.Family == windows.AF_INET {
				sin := (*syscall.RawSockaddrInet4)(unsafe.Pointer(a.addr))
				dev.addrs = append(dev.addrs, sin.Addr)
			}
		}
		out = append(out, dev)
	}
	return out, nil
}

// npcapHandle is an open capture device.
type npcapHandle struct {
	l *npcap
	p uintptr
}

func (l *npcap) open(name string, snaplen, timeoutMS int) (*npcapHandle, error) {
	dev, err := windows.BytePtrFromString(name)
	if err != nil {
		return nil, err
	}
	errbuf := make([]byte, pcapErrbufSize)
	p, _, _ := l.openLive.Call(uintptr(unsafe.Pointer(dev)), uintptr(snaplen), 0, uintptr(timeoutMS), uintptr(unsafe.Pointer(&errbuf[0])))
	if p == 0 {
		return nil, fmt.Errorf("pcap_open_live %s: %s", name, cstring(&errbuf[0]))
	}
	return &npcapHandle{l: l, p: p}, nil
}

func (h *npcapHandle) err(op string) error {
	r, _, _ := h.l.geterr.Call(h.p)
	// r points into the pcap handle's own buffer, not Go memory.
	return fmt.Errorf("%s: %s", op, cstring(*(**byte)(unsafe.Pointer(&r))))
}

func (h *npcapHandle) filter(expr string) error {
	s, err := windows.BytePtrFromString(expr)
	if err != nil {
		return err
	}
	var prog bpfProgram
	const netmaskUnknown = 0xffffffff
	if r, _, _ := h.l.compile.Call(h.p, uintptr(unsafe.Pointer(&prog)), uintptr(unsafe.Pointer(s)), 1, netmaskUnknown); int32(r) != 0 {
		return h.err("pcap_compile")
	}
	defer h.l.freeCode.Call(uintptr(unsafe.Pointer(&prog)))
	if r, _, _ := h.l.setFilter.Call(h.p, uintptr(unsafe.Pointer(&prog))); int32(r) != 0 {
		return h.err("pcap_setfilter")
	}
	return nil
}

func (h *npcapHandle) send(frame []byte) error {
	if len(frame) == 0 {
		return nil
	}
	if r, _, _ := h.l.sendPacket.Call(h.p, uintptr(unsafe.Pointer(&frame[0])), uintptr(len(frame))); int32(r) != 0 {
		return h.err("pcap_sendpacket")
	}
	return nil
}

// recv copies the next frame into buf; it returns errRecvTimeout when the
// read timeout passed with nothing.
func (h *npcapHandle) recv(buf []byte) (int, error) {
	var hdr *pcapPkthdr
	var data *byte
	r, _, _ := h.l.nextEx.Call(h.p, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data)))
	switch int32(r) {
	case 1:
		n := int(hdr.caplen)
		if n > len(buf) {
			n = len(buf)
		}
		return copy(buf, unsafe.Slice(data, n)), nil
	case 0:
		return 0, errRecvTimeout
	default:
		return 0, h.err("pcap_next_ex")
	}
}

func (h *npcapHandle) closeHandle() { h.l.close.Call(h.p) }
