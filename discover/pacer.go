package discover

import (
	"context"
	"time"
)

// Clock is the time the scanner reads and sleeps on; tests give a fake.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Pacer releases requests on an absolute schedule: the k-th request (from
// 0) is due at start + k×interval, so errors in sleeping never accumulate.
// With maxBurst 1 (a latency) it never sends two at once and never leaves
// less than one interval between two: after a stall it restarts the
// schedule instead of catching up. With a larger maxBurst (a
// rate) it sends up to maxBurst overdue requests at once.
type Pacer struct {
	clock    Clock
	interval time.Duration
	maxBurst int
	start    time.Time
	sent     int64
	started  bool
}

// NewPacer returns a pacer for one request per interval (0: no pacing, in
// bursts of maxBurst).
func NewPacer(c Clock, interval time.Duration, maxBurst int) *Pacer {
	if maxBurst < 1 {
		maxBurst = 1
	}
	return &Pacer{clock: c, interval: interval, maxBurst: maxBurst}
}

// Wait blocks until a request is due and returns how many may go now: at
// least 1, at most max.
func (p *Pacer) Wait(ctx context.Context, max int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if max < 1 {
		max = 1
	}
	now := p.clock.Now()
	if !p.started {
		p.start, p.started = now, true
	}
	if p.interval <= 0 {
		return min(max, p.maxBurst), nil
	}
	due := p.start.Add(time.Duration(p.sent) * p.interval)
	if now.Before(due) {
		if err := p.clock.Sleep(ctx, due.Sub(now)); err != nil {
			return 0, err
		}
		now = p.clock.Now()
	}
	behind := int64(now.Sub(due) / p.interval) // whole intervals overdue
	if p.maxBurst == 1 && behind > 0 {
		// A stall (the machine was busy): restart the schedule from now,
		// so the next gap is a whole interval again. Lateness under one
		// interval (sleep jitter) stays absorbed by the absolute schedule.
		p.start = now.Add(-time.Duration(p.sent) * p.interval)
		behind = 0
	}
	n := 1 + behind
	if n > int64(p.maxBurst) {
		// Forget the debt beyond one burst: late is better than a flood.
		p.start = p.start.Add(time.Duration(n-int64(p.maxBurst)) * p.interval)
		n = int64(p.maxBurst)
	}
	if n > int64(max) {
		n = int64(max)
	}
	return int(n), nil
}

// Sent records n requests as sent.
func (p *Pacer) Sent(n int) { p.sent += int64(n) }
