package discover

import (
	"sync/atomic"
	"time"
)

// The scanner waits for late replies only as long as the wire needs, in
// the spirit of nmap's timing: rttK times the slowest reply time seen so
// far, at least rttFloor, at most the caller's ceiling (the --timeout).
// With no reply seen yet it waits the ceiling. The slowest reply, not a
// percentile, is the reference: a few hosts behind a slow hop are the very
// ones a percentile would wait too little for.
const (
	rttK     = 2
	rttFloor = 10 * time.Millisecond
)

// rttEstimator holds the slowest reply time seen in one scan. Safe for
// concurrent use.
type rttEstimator struct {
	slowest atomic.Int64 // nanoseconds; 0 before the first reply
	seen    atomic.Int64
}

func (e *rttEstimator) add(d time.Duration) {
	if d < 0 {
		return
	}
	e.seen.Add(1)
	for {
		old := e.slowest.Load()
		if int64(d) <= old || e.slowest.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// wait is how long to wait for replies still due, within ceiling.
func (e *rttEstimator) wait(ceiling time.Duration) time.Duration {
	if e.seen.Load() == 0 {
		return ceiling
	}
	return min(ceiling, max(rttFloor, rttK*time.Duration(e.slowest.Load())))
}

// quiet is how long replies must have stopped before the final wait ends:
// the slowest reply time seen, at least rttFloor (0 with no reply yet).
func (e *rttEstimator) quiet() time.Duration {
	if e.seen.Load() == 0 {
		return 0
	}
	return max(rttFloor, time.Duration(e.slowest.Load()))
}
