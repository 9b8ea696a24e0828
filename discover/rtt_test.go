package discover

import (
	"net"
	"testing"
	"time"
)

func TestRTTEstimatorWait(t *testing.T) {
	var e rttEstimator
	if w := e.wait(time.Second); w != time.Second {
		t.Errorf("no reply yet: wait %v, want the ceiling", w)
	}
	for i := 0; i < 200; i++ {
		e.add(100 * time.Microsecond)
	}
	if w := e.wait(time.Second); w != rttFloor {
		t.Errorf("fast LAN: wait %v, want the floor %v", w, rttFloor)
	}
	e.add(20 * time.Millisecond) // one host behind a slow hop
	if w := e.wait(time.Second); w != 40*time.Millisecond {
		t.Errorf("slow host: wait %v, want 2 × 20 ms", w)
	}
	e.add(5 * time.Millisecond)
	if w := e.wait(time.Second); w != 40*time.Millisecond {
		t.Errorf("a faster reply after it: wait %v, still 2 × 20 ms", w)
	}
	if w := e.wait(30 * time.Millisecond); w != 30*time.Millisecond {
		t.Errorf("ceiling: wait %v", w)
	}
}

// delayLink answers after a delay, like a host behind a slow hop.
type delayLink struct {
	*memLink
	delay time.Duration
	out   chan []byte
}

func (l *delayLink) Send(frames [][]byte) error {
	if err := l.memLink.Send(frames); err != nil {
		return err
	}
	for {
		select {
		case f := <-l.memLink.replies:
			time.AfterFunc(l.delay, func() { l.out <- f })
		default:
			return nil
		}
	}
}

func (l *delayLink) Recv(buf []byte) (int, error) {
	select {
	case f := <-l.out:
		return copy(buf, f), nil
	case <-time.After(5 * time.Millisecond):
		return 0, errRecvTimeout
	}
}

// The final wait follows the replies: the floor on a fast LAN, 2 × the
// reply time behind a slow hop, the whole --timeout only when nothing
// answered; and every host is found either way.
func TestScannerFinalWaitFollowsReplies(t *testing.T) {
	targets, _ := ParseTargets([]string{"10.77.0.0/24"}, nil, false)
	hosts := func(l *memLink) {
		for i := 1; i <= 40; i++ {
			l.hosts[targets[i*6-1]] = []net.HardwareAddr{{0, 0x0c, 0x29, 0, 0, byte(i)}}
		}
	}
	fast := newMemLink()
	hosts(fast)
	got, st := scan(t, fast, Options{Targets: targets, Retries: 1, Timeout: 2 * time.Second})
	// The in-memory link answers at once, but a busy machine may take
	// its time to schedule the receiver: the exact floor is asserted by
	// TestRTTEstimatorWait, and here only that the wait stays far below
	// the ceiling.
	fastWait := st.FinalWait
	if len(got) != 40 || fastWait < rttFloor || fastWait >= 500*time.Millisecond {
		t.Errorf("fast LAN: found %d, final wait %v (want %v..500ms)", len(got), fastWait, rttFloor)
	}
	slow := &delayLink{memLink: newMemLink(), delay: 30 * time.Millisecond, out: make(chan []byte, 1000)}
	hosts(slow.memLink)
	got, st = scanLink(t, slow, Options{Targets: targets, Retries: 1, Timeout: 2 * time.Second})
	if len(got) != 40 || st.FinalWait < 2*30*time.Millisecond || st.FinalWait >= 2*time.Second {
		t.Errorf("slow hop: found %d, final wait %v (want ≥ 60 ms, < 2 s)", len(got), st.FinalWait)
	}
	empty := newMemLink()
	_, st = scan(t, empty, Options{Targets: targets[:20], Timeout: 40 * time.Millisecond})
	if st.FinalWait < 40*time.Millisecond {
		t.Errorf("nobody answered: final wait %v, want the whole timeout (40ms)", st.FinalWait)
	}
}
