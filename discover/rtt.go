package discover

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// The scanner waits for late replies only as long as the wire needs, as
// nmap's timing does: rttK times the high percentile of the reply times
// seen so far, at least rttFloor, at most the caller's ceiling (the
// --timeout). With no reply seen yet it waits the ceiling.
const (
	rttK        = 4
	rttFloor    = 10 * time.Millisecond
	rttQuantile = 0.99
	// rttSamples bounds the reply times kept (a reservoir beyond it).
	rttSamples = 4096
)

// rttEstimator holds the reply times seen in one scan.
type rttEstimator struct {
	mu      sync.Mutex
	samples []time.Duration
	seen    int
}

func (e *rttEstimator) add(d time.Duration) {
	if d < 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen++
	if len(e.samples) < rttSamples {
		e.samples = append(e.samples, d)
		return
	}
	if i := rand.IntN(e.seen); i < rttSamples {
		e.samples[i] = d
	}
}

// wait is how long to wait for replies still due, within ceiling.
func (e *rttEstimator) wait(ceiling time.Duration) time.Duration {
	e.mu.Lock()
	s := slices.Clone(e.samples)
	e.mu.Unlock()
	if len(s) == 0 {
		return ceiling
	}
	slices.Sort(s)
	q := s[min(len(s)-1, int(float64(len(s))*rttQuantile))]
	return min(ceiling, max(rttFloor, rttK*q))
}
