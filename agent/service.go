package agent

import (
	"context"
	"math/rand/v2"
	"time"
)

// Clock is the service's time; tests give a fake one.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// DefaultPrologFreq is the wait before the server has said (hours), as
// the OCS Windows service.
const DefaultPrologFreq = 10

// Service runs the agent on OCS's schedule (TTO_WAIT): a first wait drawn
// between 0 and PROLOG_FREQ and persisted (so a thousand agents started
// together do not call together, and a restart keeps its turn); then
// exactly PROLOG_FREQ hours after each success, a fresh random draw when
// PROLOG_FREQ changed; after a failure a wait drawn up to a latency that
// starts at a minute and doubles, capped at PROLOG_FREQ.
type Service struct {
	Agent *Agent
	Clock Clock
	// Rand draws in [0, n); default math/rand.
	Rand func(n int64) int64
	// Cycles stops the loop after this many runs (0: never; for tests).
	Cycles int
	// OnCycle is told about each run.
	OnCycle func(Result, error)
}

func (s *Service) draw(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if s.Rand != nil {
		return time.Duration(s.Rand(int64(d)))
	}
	return time.Duration(rand.Int64N(int64(d)))
}

// Run loops until ctx ends (or Cycles runs).
func (s *Service) Run(ctx context.Context) error {
	if s.Clock == nil {
		s.Clock = systemClock{}
	}
	a := s.Agent
	a.defaults()
	a.Now = s.Clock.Now
	st, err := a.identity()
	if err != nil {
		return err
	}
	freq := func(st *State) time.Duration {
		h := st.PrologFreq
		if h <= 0 {
			h = DefaultPrologFreq
		}
		return time.Duration(h) * time.Hour
	}
	if st.TTOWait.IsZero() {
		st.TTOWait = s.Clock.Now().Add(s.draw(freq(st)))
		if err := st.Save(a.WorkDir); err != nil {
			return err
		}
	}
	failures := 0
	for cycle := 0; s.Cycles == 0 || cycle < s.Cycles; cycle++ {
		if err := s.Clock.Sleep(ctx, st.TTOWait.Sub(s.Clock.Now())); err != nil {
			return err
		}
		before := st.PrologFreq
		res, runErr := a.Run(ctx, false)
		if s.OnCycle != nil {
			s.OnCycle(res, runErr)
		}
		if st, err = LoadState(a.WorkDir); err != nil {
			return err
		}
		now := s.Clock.Now()
		switch {
		case runErr != nil:
			failures++
			latency := time.Minute << min(failures-1, 20)
			if latency > freq(st) {
				latency = freq(st)
			}
			st.TTOWait = now.Add(s.draw(latency))
			a.Log.Warn("agent run failed; trying again later", "err", runErr, "next", st.TTOWait)
		case st.PrologFreq != before:
			failures = 0
			st.TTOWait = now.Add(s.draw(freq(st)))
		default:
			failures = 0
			st.TTOWait = now.Add(freq(st))
		}
		if err := st.Save(a.WorkDir); err != nil {
			return err
		}
	}
	return nil
}
