package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PushRun is one run of muster push reported to the server, with its
// outcome counts so far.
type PushRun struct {
	ID       string         `json:"id"`
	Started  time.Time      `json:"started"`
	Who      string         `json:"who"`
	Hosts    int            `json:"hosts"`
	Label    string         `json:"label,omitempty"`
	Finished time.Time      `json:"finished"`
	Done     int            `json:"done"`
	Outcomes map[string]int `json:"outcomes"`
}

// PushEvent is one host's outcome in a run, in the order they came.
type PushEvent struct {
	ID       int64     `json:"id"`
	Host     string    `json:"host"`
	Outcome  string    `json:"outcome"`
	Attempts int       `json:"attempts"`
	ExitCode *int      `json:"exit_code,omitempty"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

// StartPushRun records a run's start (again for a resumed run: its start
// and size are kept, its end cleared).
func (s *DB) StartPushRun(ctx context.Context, r PushRun) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO push_runs(id, started, who, hosts, label) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET finished = 0`, r.ID, r.Started.Unix(), r.Who, r.Hosts, r.Label)
	if err != nil {
		return fmt.Errorf("start push run %s: %w", r.ID, err)
	}
	return nil
}

// FinishPushRun marks a run ended (ErrNotFound for an unknown run).
func (s *DB) FinishPushRun(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE push_runs SET finished = ? WHERE id = ?`, at.Unix(), id)
	if err != nil {
		return fmt.Errorf("finish push run %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("push run %s: %w", id, ErrNotFound)
	}
	return nil
}

// PushRuns lists the newest runs first, each with the outcome counts of
// its hosts (the last outcome of each).
func (s *DB) PushRuns(ctx context.Context, limit int) ([]PushRun, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, started, who, hosts, label, finished FROM push_runs ORDER BY started DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("push runs: %w", err)
	}
	out := []PushRun{}
	for rows.Next() {
		var r PushRun
		var started, finished int64
		if err := rows.Scan(&r.ID, &started, &r.Who, &r.Hosts, &r.Label, &finished); err != nil {
			rows.Close()
			return nil, err
		}
		r.Started, r.Finished = unix(started), unix(finished)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.countRun(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PushRunByID returns one run with its counts.
func (s *DB) PushRunByID(ctx context.Context, id string) (PushRun, error) {
	var r PushRun
	var started, finished int64
	err := s.r.QueryRowContext(ctx, `SELECT id, started, who, hosts, label, finished FROM push_runs WHERE id = ?`, id).
		Scan(&r.ID, &started, &r.Who, &r.Hosts, &r.Label, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("push run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, err
	}
	r.Started, r.Finished = unix(started), unix(finished)
	return r, s.countRun(ctx, &r)
}

// countRun counts the last outcome of each host of a run.
func (s *DB) countRun(ctx context.Context, r *PushRun) error {
	rows, err := s.r.QueryContext(ctx, `SELECT e.outcome, COUNT(*) FROM push_events e
		WHERE e.run_id = ? AND e.id = (SELECT MAX(e2.id) FROM push_events e2 WHERE e2.run_id = e.run_id AND e2.host = e.host)
		GROUP BY e.outcome`, r.ID)
	if err != nil {
		return fmt.Errorf("count push run %s: %w", r.ID, err)
	}
	defer rows.Close()
	r.Outcomes, r.Done = map[string]int{}, 0
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return err
		}
		r.Outcomes[o] = n
		r.Done += n
	}
	return rows.Err()
}

// PushRunEvents returns a run's events after the one with id after, at
// most limit, oldest first.
func (s *DB) PushRunEvents(ctx context.Context, runID string, after int64, limit int) ([]PushEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, host, outcome, attempts, exit_code, error, at FROM push_events
		WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?`, runID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("push run %s events: %w", runID, err)
	}
	defer rows.Close()
	out := []PushEvent{}
	for rows.Next() {
		var e PushEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.Host, &e.Outcome, &e.Attempts, &e.ExitCode, &e.Error, &at); err != nil {
			return nil, err
		}
		e.At = unix(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
