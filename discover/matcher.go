package discover

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// matcher pairs replies with the requests that were sent: by ARP sender IP
// against the requested set. The first MAC wins; a second MAC for the same
// IP is a conflict; replies from addresses never asked, and gratuitous ARP,
// are ignored (and counted).
type matcher struct {
	mu      sync.Mutex
	ourIP   netip.Addr
	addrs   []netip.Addr // sorted; targets[i] is addrs[i]
	targets []target
	stats   Stats
	// lastReply is when the last reply of any kind was taken.
	lastReply time.Time
}

type target struct {
	firstSent, lastSent time.Time
	sends               int
	mac                 net.HardwareAddr
	found               bool
	conflict            []string
}

func newMatcher(ourIP netip.Addr, addrs []netip.Addr) *matcher {
	sorted := append([]netip.Addr(nil), addrs...)
	slices.SortFunc(sorted, func(a, b netip.Addr) int { return a.Compare(b) })
	m := &matcher{ourIP: ourIP, addrs: sorted, targets: make([]target, len(sorted))}
	m.stats.Requested = len(sorted)
	return m
}

func (m *matcher) target(a netip.Addr) *target {
	if i, ok := slices.BinarySearchFunc(m.addrs, a, func(x, y netip.Addr) int { return x.Compare(y) }); ok {
		return &m.targets[i]
	}
	return nil
}

// sent records requests to addrs at t.
func (m *matcher) sent(addrs []netip.Addr, t time.Time) {
	m.mu.Lock()
	for _, a := range addrs {
		if tg := m.target(a); tg != nil {
			tg.lastSent = t
			if tg.firstSent.IsZero() {
				tg.firstSent = t
			}
			tg.sends++
		}
	}
	m.stats.Sent += len(addrs)
	m.mu.Unlock()
}

// silentOnes keeps the addresses of addrs that have not answered, in place.
func (m *matcher) silentOnes(addrs []netip.Addr) []netip.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := addrs[:0]
	for _, a := range addrs {
		if tg := m.target(a); tg != nil && !tg.found {
			out = append(out, a)
		}
	}
	return out
}

// outcome of one received packet.
type outcome int

const (
	ignored outcome = iota
	newHost
	duplicate
	conflict
)

// handle classifies one decoded ARP packet received at t. For a new host it
// returns the result to report.
func (m *matcher) handle(p ARPPacket, t time.Time) (outcome, Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastReply = t
	switch {
	case p.Op != 2: // requests (including probes and announcements)
		m.stats.Ignored++
		return ignored, Result{}
	case p.SenderIP == p.TargetIP || !p.SenderIP.IsValid():
		m.stats.Gratuitous++
		return ignored, Result{}
	}
	tg := m.target(p.SenderIP)
	if tg == nil || tg.sends == 0 {
		m.stats.Strays++
		return ignored, Result{}
	}
	if tg.found {
		if tg.mac.String() == p.SenderMAC.String() {
			m.stats.Duplicates++
			return duplicate, Result{}
		}
		for _, c := range tg.conflict {
			if c == p.SenderMAC.String() {
				return conflict, Result{}
			}
		}
		tg.conflict = append(tg.conflict, p.SenderMAC.String())
		m.stats.Conflicts = append(m.stats.Conflicts, Conflict{IP: p.SenderIP, MACs: append([]string{tg.mac.String()}, tg.conflict...)})
		return conflict, Result{}
	}
	tg.found = true
	tg.mac = p.SenderMAC
	m.stats.Found++
	// The wait estimate takes only replies to an address asked once
	// (Karn's rule): after a retry, ARP cannot say which request a reply
	// answers, and from the first one a reply that needed the retry would
	// look as slow as the whole gap between passes.
	sample := time.Duration(-1)
	if tg.sends == 1 {
		sample = t.Sub(tg.firstSent)
	}
	r := Result{IP: p.SenderIP, MAC: p.SenderMAC, RTT: t.Sub(tg.lastSent), FirstRTT: t.Sub(tg.firstSent), Requests: tg.sends, FirstSeen: t, sample: sample}
	if p.EtherSrc.String() != p.SenderMAC.String() {
		r.EtherSrc = p.EtherSrc
	}
	return newHost, r
}

func (m *matcher) snapshot() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.Conflicts = append([]Conflict(nil), m.stats.Conflicts...)
	return s
}

// allFound reports whether every target answered.
func (m *matcher) allFound() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats.Found == len(m.targets)
}

// quietSince reports when replies last arrived (zero if never).
func (m *matcher) quietSince() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastReply
}
