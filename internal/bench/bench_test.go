package bench

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestOrderAlternates(t *testing.T) {
	for _, c := range []struct {
		sides, round int
		want         string
	}{
		{2, 0, "[0 1]"}, {2, 1, "[1 0]"}, {2, 2, "[0 1]"}, {3, 1, "[2 1 0]"},
	} {
		if got := fmtInts(Order(c.sides, c.round)); got != c.want {
			t.Errorf("Order(%d, %d) = %s, want %s", c.sides, c.round, got, c.want)
		}
	}
}

func fmtInts(v []int) string {
	var b strings.Builder
	b.WriteString("[")
	for i, x := range v {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteByte(byte('0' + x))
	}
	b.WriteString("]")
	return b.String()
}

// fixed returns a side whose runs take the given times and give out.
func fixed(name string, out func(run int) string, times ...time.Duration) (Side, *[]int) {
	var calls []int
	n := 0
	return Side{Name: name, Run: func(context.Context) (Result, error) {
		d := times[n%len(times)]
		calls = append(calls, n)
		n++
		return Result{Output: out(n), Elapsed: d}, nil
	}}, &calls
}

func TestRunMediansSpreadAndRatio(t *testing.T) {
	same := func(int) string { return "10.77.0.1 aa\n10.77.0.2 bb" }
	ms := time.Millisecond
	a, _ := fixed("muster", same, 10*ms, 30*ms, 20*ms, 12*ms, 11*ms)
	b, _ := fixed("arp-scan", same, 100*ms, 90*ms, 110*ms, 95*ms, 105*ms)
	var log strings.Builder
	rep, err := Run(context.Background(), Comparison{Name: "t", Same: "same /24", Sides: []Side{a, b}, Goal: 0.25}, &log)
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Stats[0]; s.Median != 12*ms || s.Min != 10*ms || s.Max != 30*ms {
		t.Errorf("muster stats %+v", s)
	}
	if s := rep.Stats[1]; s.Median != 100*ms {
		t.Errorf("arp-scan median %v", s.Median)
	}
	if q := rep.Ratio(); q < 0.1199 || q > 0.1201 || !rep.Met() {
		t.Errorf("ratio %v, met %v", q, rep.Met())
	}
	// The log shows the alternation: muster first in round 1, second in 2.
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 10 || !strings.Contains(lines[0], "muster run 1") || !strings.Contains(lines[2], "arp-scan run 2") {
		t.Errorf("run log:\n%s", log.String())
	}
	var out strings.Builder
	rep.Print(&out)
	for _, want := range []string{"same work: same /24", "equal: yes", "0.120×", "goal ≤ 0.25×: met"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunRefusesARatioWhenOutputsDiffer(t *testing.T) {
	a, _ := fixed("muster", func(int) string { return "10.77.0.1\n10.77.0.2" }, time.Millisecond)
	b, _ := fixed("arp-scan", func(run int) string {
		if run == 3 {
			return "10.77.0.1" // one host missed on the third run
		}
		return "10.77.0.1\n10.77.0.2"
	}, time.Second)
	rep, err := Run(context.Background(), Comparison{Name: "t", Same: "x", Sides: []Side{a, b}, Runs: 4}, nil)
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("err %v, want a mismatch", err)
	}
	if rep.Ratio() != 0 || rep.Met() && rep.Goal != 0 {
		t.Errorf("a ratio survived a mismatch: %v", rep.Ratio())
	}
	var out strings.Builder
	rep.Print(&out)
	if strings.Contains(out.String(), "faster") || !strings.Contains(out.String(), "equal: NO") || !strings.Contains(out.String(), "arp-scan run 3") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestRunStopsOnASideError(t *testing.T) {
	bad := Side{Name: "ocs", Run: func(context.Context) (Result, error) { return Result{}, errors.New("HTTP 500") }}
	a, _ := fixed("muster", func(int) string { return "" }, time.Millisecond)
	if _, err := Run(context.Background(), Comparison{Name: "t", Sides: []Side{a, bad}}, nil); err == nil || !strings.Contains(err.Error(), "ocs, run 1: HTTP 500") {
		t.Fatalf("err %v", err)
	}
}

func TestProcessCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	self := os.Getpid()
	if tree := ProcessTree(self); len(tree) < 1 || tree[0] != self {
		t.Fatalf("ProcessTree(self) = %v", tree)
	}
	// Work until the kernel has counted a tick more, within 10 s.
	before := CPU([]int{self})
	x := 0
	for start := time.Now(); CPU([]int{self}) <= before && time.Since(start) < 10*time.Second; {
		for i := 0; i < 1e6; i++ {
			x += i
		}
	}
	if after := CPU([]int{self}); after <= before {
		t.Fatalf("CPU did not grow in 10 s of work: %v then %v (%d)", before, after, x)
	}
	if CPU([]int{1 << 30}) != 0 || ProcessTree(0) != nil {
		t.Fatal("a missing process counts")
	}
}
