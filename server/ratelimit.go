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
	what     string
	burst    float64
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	refused   int
	refusedBy map[string]bool
	lastLog   time.Time
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
	return &limiter{what: what, burst: float64(burst), interval: time.Minute / time.Duration(perMinute), log: log, now: now,
		buckets: map[string]*bucket{}, refusedBy: map[string]bool{}}
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
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	} else {
		l.refused++
		l.refusedBy[ip] = true
	}
	if l.refused > 0 && now.Sub(l.lastLog) >= time.Minute {
		l.log.Warn("requests refused by the rate limit", "what", l.what, "refused", l.refused, "addresses", len(l.refusedBy), "since", l.lastLog)
		l.refused, l.refusedBy, l.lastLog = 0, map[string]bool{}, now
	}
	return ok
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
