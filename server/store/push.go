package store

import (
	"context"
	"time"
)

// PushHost is a host's last push outcome, and its place in the retry
// queue.
type PushHost struct {
	Host      string    `json:"host"`
	Name      string    `json:"name"`
	Transport string    `json:"transport"`
	Outcome   string    `json:"outcome"`
	Attempts  int       `json:"attempts"`
	ExitCode  *int      `json:"exit_code,omitempty"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
	Queued    bool      `json:"queued"`
	// Due is set for a queued host the network map has seen since it
	// failed (by IP or name).
	Due    bool      `json:"due"`
	SeenAt time.Time `json:"seen_at,omitempty"`
	// Run is the push run the outcome belongs to, when it was started
	// with StartPushRun: the outcome is then also one of its events.
	Run string `json:"run,omitempty"`
}

// PushRequested is the outcome of a host an admin asked to push the agent
// to (from the network map): queued and due at once, for muster push
// --queue.
const PushRequested = "requested"

// RecordPush stores a host's outcome: an unreachable or requested one is
// queued, any other leaves the queue.
func (s *DB) RecordPush(ctx context.Context, p PushHost) error {
	queued := 0
	if p.Outcome == "unreachable" || p.Outcome == PushRequested {
		queued = 1
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO push_hosts(host, name, transport, outcome, attempts, exit_code, error, at, queued)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(host) DO UPDATE SET name = excluded.name, transport = excluded.transport, outcome = excluded.outcome,
			attempts = excluded.attempts, exit_code = excluded.exit_code, error = excluded.error, at = excluded.at, queued = excluded.queued`,
		p.Host, p.Name, p.Transport, p.Outcome, p.Attempts, p.ExitCode, p.Error, p.At.Unix(), queued)
	if err != nil || p.Run == "" {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO push_events(run_id, host, outcome, attempts, exit_code, error, at)
		SELECT id, ?, ?, ?, ?, ?, ? FROM push_runs WHERE id = ?`, p.Host, p.Outcome, p.Attempts, p.ExitCode, p.Error, p.At.Unix(), p.Run)
	return err
}

// PushQueue lists the queued hosts (all, or only those due), due when the
// network map saw the host (by IP, or by name or its short form) after it
// failed.
func (s *DB) PushQueue(ctx context.Context, dueOnly bool) ([]PushHost, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT p.host, p.name, p.transport, p.outcome, p.attempts, p.exit_code, p.error, p.at,
		COALESCE((SELECT MAX(n.last_seen) FROM netmap n
			WHERE (n.ip = p.name OR n.name = p.name OR n.name LIKE p.name || '.%') AND n.last_seen > p.at), 0)
		FROM push_hosts p WHERE p.queued = 1 ORDER BY p.host`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PushHost{}
	for rows.Next() {
		var p PushHost
		var at, seen int64
		var code *int
		if err := rows.Scan(&p.Host, &p.Name, &p.Transport, &p.Outcome, &p.Attempts, &code, &p.Error, &at, &seen); err != nil {
			return nil, err
		}
		p.ExitCode, p.At, p.Queued = code, unix(at), true
		if seen > 0 {
			p.Due, p.SeenAt = true, unix(seen)
		}
		if p.Outcome == PushRequested {
			p.Due = true // an admin asked for it: due at once
		}
		if dueOnly && !p.Due {
			continue
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
