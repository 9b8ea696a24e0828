//go:build linux

package discover

import (
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrNoRawSocket explains that ARP needs a raw socket.
var ErrNoRawSocket = errors.New("sending ARP needs a raw socket: run as root or give the binary the CAP_NET_RAW capability (sudo setcap cap_net_raw+ep $(command -v muster))")

// packetLink is an AF_PACKET socket bound to one interface for ARP frames
// only: no cgo, no libpcap.
type packetLink struct {
	fd      int
	ifindex int
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// OpenLink opens a raw ARP link on the interface.
func OpenLink(ifc *Interface) (Link, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return nil, ErrNoRawSocket
	}
	if err != nil {
		return nil, fmt.Errorf("open raw socket: %w", err)
	}
	l := &packetLink{fd: fd, ifindex: ifc.Index}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifc.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind raw socket to %s: %w", ifc.Name, err)
	}
	// Our own requests are not wanted back (Linux 4.20+; pkttype is
	// checked too).
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	// Room for a burst of replies; FORCE works as root, else the plain one.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<20)
	}
	// Recv returns at least this often, so the end of a scan is noticed.
	tv := unix.NsecToTimeval((5 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return l, nil
}

// Send hands the frames to the kernel with sendmmsg, many per system call
// (a /16 is 65534 requests).
func (l *packetLink) Send(frames [][]byte) error {
	iovs := make([]unix.Iovec, len(frames))
	msgs := make([]unix.Mmsghdr, len(frames))
	for i, f := range frames {
		iovs[i].Base = &f[0]
		iovs[i].SetLen(len(f))
		msgs[i].Hdr.Iov = &iovs[i]
		msgs[i].Hdr.SetIovlen(1)
	}
	for done := 0; done < len(msgs); {
		n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(l.fd),
			uintptr(unsafe.Pointer(&msgs[done])), uintptr(len(msgs)-done), 0, 0, 0)
		switch {
		case errno == unix.ENOBUFS || errno == unix.EAGAIN || errno == unix.EINTR:
			time.Sleep(100 * time.Microsecond) // the queue is full: the link takes no more
		case errno != 0:
			return errno
		default:
			done += int(n)
		}
	}
	runtime.KeepAlive(frames)
	runtime.KeepAlive(iovs)
	return nil
}

func (l *packetLink) Recv(buf []byte) (int, error) {
	for {
		n, from, err := unix.Recvfrom(l.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EINTR) {
			return 0, errRecvTimeout
		}
		if err != nil {
			return 0, err
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		return n, nil
	}
}

func (l *packetLink) Close() error { return unix.Close(l.fd) }
