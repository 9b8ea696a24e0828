package discover

import (
	"net"
	"net/netip"
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
	targets map[netip.Addr]*target
	stats   Stats
	// lastReply is when the last reply of any kind was taken.
	lastReply time.Time
}

type target struct {
	lastSent time.Time
	sends    int
	mac      net.HardwareAddr
	found    bool
	conflict []string
}

func newMatcher(ourIP netip.Addr, addrs []netip.Addr) *matcher {
	m := &matcher{ourIP: ourIP, targets: make(map[netip.Addr]*target, len(addrs))}
	for _, a := range addrs {
		m.targets[a] = &target{}
	}
	m.stats.Requested = len(addrs)
	return m
}

// sent records a request to a at t.
func (m *matcher) sent(a netip.Addr, t time.Time) {
	m.mu.Lock()
	if tg := m.targets[a]; tg != nil {
		tg.lastSent = t
		tg.sends++
	}
	m.stats.Sent++
	m.mu.Unlock()
}

// silent reports whether a has not answered yet.
func (m *matcher) silent(a netip.Addr) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	tg := m.targets[a]
	return tg != nil && !tg.found
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
	tg := m.targets[p.SenderIP]
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
	r := Result{IP: p.SenderIP, MAC: p.SenderMAC, RTT: t.Sub(tg.lastSent), FirstSeen: t}
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
