// Package bench runs a comparison the way a skeptic accepts it: every side
// does the same work, the sides take turns (ABBA order, so drift and warm
// caches favour nobody), each N times; the outputs are checked equal before
// any ratio is printed, and a mismatch fails the comparison.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Side is one side of a comparison: muster, or an anchor such as arp-scan.
type Side struct {
	Name string
	// Run does the work once. Its Output must equal every other run's, on
	// either side.
	Run func(ctx context.Context) (Result, error)
}

// Result is what one run of a side produced.
type Result struct {
	// Output is the work's outcome in a canonical form (sorted hosts found,
	// digests of the files installed, rows stored), compared across runs.
	Output string
	// Elapsed, when set, replaces the wall time measured around Run (for a
	// side whose set-up must not count, or whose timing comes from inside).
	Elapsed time.Duration
}

// Comparison is one benchmark: the sides, and what "the same work" means.
type Comparison struct {
	Name string
	// Same says in one line what both sides were given alike: inputs,
	// tries, timeouts, durability.
	Same string
	// Sides[0] is muster; the others are anchors it is compared with.
	Sides []Side
	// Runs is how many times each side runs (at least 1; 5 if unset).
	Runs int
	// Goal, when set, is the largest acceptable ratio of muster's median
	// time to the first anchor's (0.25 means "at most a quarter").
	Goal float64
	// Work and Unit, when set, give a rate: Work units per run.
	Work float64
	Unit string
	// Ratios lists the pairs {a, b} whose time ratio a/b is printed;
	// empty means Sides[0] against each other side.
	Ratios [][2]int
}

// Stats summarise one side's runs.
type Stats struct {
	Name             string
	Times            []time.Duration // in run order
	Median, Min, Max time.Duration
	Output           string
}

// Report is the outcome of a comparison.
type Report struct {
	Comparison
	Stats []Stats
	// Mismatch, when set, says how the outputs differed; no ratio holds.
	Mismatch string
}

// ErrMismatch is returned (wrapped) when the sides did not do the same work.
var ErrMismatch = errors.New("outputs differ")

// Order returns the side indexes run in round r: forwards in even rounds,
// backwards in odd ones (A B, B A, A B, ...).
func Order(sides, r int) []int {
	idx := make([]int, sides)
	for i := range idx {
		idx[i] = i
	}
	if r%2 == 1 {
		slices.Reverse(idx)
	}
	return idx
}

// Run measures every side c.Runs times in alternating order and checks that
// all outputs are equal. progress, if not nil, gets one line per run.
func Run(ctx context.Context, c Comparison, progress io.Writer) (Report, error) {
	if len(c.Sides) == 0 {
		return Report{}, fmt.Errorf("bench %s: no sides", c.Name)
	}
	if c.Runs < 1 {
		c.Runs = 5
	}
	rep := Report{Comparison: c, Stats: make([]Stats, len(c.Sides))}
	outputs := make([][]string, len(c.Sides))
	for r := 0; r < c.Runs; r++ {
		for _, i := range Order(len(c.Sides), r) {
			s := c.Sides[i]
			start := time.Now()
			res, err := s.Run(ctx)
			d := time.Since(start)
			if err != nil {
				return rep, fmt.Errorf("bench %s: %s, run %d: %w", c.Name, s.Name, r+1, err)
			}
			if res.Elapsed > 0 {
				d = res.Elapsed
			}
			if progress != nil {
				fmt.Fprintf(progress, "bench %s: %s run %d/%d: %v\n", c.Name, s.Name, r+1, c.Runs, d.Round(time.Microsecond))
			}
			rep.Stats[i].Times = append(rep.Stats[i].Times, d)
			outputs[i] = append(outputs[i], res.Output)
		}
	}
	for i, s := range c.Sides {
		rep.Stats[i] = summarise(s.Name, rep.Stats[i].Times)
		rep.Stats[i].Output = outputs[i][0]
	}
	want := outputs[0][0]
	for i, outs := range outputs {
		for r, o := range outs {
			if o != want {
				rep.Mismatch = fmt.Sprintf("%s run %d differs from %s run 1: %s", c.Sides[i].Name, r+1, c.Sides[0].Name, Diff(want, o))
				return rep, fmt.Errorf("bench %s: %w: %s", c.Name, ErrMismatch, rep.Mismatch)
			}
		}
	}
	return rep, nil
}

func summarise(name string, times []time.Duration) Stats {
	s := Stats{Name: name, Times: times}
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	n := len(sorted)
	s.Min, s.Max = sorted[0], sorted[n-1]
	if n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return s
}

// Ratio is muster's median time over the first anchor's (below 1: muster
// is faster), or 0 when there is no anchor or the outputs differ.
func (r Report) Ratio() float64 {
	if len(r.Stats) < 2 || r.Mismatch != "" || r.Stats[1].Median <= 0 {
		return 0
	}
	return float64(r.Stats[0].Median) / float64(r.Stats[1].Median)
}

// Met says whether the goal was reached (true when there is no goal).
func (r Report) Met() bool {
	if r.Goal == 0 {
		return true
	}
	q := r.Ratio()
	return q > 0 && q <= r.Goal
}

// Print writes the report: the definition of equal work, each side's
// median and spread, the equality check, then the ratios (only if equal).
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "== %s\n   same work: %s\n", r.Name, r.Same)
	for _, s := range r.Stats {
		if len(s.Times) == 0 {
			continue
		}
		line := fmt.Sprintf("   %-22s median %10v  min %10v  max %10v  (n=%d)", s.Name, round(s.Median), round(s.Min), round(s.Max), len(s.Times))
		if r.Work > 0 && s.Median > 0 {
			line += fmt.Sprintf("  %.1f %s/s", r.Work/s.Median.Seconds(), r.Unit)
		}
		fmt.Fprintln(w, line)
	}
	if r.Mismatch != "" {
		fmt.Fprintf(w, "   equal: NO: %s\n   no ratio: the sides did not do the same work\n", r.Mismatch)
		return
	}
	fmt.Fprintf(w, "   equal: yes, every run of every side: %s\n", summary(r.Stats[0].Output))
	pairs := r.Ratios
	if len(pairs) == 0 {
		for i := 1; i < len(r.Stats); i++ {
			pairs = append(pairs, [2]int{0, i})
		}
	}
	for n, p := range pairs {
		x, a := r.Stats[p[0]], r.Stats[p[1]]
		if len(a.Times) == 0 || a.Median <= 0 || x.Median <= 0 {
			continue
		}
		q := float64(x.Median) / float64(a.Median)
		line := fmt.Sprintf("   %s / %s time: %.3f× (%.1f× faster)", x.Name, a.Name, q, 1/q)
		if q > 1 {
			line = fmt.Sprintf("   %s / %s time: %.3f× (%.1f× slower)", x.Name, a.Name, q, q)
		}
		if n == 0 && r.Goal > 0 {
			verdict := "met"
			if !r.Met() {
				verdict = "MISSED"
			}
			line += fmt.Sprintf("  goal ≤ %.3g×: %s", r.Goal, verdict)
		}
		fmt.Fprintln(w, line)
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// summary shortens an output for the equality line.
func summary(out string) string {
	lines := strings.Count(out, "\n")
	if !strings.HasSuffix(out, "\n") && out != "" {
		lines++
	}
	first, _, _ := strings.Cut(out, "\n")
	if len(first) > 60 {
		first = first[:60] + "…"
	}
	if lines <= 1 {
		return first
	}
	return fmt.Sprintf("%d lines, the first %q", lines, first)
}

// Diff names the first line where two outputs differ, and how many lines
// each holds.
func Diff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: %q vs %q (%d vs %d lines)", i+1, x, y, len(la), len(lb))
		}
	}
	return "equal"
}

// Lines sorts and joins items into a canonical output.
func Lines(items []string) string {
	s := slices.Clone(items)
	slices.Sort(s)
	return strings.Join(s, "\n")
}
