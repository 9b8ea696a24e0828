package inventories

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Collector gathers some sections of the machine's inventory, as
// node_exporter's collectors do: one small collector per subject and
// operating system, registered by name.
type Collector interface {
	// Collect writes its sections into inv. It must not touch the others.
	Collect(ctx context.Context, inv *Inventory) error
}

// CollectorFunc adapts a function to Collector.
type CollectorFunc func(ctx context.Context, inv *Inventory) error

// Collect implements Collector.
func (f CollectorFunc) Collect(ctx context.Context, inv *Inventory) error { return f(ctx, inv) }

var (
	regMu      sync.Mutex
	collectors = map[string]Collector{}
)

// Register adds a collector under a name; the files of each operating
// system register theirs in init.
func Register(name string, c Collector) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := collectors[name]; dup {
		panic("inventories: collector registered twice: " + name)
	}
	collectors[name] = c
}

// Collectors returns the registered collector names, sorted.
func Collectors() []string {
	regMu.Lock()
	defer regMu.Unlock()
	names := make([]string, 0, len(collectors))
	for n := range collectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Report is how one collector did.
type Report struct {
	Name     string
	Duration time.Duration
	Err      error
}

// CollectTimeout bounds one collector.
const CollectTimeout = 60 * time.Second

// CollectAll runs every registered collector (or those named in only) and
// returns the inventory with a report per collector. Each is timed and
// isolated: one that fails, panics or overruns is logged and skipped, and
// the rest of the inventory is still returned.
func CollectAll(ctx context.Context, log *slog.Logger, only ...string) (*Inventory, []Report) {
	if log == nil {
		log = slog.Default()
	}
	names := Collectors()
	if len(only) > 0 {
		names = only
	}
	inv := &Inventory{}
	var reports []Report
	for _, name := range names {
		regMu.Lock()
		c := collectors[name]
		regMu.Unlock()
		if c == nil {
			reports = append(reports, Report{Name: name, Err: fmt.Errorf("no collector %q", name)})
			continue
		}
		start := time.Now()
		err := runIsolated(ctx, c, inv)
		r := Report{Name: name, Duration: time.Since(start), Err: err}
		reports = append(reports, r)
		if err != nil {
			log.Warn("collector failed; the inventory is sent without it", "collector", name, "err", err, "ms", r.Duration.Milliseconds())
		} else {
			log.Debug("collector", "name", name, "ms", r.Duration.Milliseconds())
		}
	}
	return inv, reports
}

// runIsolated runs c on a copy of inv, with a deadline, and keeps its
// result only if it succeeded: a failing collector leaves nothing half
// written.
func runIsolated(ctx context.Context, c Collector, inv *Inventory) (err error) {
	ctx, cancel := context.WithTimeout(ctx, CollectTimeout)
	defer cancel()
	work := *inv
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v", p)
			}
		}()
		done <- c.Collect(ctx, &work)
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		return fmt.Errorf("timed out after %v", CollectTimeout)
	}
	if err == nil {
		*inv = work
	}
	return err
}
