package push

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress shows a run as it goes: a bar on a terminal, else a line per
// event (a failed attempt, a finished host). Text from hosts is sanitized
// before it is written. Safe for the Runner's concurrent events.
type Progress struct {
	w     io.Writer
	mu    sync.Mutex
	total int
	done  int
	count map[Outcome]int
	bad   []Record
	bar   *progressbar.ProgressBar
}

// NewProgress shows a run of total hosts on w, with a bar when w is a
// terminal.
func NewProgress(w io.Writer, total int, terminal bool) *Progress {
	p := &Progress{w: w, total: total, count: map[Outcome]int{}}
	if terminal {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription("push"))
	}
	return p
}

// Event takes one of the Runner's events.
func (p *Progress) Event(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !e.Done {
		if p.bar == nil {
			fmt.Fprintf(p.w, "push: %s: attempt %d failed (%s), again in %v\n", Sanitize(e.Host.String()), e.Attempt, Sanitize(fmt.Sprint(e.Err)), e.RetryIn.Round(100*time.Millisecond))
		}
		return
	}
	p.done++
	p.count[e.Record.Outcome]++
	if e.Record.Outcome != OK {
		p.bad = append(p.bad, e.Record)
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("ok %d, failed %d, unreachable %d", p.count[OK],
			p.count[InstallFailed]+p.count[AuthFailed]+p.count[Failed], p.count[Unreachable]))
		p.bar.Add(1)
		return
	}
	line := fmt.Sprintf("push: [%d/%d] %s %s", p.done, p.total, e.Record.Host, e.Record.Outcome)
	if e.Record.Attempts > 1 {
		line += fmt.Sprintf(" after %d attempts", e.Record.Attempts)
	}
	if e.Record.Reboot {
		line += " (reboot needed)"
	}
	if e.Record.Error != "" {
		line += ": " + e.Record.Error
	}
	fmt.Fprintln(p.w, Sanitize(line))
}

// Finish clears the bar.
func (p *Progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// Failures are the records of hosts that were not ok, by host.
func (p *Progress) Failures() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	bad := append([]Record(nil), p.bad...)
	sort.Slice(bad, func(i, j int) bool { return bad[i].Host < bad[j].Host })
	return bad
}

// WriteSummary writes the outcome counts, the first 20 hosts that were not
// ok and where the responses are.
func WriteSummary(w io.Writer, sum Summary, bad []Record, resp string, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTCOME\tHOSTS")
	for _, o := range []Outcome{OK, Unreachable, AuthFailed, InstallFailed, Unknown, Failed} {
		if sum[o] > 0 {
			fmt.Fprintf(tw, "%s\t%d\n", o, sum[o])
		}
	}
	tw.Flush()
	for i, r := range bad {
		if i == 20 {
			fmt.Fprintf(w, "… and %d more in %s\n", len(bad)-20, resp)
			break
		}
		fmt.Fprintf(w, "  %s  %s: %s\n", Sanitize(r.Host), r.Outcome, Sanitize(r.Error))
	}
	fmt.Fprintf(w, "Responses in %s (%v)\n", resp, took.Round(time.Millisecond))
}
