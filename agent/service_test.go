package agent_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"muster/agent"
	"muster/inventories"
	"muster/inventories/ocsxml"
)

type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		d = 0
	}
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

// scripted answers PROLOGs with STOP and a PROLOG_FREQ, or fails while
// down is set.
type scripted struct {
	mu   sync.Mutex
	down bool
	freq int
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down, freq := s.down, s.freq
	s.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	reply := &ocsxml.PrologReply{Response: ocsxml.Stop, PrologFreq: freq}
	w.Header().Set("Content-Type", "application/x-compressed")
	w.Write(ocsxml.Compress(ocsxml.Marshal(ocsxml.ReplyDecl, reply.Node())))
}

func TestServiceSchedule(t *testing.T) {
	srv := &scripted{freq: 12}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	work := t.TempDir()
	c, _ := agent.NewClient(agent.Config{Server: ts.URL + "/ocsinventory"})
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var errs []error
	svc := &agent.Service{
		Agent: &agent.Agent{Client: c, WorkDir: work, Collect: func(context.Context) *inventories.Inventory { return &inventories.Inventory{} }},
		Clock: clock,
		// Draw the middle of every range, so the waits are known.
		Rand:    func(n int64) int64 { return n / 2 },
		OnCycle: func(_ agent.Result, err error) { errs = append(errs, err) },
		Cycles:  1,
	}
	ctx := context.Background()
	// First start: no PROLOG_FREQ known yet: a random wait in 0..10 h.
	if err := svc.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if clock.sleeps[0] != 5*time.Hour {
		t.Fatalf("first wait %v, want half of the 10 h default", clock.sleeps[0])
	}
	st, _ := agent.LoadState(work)
	// The server said 12 h, a change: a new random draw, persisted.
	if st.PrologFreq != 12 || !st.TTOWait.Equal(clock.now.Add(6*time.Hour)) {
		t.Fatalf("after the first run: freq %d, next %v (now %v)", st.PrologFreq, st.TTOWait, clock.now)
	}
	// A restart keeps the persisted turn; then exactly PROLOG_FREQ.
	clock.sleeps = nil
	svc.Cycles = 2
	if err := svc.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if clock.sleeps[0] != 6*time.Hour || clock.sleeps[1] != 12*time.Hour {
		t.Fatalf("waits %v, want the persisted 6 h then 12 h", clock.sleeps)
	}
	// Server down: backoff drawn up to 1 min, 2 min, 4 min… capped at 12 h.
	srv.mu.Lock()
	srv.down = true
	srv.mu.Unlock()
	clock.sleeps = nil
	svc.Cycles = 4
	if err := svc.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{12 * time.Hour, 30 * time.Second, time.Minute, 2 * time.Minute}
	for i, w := range want {
		if clock.sleeps[i] != w {
			t.Fatalf("waits %v, want %v", clock.sleeps, want)
		}
	}
	if errs[len(errs)-1] == nil {
		t.Fatal("no error reported while the server was down")
	}
}

// ScheduleNow (install-service --now, the MSI's NOW=1) makes the first
// run due at once; firstOnly leaves an existing turn alone.
func TestScheduleNow(t *testing.T) {
	ts := httptest.NewServer(&scripted{freq: 12})
	defer ts.Close()
	work := t.TempDir()
	c, _ := agent.NewClient(agent.Config{Server: ts.URL + "/ocsinventory"})
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ag := &agent.Agent{Client: c, WorkDir: work, Now: clock.Now, Collect: func(context.Context) *inventories.Inventory { return &inventories.Inventory{} }}
	if err := ag.ScheduleNow(true); err != nil {
		t.Fatal(err)
	}
	svc := &agent.Service{Agent: ag, Clock: clock, Rand: func(n int64) int64 { return n / 2 }, Cycles: 1}
	if err := svc.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if clock.sleeps[0] != 0 {
		t.Fatalf("first wait %v after ScheduleNow, want none", clock.sleeps[0])
	}
	st, _ := agent.LoadState(work)
	turn := st.TTOWait
	if err := ag.ScheduleNow(true); err != nil {
		t.Fatal(err)
	}
	if st, _ = agent.LoadState(work); !st.TTOWait.Equal(turn) {
		t.Errorf("firstOnly moved the turn from %v to %v", turn, st.TTOWait)
	}
	if err := ag.ScheduleNow(false); err != nil {
		t.Fatal(err)
	}
	if st, _ = agent.LoadState(work); !st.TTOWait.Equal(clock.Now()) {
		t.Errorf("ScheduleNow(false): next run %v, want now %v", st.TTOWait, clock.Now())
	}
}
