package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Dialer opens a transport to a host.
type Dialer interface {
	Dial(ctx context.Context, h Host) (Transport, error)
}

// Runner pushes a job to many hosts at once.
type Runner struct {
	// Dialers by transport; Default is the transport of hosts without one.
	Dialers map[Scheme]Dialer
	Default Scheme
	Job     *Job
	// Concurrency is how many hosts are worked on at once (default 10, as
	// the OCS deployment tool).
	Concurrency int
	// HostTimeout bounds one attempt on one host (connect, copy, install).
	HostTimeout time.Duration
	// Retries is how many more attempts an unreachable host gets, after
	// RetryWait, doubling, with jitter. RetryFailed retries failed
	// installs too. Auth failures are never retried.
	Retries     int
	RetryWait   time.Duration
	RetryFailed bool
	// Out receives one record per host as it finishes.
	Out *ResponseWriter
	// Progress is told about every attempt and every finished host.
	Progress func(Event)
}

// Event is a step of a push, for progress displays.
type Event struct {
	Host    Host
	Attempt int
	// Done is set when the host has its final record.
	Done   bool
	Record Record
	// RetryIn is set when the host will be tried again.
	RetryIn time.Duration
	Err     error
}

// Summary counts outcomes.
type Summary map[Outcome]int

type item struct {
	host    Host
	attempt int
	start   time.Time
}

// Run pushes to every host and returns the count of each outcome. Every
// host gets exactly one record, unless ctx ends first: hosts not finished
// then get none, so that --resume takes them up.
func (r *Runner) Run(ctx context.Context, hosts []Host) (Summary, error) {
	if len(hosts) == 0 {
		return nil, errors.New("no hosts to push to")
	}
	n := r.Concurrency
	if n <= 0 {
		n = 10
	}
	if r.HostTimeout <= 0 {
		r.HostTimeout = 10 * time.Minute
	}
	if r.RetryWait <= 0 {
		r.RetryWait = 5 * time.Second
	}
	queue := make(chan item, len(hosts))
	for _, h := range hosts {
		queue <- item{host: h, attempt: 1}
	}
	var (
		mu      sync.Mutex
		sum     = Summary{}
		left    = len(hosts)
		wg      sync.WaitGroup
		timers  []*time.Timer
		writeEr error
		allDone = make(chan struct{})
	)
	finish := func(rec Record) {
		mu.Lock()
		defer mu.Unlock()
		if r.Out != nil {
			if err := r.Out.Write(rec); err != nil && writeEr == nil {
				writeEr = err
			}
		}
		sum[rec.Outcome]++
		left--
		if left == 0 {
			close(allDone)
		}
	}
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var it item
				select {
				case <-ctx.Done():
					return
				case <-allDone:
					return
				case it = <-queue:
				}
				if it.start.IsZero() {
					it.start = time.Now()
				}
				rec, err := r.attempt(ctx, it)
				if ctx.Err() != nil {
					return // interrupted: no record, --resume will redo it
				}
				if wait, again := r.retry(it, rec); again {
					it.attempt++
					r.emit(Event{Host: it.host, Attempt: it.attempt - 1, RetryIn: wait, Err: err})
					mu.Lock()
					timers = append(timers, time.AfterFunc(wait, func() { queue <- it }))
					mu.Unlock()
					continue
				}
				finish(rec)
				r.emit(Event{Host: it.host, Attempt: it.attempt, Done: true, Record: rec, Err: err})
			}
		}()
	}
	select {
	case <-allDone:
	case <-ctx.Done():
	}
	mu.Lock()
	for _, t := range timers {
		t.Stop()
	}
	mu.Unlock()
	wg.Wait()
	if writeEr != nil {
		return sum, fmt.Errorf("response file: %w", writeEr)
	}
	return sum, ctx.Err()
}

func (r *Runner) emit(e Event) {
	if r.Progress != nil {
		r.Progress(e)
	}
}

// retry decides whether a host is tried again, and after how long.
func (r *Runner) retry(it item, rec Record) (time.Duration, bool) {
	if it.attempt > r.Retries {
		return 0, false
	}
	// 1618: another installation is in progress; nothing was installed.
	later := rec.Outcome == InstallFailed && rec.ExitCode != nil && *rec.ExitCode == 1618
	if rec.Outcome != Unreachable && !later && !(r.RetryFailed && rec.Outcome == InstallFailed) {
		return 0, false
	}
	wait := r.RetryWait << (it.attempt - 1)
	if wait > 5*time.Minute || wait <= 0 {
		wait = 5 * time.Minute
	}
	// ±50% jitter, so hosts that failed together do not retry together.
	return time.Duration(float64(wait) * (0.5 + rand.Float64())), true
}

// attempt makes one try at one host and says how it ended.
func (r *Runner) attempt(ctx context.Context, it item) (Record, error) {
	h := it.host
	scheme := h.Scheme
	if scheme == "" {
		scheme = r.Default
	}
	rec := Record{Host: h.String(), Transport: scheme, Attempts: it.attempt, Start: it.start, Via: r.Job.Via()}
	if h.Scheme == "" {
		// Keep the transport in the record, so --retry-from needs no flags.
		hs := h
		hs.Scheme = scheme
		rec.Host = hs.String()
	}
	hctx, cancel := context.WithTimeout(ctx, r.HostTimeout)
	defer cancel()
	d := r.Dialers[scheme]
	if d == nil {
		rec.Outcome, rec.Error = Failed, fmt.Sprintf("no %s transport configured", scheme)
		rec.Duration = time.Since(it.start)
		return rec, errors.New(rec.Error)
	}
	tr, err := d.Dial(hctx, h)
	if err == nil {
		var inst Installed
		inst, err = r.Job.Install(hctx, tr, h, it.attempt)
		tr.Close()
		if err == nil {
			code := inst.ExitCode
			rec.Outcome, rec.ExitCode, rec.Reboot = OK, &code, inst.Reboot
			if inst.FromMarker {
				rec.Error = "ok in an earlier attempt, read from the host's marker"
			}
		}
	}
	if err != nil {
		rec.Outcome = classify(err)
		rec.Error = Sanitize(err.Error())
		var ie *InstallError
		if errors.As(err, &ie) {
			code := ie.ExitCode
			rec.ExitCode = &code
		}
	}
	rec.Duration = time.Since(it.start)
	return rec, err
}

func classify(err error) Outcome {
	var ue *UnreachableError
	var ae *AuthError
	var ie *InstallError
	var unk *UnknownError
	switch {
	case errors.As(err, &unk):
		return Unknown
	case errors.As(err, &ae):
		return AuthFailed
	case errors.As(err, &ie):
		return InstallFailed
	case errors.As(err, &ue):
		return Unreachable
	}
	return Failed
}
