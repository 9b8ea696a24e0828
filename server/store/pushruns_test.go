package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// testPushRuns: a run's outcomes come back in order after any event id,
// its counts take each host's last outcome, and outcomes of no run (or an
// unknown one) still reach the queue.
func testPushRuns(t *testing.T, open func(*testing.T) *DB) {
	db := open(t)
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0)
	if err := db.StartPushRun(ctx, PushRun{ID: "push-1", Started: t0, Who: "ann", Hosts: 3, Label: "agent.msi"}); err != nil {
		t.Fatal(err)
	}
	code := 1603
	for i, p := range []PushHost{
		{Host: "winrm://a", Name: "a", Outcome: "unreachable", Attempts: 1},
		{Host: "winrm://b", Name: "b", Outcome: "install_failed", Attempts: 1, ExitCode: &code, Error: "MSI failed"},
		{Host: "winrm://a", Name: "a", Outcome: "ok", Attempts: 2},
		{Host: "winrm://z", Name: "z", Outcome: "ok", Attempts: 1, Run: "no-such-run"},
	} {
		if p.Run == "" {
			p.Run = "push-1"
		}
		p.Transport, p.At = "winrm", t0.Add(time.Duration(i)*time.Second)
		if err := db.RecordPush(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := db.PushRunEvents(ctx, "push-1", 0, 100)
	if err != nil || len(ev) != 3 || ev[0].Host != "winrm://a" || ev[1].ExitCode == nil || *ev[1].ExitCode != 1603 || ev[2].Outcome != "ok" {
		t.Fatalf("events %+v %v", ev, err)
	}
	if more, _ := db.PushRunEvents(ctx, "push-1", ev[1].ID, 100); len(more) != 1 || more[0].ID != ev[2].ID {
		t.Errorf("events after %d: %+v", ev[1].ID, more)
	}
	r, err := db.PushRunByID(ctx, "push-1")
	if err != nil || r.Done != 2 || r.Outcomes["ok"] != 1 || r.Outcomes["install_failed"] != 1 || r.Hosts != 3 || !r.Finished.IsZero() {
		t.Errorf("run %+v %v", r, err)
	}
	if err := db.FinishPushRun(ctx, "push-1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishPushRun(ctx, "nope", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("finish an unknown run: %v", err)
	}
	db.StartPushRun(ctx, PushRun{ID: "push-2", Started: t0.Add(time.Hour), Who: "api-token", Hosts: 1})
	runs, err := db.PushRuns(ctx, 10)
	if err != nil || len(runs) != 2 || runs[0].ID != "push-2" || !runs[1].Finished.Equal(t0.Add(time.Minute)) {
		t.Errorf("runs %+v %v", runs, err)
	}
	if q, _ := db.PushQueue(ctx, false); len(q) != 0 {
		t.Errorf("queue %+v: a is ok now", q)
	}
	if _, err := db.PushRunByID(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown run: %v", err)
	}
}
