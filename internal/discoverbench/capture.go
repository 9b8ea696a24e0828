//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"muster/discover"
	"muster/internal/testbed"
)

// capture records when each ARP request leaves the operator's interfaces.
type capture struct {
	fd    int
	mu    sync.Mutex
	times []time.Time
	done  chan struct{}
	wg    sync.WaitGroup
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func startCapture(b *testbed.Bed) (*capture, error) {
	c := &capture{done: make(chan struct{})}
	err := b.InOperator(func() error {
		// Outgoing frames reach only ETH_P_ALL taps.
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		tv := unix.NsecToTimeval((20 * time.Millisecond).Nanoseconds())
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		// Kernel timestamps: when the frame was queued, not when we read it.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		c.fd = fd
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		buf := make([]byte, 1600)
		oob := make([]byte, 128)
		for {
			select {
			case <-c.done:
				return
			default:
			}
			n, oobn, _, from, err := unix.Recvmsg(c.fd, buf, oob, 0)
			if err != nil {
				continue
			}
			ll, ok := from.(*unix.SockaddrLinklayer)
			if !ok || ll.Pkttype != unix.PACKET_OUTGOING {
				continue
			}
			if p, err := discover.DecodeARP(buf[:n]); err != nil || p.Op != 1 {
				continue
			}
			at := time.Now()
			if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, m := range msgs {
					if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= 16 {
						// struct timespec: two native 64-bit words on linux/amd64 and arm64.
						sec, nsec := binary.NativeEndian.Uint64(m.Data), binary.NativeEndian.Uint64(m.Data[8:])
						at = time.Unix(int64(sec), int64(nsec))
					}
				}
			}
			c.mu.Lock()
			c.times = append(c.times, at)
			c.mu.Unlock()
		}
	}()
	return c, nil
}

// stop ends the capture and returns the request times, in order.
func (c *capture) stop() []time.Time {
	close(c.done)
	c.wg.Wait()
	unix.Close(c.fd)
	c.mu.Lock()
	defer c.mu.Unlock()
	t := slices.Clone(c.times)
	slices.SortFunc(t, func(a, b time.Time) int { return a.Compare(b) })
	return t
}

// pacing is how far the gaps between requests strayed from the latency.
type pacing struct {
	gaps          int
	p50, p99, max time.Duration // of |gap − latency|
	meanGap       time.Duration
}

func measurePacing(runs [][]time.Time, latency time.Duration) pacing {
	var errs []time.Duration
	var sum time.Duration
	for _, times := range runs {
		for i := 1; i < len(times); i++ {
			g := times[i].Sub(times[i-1])
			sum += g
			e := g - latency
			if e < 0 {
				e = -e
			}
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		return pacing{}
	}
	slices.Sort(errs)
	n := len(errs)
	return pacing{gaps: n, p50: errs[n/2], p99: errs[min(n-1, n*99/100)], max: errs[n-1], meanGap: sum / time.Duration(n)}
}
