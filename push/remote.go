package push

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"muster/internal/apiclient"
)

// Remote is the muster server a push records its outcomes on, and takes
// its retry queue from, through the one API client.
type Remote struct {
	c *apiclient.Client
	// run names the run outcomes belong to, once StartRun said it.
	run string
}

// QueuedHost is a host waiting in the server's retry queue.
type QueuedHost struct {
	Host    string    `json:"host"`
	Name    string    `json:"name"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
	Due     bool      `json:"due"`
	SeenAt  time.Time `json:"seen_at"`
}

// NewRemote takes the server URL (…/ocsinventory or the bare base) and an
// API token.
func NewRemote(server, token string) (*Remote, error) {
	if token == "" {
		return nil, fmt.Errorf("recording on %s needs its API token (--token or MUSTER_PUSH_TOKEN)", server)
	}
	c, err := apiclient.New(server, token)
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	return &Remote{c: c}, nil
}

func (r *Remote) do(ctx context.Context, method, path string, body, out any) error {
	return r.c.Do(ctx, method, path, body, out)
}

// Record sends one host's outcome.
func (r *Remote) Record(ctx context.Context, rec Record) error {
	h, err := ParseHost(rec.Host)
	if err != nil {
		return err
	}
	body := []map[string]any{{"host": rec.Host, "name": h.Name, "transport": rec.Transport, "outcome": rec.Outcome,
		"attempts": rec.Attempts, "exit_code": rec.ExitCode, "error": rec.Error, "at": rec.Start.Add(rec.Duration), "run": r.run}}
	return r.do(ctx, "POST", "/api/v1/push/records", body, nil)
}

// StartRun tells the server a run of hosts begins (the console follows it
// live); the outcomes Record sends afterwards name it.
func (r *Remote) StartRun(ctx context.Context, id string, hosts int, label string) error {
	if err := r.do(ctx, "POST", "/api/v1/push/runs", map[string]any{"id": id, "hosts": hosts, "label": label}, nil); err != nil {
		return err
	}
	r.run = id
	return nil
}

// FinishRun tells the server the run ended.
func (r *Remote) FinishRun(ctx context.Context) error {
	if r.run == "" {
		return nil
	}
	return r.do(ctx, "POST", "/api/v1/push/runs/"+url.PathEscape(r.run)+"/finish", nil, nil)
}

// Queue returns the server's retry queue (only the due hosts with due).
func (r *Remote) Queue(ctx context.Context, due bool) ([]QueuedHost, error) {
	var q []QueuedHost
	path := "/api/v1/push/queue"
	if due {
		path += "?due=1"
	}
	return q, r.do(ctx, "GET", path, nil, &q)
}
