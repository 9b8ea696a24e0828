package server

import (
	"log/slog"
	"sync"
	"time"
)

// limiter is a token bucket per client IP: burst requests at once, then
// one every interval. It holds at most maxIPs buckets (when full, the
// ones refilled to the brim are forgotten, then all), and it logs its
// refusals in aggregate, at most once a minute, so a guessing attack
// cannot flood the log either.
type limiter struct {
	burst    float64
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	refused *refusals
}

// refusals counts refused requests and logs them in aggregate, at most
// once a minute, so an attack cannot flood the log.
type refusals struct {
	what string
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	n       int
	by      map[string]bool
	lastLog time.Time
}

func newRefusals(what string, log *slog.Logger, now func() time.Time) *refusals {
	return &refusals{what: what, log: log, now: now, by: map[string]bool{}}
}

// add counts one refusal from ip.
func (r *refusals) add(ip string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if len(r.by) < maxIPs {
		r.by[ip] = true
	}
	if now := r.now(); now.Sub(r.lastLog) >= time.Minute {
		r.log.Warn("requests refused by a limit", "what", r.what, "refused", r.n, "addresses", len(r.by), "since", r.lastLog)
		r.n, r.by, r.lastLog = 0, map[string]bool{}, now
	}
}

type bucket struct {
	tokens float64
	at     time.Time
}

const maxIPs = 1 << 16

func newLimiter(what string, perMinute, burst int, log *slog.Logger, now func() time.Time) *limiter {
	if perMinute <= 0 {
		return nil // unlimited
	}
	return &limiter{burst: float64(burst), interval: time.Minute / time.Duration(perMinute), now: now,
		buckets: map[string]*bucket{}, refused: newRefusals(what, log, now)}
}

// allow takes a token of ip's bucket; false means refuse the request.
func (l *limiter) allow(ip string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxIPs {
			l.forget(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[ip] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.interval))
	b.at = now
	if b.tokens < 1 {
		l.refused.add(ip)
		return false
	}
	b.tokens--
	return true
}

// forget drops the buckets that are full again, or all of them.
func (l *limiter) forget(now time.Time) {
	for ip, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(l.interval) >= l.burst {
			delete(l.buckets, ip)
		}
	}
	if len(l.buckets) >= maxIPs {
		l.buckets = map[string]*bucket{}
	}
}
