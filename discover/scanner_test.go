package discover

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// memLink is an in-memory LAN: hosts answer inside Send, before it returns,
// the worst case for matching (a veth is nearly that fast).
type memLink struct {
	mu      sync.Mutex
	hosts   map[netip.Addr][]net.HardwareAddr // several MACs: a conflict
	dropN   map[netip.Addr]int                // ignore this many requests first
	replies chan []byte
	sent    int
}

func newMemLink() *memLink {
	return &memLink{hosts: map[netip.Addr][]net.HardwareAddr{}, dropN: map[netip.Addr]int{}, replies: make(chan []byte, 10000)}
}

func (l *memLink) Send(frames [][]byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range frames {
		l.sent++
		p, err := DecodeARP(f)
		if err != nil || p.Op != 1 {
			return errors.New("memLink: not an ARP request")
		}
		if l.dropN[p.TargetIP] > 0 {
			l.dropN[p.TargetIP]--
			continue
		}
		for _, mac := range l.hosts[p.TargetIP] {
			l.replies <- replyFrame(mac, p.TargetIP, p.SenderIP)
		}
	}
	return nil
}

func replyFrame(mac net.HardwareAddr, ip, to netip.Addr) []byte {
	f, _ := EncodeRequest(mac, ip, to)
	f[21] = 2 // opcode: reply
	return f
}

func (l *memLink) Recv(buf []byte) (int, error) {
	select {
	case f := <-l.replies:
		return copy(buf, f), nil
	case <-time.After(5 * time.Millisecond):
		return 0, errRecvTimeout
	}
}

func (l *memLink) Close() error { return nil }

func scan(t *testing.T, l *memLink, o Options) ([]Result, Stats) {
	t.Helper()
	return scanLink(t, l, o)
}

func scanLink(t *testing.T, l Link, o Options) ([]Result, Stats) {
	t.Helper()
	out := make(chan Result, 1000)
	var got []Result
	done := make(chan struct{})
	go func() {
		for r := range out {
			got = append(got, r)
		}
		close(done)
	}()
	st, err := NewScanner(l, ourMAC, ourIP, o).Run(context.Background(), out)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return got, st
}

func TestScannerFindsEveryHost(t *testing.T) {
	targets, _ := ParseTargets([]string{"10.77.0.0/24"}, nil, false)
	l := newMemLink()
	for i := 1; i <= 50; i++ {
		l.hosts[targets[i*5-1]] = []net.HardwareAddr{{0, 0x0c, 0x29, 0, 0, byte(i)}}
	}
	got, st := scan(t, l, Options{Targets: targets, Retries: 1, Timeout: 20 * time.Millisecond})
	if len(got) != 50 || st.Found != 50 || st.Strays != 0 {
		t.Fatalf("found %d (stats %+v)", len(got), st)
	}
	// Asked once each, silent ones twice.
	if st.Sent != 254+204 {
		t.Fatalf("sent %d requests, want %d", st.Sent, 254+204)
	}
	for _, r := range got {
		if l.hosts[r.IP][0].String() != r.MAC.String() || r.Vendor == "" {
			t.Errorf("%s: %s vendor %q", r.IP, r.MAC, r.Vendor)
		}
	}
}

func TestScannerRetriesAndConflicts(t *testing.T) {
	targets, _ := ParseTargets([]string{"10.77.0.1-10"}, nil, false)
	shy, twice := targets[2], targets[5]
	mk := func() *memLink {
		l := newMemLink()
		l.hosts[shy] = []net.HardwareAddr{{2, 0, 0, 0, 0, 1}}
		l.hosts[twice] = []net.HardwareAddr{{2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 3}}
		l.dropN[shy] = 1 // loses the first request
		return l
	}
	got, _ := scan(t, mk(), Options{Targets: targets, Retries: 0, Timeout: 20 * time.Millisecond})
	if len(got) != 1 || got[0].IP != twice {
		t.Fatalf("without retries: %v", got)
	}
	got, st := scan(t, mk(), Options{Targets: targets, Retries: 1, Timeout: 20 * time.Millisecond})
	if len(got) != 2 {
		t.Fatalf("with a retry: %v", got)
	}
	if len(st.Conflicts) != 1 || st.Conflicts[0].IP != twice || len(st.Conflicts[0].MACs) != 2 {
		t.Fatalf("conflicts %+v", st.Conflicts)
	}
}

func TestScannerPacedSendsOnePerLatency(t *testing.T) {
	targets, _ := ParseTargets([]string{"10.77.0.1-20"}, nil, false)
	l := newMemLink()
	start := time.Now()
	_, st := scan(t, l, Options{Targets: targets, Latency: 5 * time.Millisecond, Timeout: 10 * time.Millisecond})
	// 20 requests, 19 gaps of 5 ms, then the 10 ms wait; nothing answered,
	// so one silent pass more with Retries 0 is not made.
	if st.Sent != 20 {
		t.Fatalf("sent %d", st.Sent)
	}
	if took := time.Since(start); took < 95*time.Millisecond+10*time.Millisecond {
		t.Fatalf("20 requests at 5 ms took only %v", took)
	}
}
