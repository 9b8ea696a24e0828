package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Remote is the muster server a push records its outcomes on, and takes
// its retry queue from.
type Remote struct {
	base  string
	token string
	http  *http.Client
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
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want the muster server's http(s) URL", server)
	}
	if token == "" {
		return nil, fmt.Errorf("recording on %s needs its API token (--token or MUSTER_PUSH_TOKEN)", server)
	}
	return &Remote{base: u.Scheme + "://" + u.Host, token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (r *Remote) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("muster server %s: %w", r.base, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("muster server %s%s: HTTP %d: %s", r.base, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Record sends one host's outcome.
func (r *Remote) Record(ctx context.Context, rec Record) error {
	h, err := ParseHost(rec.Host)
	if err != nil {
		return err
	}
	body := []map[string]any{{"host": rec.Host, "name": h.Name, "transport": rec.Transport, "outcome": rec.Outcome,
		"attempts": rec.Attempts, "exit_code": rec.ExitCode, "error": rec.Error, "at": rec.Start.Add(rec.Duration)}}
	return r.do(ctx, "POST", "/api/v1/push/records", body, nil)
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
