package discover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one live device.
type Result struct {
	IP     netip.Addr       `json:"ip"`
	MAC    net.HardwareAddr `json:"-"`
	Vendor string           `json:"vendor"`
	// Name is the reverse-DNS name, empty when there is none.
	Name string `json:"name"`
	// RTT is the time from the last request to this address to its reply.
	// When Requests > 1 it is ambiguous: ARP cannot say which request a
	// reply answers, and a slow reply to an earlier one looks fast.
	RTT time.Duration `json:"-"`
	// Requests is how many requests this address was sent before it
	// answered (1 unless a retry pass asked again).
	Requests int `json:"requests"`
	// FirstRTT is the time from the first request to the reply: with RTT
	// it brackets the reply time when Requests > 1 (equal to RTT else).
	FirstRTT  time.Duration `json:"-"`
	FirstSeen time.Time     `json:"first_seen"`
	// EtherSrc is set when the Ethernet source differs from the ARP sender
	// MAC (a proxy or a bridge that rewrites).
	EtherSrc net.HardwareAddr `json:"-"`
	// sample is the reply time from the first request, for the wait.
	sample time.Duration
}

// Conflict is an IP that answered with more than one MAC.
type Conflict struct {
	IP   netip.Addr `json:"ip"`
	MACs []string   `json:"macs"`
}

// Stats sums up a scan.
type Stats struct {
	Requested  int           `json:"requested"`
	Sent       int           `json:"sent"`
	Found      int           `json:"found"`
	Duplicates int           `json:"duplicates"`
	Conflicts  []Conflict    `json:"conflicts"`
	Strays     int           `json:"strays"`
	Gratuitous int           `json:"gratuitous"`
	Ignored    int           `json:"ignored"`
	Elapsed    time.Duration `json:"-"`
	// FinalWait is how long the scan waited for late replies after its
	// last request: rttK × the slowest reply time seen, longer while
	// replies still came, within [rttFloor, Timeout].
	FinalWait time.Duration `json:"final_wait_ns"`
}

// Link sends and receives raw Ethernet frames on one interface.
type Link interface {
	// Send transmits whole frames.
	Send(frames [][]byte) error
	// Recv reads the next ARP frame into buf. It returns errRecvTimeout
	// after a short while without one, so callers can check for the end.
	Recv(buf []byte) (int, error)
	Close() error
}

// errRecvTimeout is what Link.Recv returns when nothing arrived for a while.
var errRecvTimeout = errors.New("receive timeout")

// Options shape a scan.
type Options struct {
	// Targets are the addresses to ask (see ParseTargets).
	Targets []netip.Addr
	// Latency is the gap between two requests (OCS's IPDISCOVER_LATENCY).
	// Zero means as fast as Rate allows.
	Latency time.Duration
	// Rate caps requests per second when Latency is zero (0: no cap).
	Rate int
	// Retries is how many more times a silent address is asked.
	Retries int
	// Timeout is the ceiling of the final wait for replies after the last
	// request (and of the wait between unpaced passes): the scanner waits
	// 2 × the slowest reply time it has seen, at least 10 ms, longer while
	// replies still come in, and the whole Timeout only while no reply came
	// at all.
	Timeout time.Duration
	// Names resolves each host's name by reverse DNS.
	Names bool
	// NameTimeout bounds one lookup; NameWorkers bounds lookups at once.
	NameTimeout time.Duration
	NameWorkers int
	// Vendors names the maker of each MAC (nil: the built-in table, loaded
	// at the first reply).
	Vendors *Vendors
	Clock   Clock
}

// Scanner scans from one interface.
type Scanner struct {
	link   Link
	srcMAC net.HardwareAddr
	srcIP  netip.Addr
	opts   Options

	sent  atomic.Int64
	found atomic.Int64
	rtt   rttEstimator
	// finalWait is the final wait used (nanoseconds), for Stats.
	finalWait atomic.Int64
}

// NewScanner returns a scanner sending from srcMAC/srcIP over link.
func NewScanner(link Link, srcMAC net.HardwareAddr, srcIP netip.Addr, o Options) *Scanner {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.NameTimeout <= 0 {
		o.NameTimeout = time.Second
	}
	if o.NameWorkers <= 0 {
		o.NameWorkers = 32
	}
	return &Scanner{link: link, srcMAC: srcMAC, srcIP: srcIP, opts: o}
}

// Progress returns requests sent and hosts found so far.
func (s *Scanner) Progress() (sent, found int) { return int(s.sent.Load()), int(s.found.Load()) }

// Run scans and sends each live device to out as soon as it is known (after
// its name lookup), then closes out and returns the totals.
func (s *Scanner) Run(ctx context.Context, out chan<- Result) (Stats, error) {
	defer close(out)
	start := s.opts.Clock.Now()
	m := newMatcher(s.srcIP, s.opts.Targets)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	found := make(chan Result, 256)
	var recvErr error
	var wg sync.WaitGroup
	wg.Add(1)
	// Once sending and the final wait are over, the receiver reads what
	// the link still holds (a busy machine may not have read the replies
	// that came in time) until it runs dry, within drainLimit.
	drain := make(chan struct{})
	go func() { // receive while sending
		defer wg.Done()
		defer close(found)
		recvErr = s.receive(ctx, m, found, drain)
	}()
	var namesWG sync.WaitGroup
	namesWG.Add(1)
	go func() {
		defer namesWG.Done()
		s.resolve(ctx, found, out)
	}()

	sendErr := s.send(ctx, m)
	close(drain)
	stop := time.AfterFunc(drainLimit, cancel)
	wg.Wait()
	stop.Stop()
	cancel()
	namesWG.Wait()
	st := m.snapshot()
	st.Elapsed = s.opts.Clock.Now().Sub(start)
	st.FinalWait = time.Duration(s.finalWait.Load())
	if sendErr != nil && !errors.Is(sendErr, context.Canceled) {
		return st, sendErr
	}
	if recvErr != nil {
		return st, recvErr
	}
	return st, nil
}

// batch is how many frames go to the link in one call when not paced.
const batch = 64

// send asks every target, then asks silent ones again Retries times, then
// waits for the last replies as long as the replies say (at most Timeout,
// less if every target answered).
func (s *Scanner) send(ctx context.Context, m *matcher) error {
	o := s.opts
	interval, burst := o.Latency, 1
	if interval <= 0 && o.Rate > 0 {
		interval, burst = time.Second/time.Duration(o.Rate), batch
	}
	if interval <= 0 {
		burst = batch
	}
	pacer := NewPacer(o.Clock, interval, burst)
	encode, err := requestTemplate(s.srcMAC, s.srcIP)
	if err != nil {
		return err
	}
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, minFrame)
	}
	frames := make([][]byte, 0, batch)
	asked := make([]netip.Addr, 0, batch)
	// lastAsked is when the last request was marked sent: replies still
	// due are due from then on, whatever the Send call cost after it.
	var lastAsked time.Time
	pass := func(todo []netip.Addr) error {
		for i := 0; i < len(todo); {
			n, err := pacer.Wait(ctx, len(todo)-i)
			if err != nil {
				return err
			}
			end := min(i+n, len(todo))
			// Skip those that answered since this pass began.
			asked = m.silentOnes(append(asked[:0], todo[i:end]...))
			i = end
			frames = frames[:0]
			for j, a := range asked {
				frames = append(frames, encode(bufs[j], a))
			}
			if len(frames) == 0 {
				continue
			}
			// Mark before sending: on a fast link the reply can be read
			// before Send returns, and must not look like a stray.
			lastAsked = o.Clock.Now()
			m.sent(asked, lastAsked)
			if err := s.link.Send(frames); err != nil {
				return fmt.Errorf("send ARP requests: %w", err)
			}
			pacer.Sent(len(frames))
			s.sent.Add(int64(len(frames)))
		}
		return nil
	}
	if err := pass(o.Targets); err != nil {
		return err
	}
	for r := 0; r < o.Retries && !m.allFound(); r++ {
		if o.Latency <= 0 {
			// Unpaced, the pass took milliseconds: let the replies come in
			// before asking again.
			if err := s.settle(ctx, m); err != nil {
				return err
			}
		}
		if err := pass(m.silentOnes(append([]netip.Addr(nil), o.Targets...))); err != nil {
			return err
		}
	}
	// Final wait: as long as the reply times seen say late replies can
	// still come (re-estimated as they arrive), and while replies still
	// trickle in (a busy host answers late: the wait lasts until they
	// have been quiet for the slowest reply time), never past the ceiling;
	// cut short once everything answered.
	last := lastAsked
	for !m.allFound() {
		wait := s.rtt.wait(o.Timeout)
		now := o.Clock.Now()
		done := !now.Before(last.Add(wait))
		if quiet := s.rtt.quiet(); done && quiet > 0 {
			if r := m.quietSince(); r.After(last) && now.Sub(r) < quiet {
				done = false // replies are still coming
			}
		}
		if done || !now.Before(last.Add(o.Timeout)) {
			s.finalWait.Store(int64(now.Sub(last)))
			break
		}
		if err := o.Clock.Sleep(ctx, time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// Before an unpaced retry pass the scanner waits until replies have been
// quiet for quietGap (a LAN answers within a millisecond, but a burst of
// broadcasts takes the hosts a while to work through), at most half the
// final wait. Until a first reply has come, silence says nothing (the link
// may be slow), so it waits for one, or for half the ceiling.
const quietGap = 5 * time.Millisecond

func (s *Scanner) settle(ctx context.Context, m *matcher) error {
	o := s.opts
	start := o.Clock.Now()
	for !m.allFound() {
		limit := start.Add(max(quietGap, s.rtt.wait(o.Timeout/2)))
		now := o.Clock.Now()
		last := m.quietSince()
		if !now.Before(limit) {
			return nil
		}
		if !last.IsZero() {
			if last.Before(start) {
				last = start
			}
			if now.Sub(last) >= quietGap {
				return nil
			}
		}
		if err := o.Clock.Sleep(ctx, time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// drainLimit bounds the reading of what the link holds after the scan.
const drainLimit = 2 * time.Second

func (s *Scanner) receive(ctx context.Context, m *matcher, found chan<- Result, drain <-chan struct{}) error {
	buf := make([]byte, 1600)
	for ctx.Err() == nil {
		n, err := s.link.Recv(buf)
		if errors.Is(err, errRecvTimeout) {
			select {
			case <-drain:
				return nil // the link ran dry after the scan
			default:
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("receive: %w", err)
		}
		p, err := DecodeARP(buf[:n])
		if err != nil {
			continue
		}
		if kind, r := m.handle(p, s.opts.Clock.Now()); kind == newHost {
			s.found.Add(1)
			s.rtt.add(r.sample)
			vendors := s.opts.Vendors
			if vendors == nil {
				vendors = BuiltinVendors()
			}
			r.Vendor = vendors.Lookup(r.MAC)
			select {
			case found <- r:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}

// resolve looks names up, NameWorkers at a time, and passes results on.
func (s *Scanner) resolve(ctx context.Context, in <-chan Result, out chan<- Result) {
	if !s.opts.Names {
		for r := range in {
			out <- r
		}
		return
	}
	sem := make(chan struct{}, s.opts.NameWorkers)
	var wg sync.WaitGroup
	for r := range in {
		sem <- struct{}{}
		wg.Add(1)
		go func(r Result) {
			defer wg.Done()
			defer func() { <-sem }()
			// Names are looked up even after the scan's context ends: the
			// host was found, and each lookup has its own deadline.
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.NameTimeout)
			defer cancel()
			if names, err := net.DefaultResolver.LookupAddr(lctx, r.IP.String()); err == nil && len(names) > 0 {
				r.Name = trimDot(names[0])
			}
			out <- r
		}(r)
	}
	wg.Wait()
}

func trimDot(s string) string {
	if n := len(s); n > 0 && s[n-1] == '.' {
		return s[:n-1]
	}
	return s
}

// MarshalJSON writes a result with its MAC as text and its RTT in
// milliseconds.
func (r Result) MarshalJSON() ([]byte, error) {
	type out struct {
		IP         string    `json:"ip"`
		MAC        string    `json:"mac"`
		Vendor     string    `json:"vendor"`
		Name       string    `json:"name"`
		RTTms      float64   `json:"rtt_ms"`
		FirstRTTms float64   `json:"first_rtt_ms"`
		Requests   int       `json:"requests"`
		FirstSeen  time.Time `json:"first_seen"`
		EtherSrc   string    `json:"ether_src,omitempty"`
	}
	o := out{IP: r.IP.String(), MAC: r.MAC.String(), Vendor: r.Vendor, Name: r.Name,
		RTTms: float64(r.RTT.Microseconds()) / 1000, FirstRTTms: float64(r.FirstRTT.Microseconds()) / 1000, Requests: r.Requests, FirstSeen: r.FirstSeen.UTC()}
	if r.EtherSrc != nil {
		o.EtherSrc = r.EtherSrc.String()
	}
	return json.Marshal(o)
}
