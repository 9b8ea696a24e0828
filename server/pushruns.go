package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"muster/server/store"
)

// Push runs as muster push --server reports them, and their live progress
// for the console: Server-Sent Events read from the store, so that a
// console on any replica follows a run recorded through another.

var runIDRe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// sseLimits bound one event stream: how often the store is read, the most
// events a read sends, and how long a stream may stay open.
const (
	ssePoll     = 300 * time.Millisecond
	sseBatch    = 500
	sseLifetime = time.Hour
	sseKeep     = 15 * time.Second
)

func (s *Server) pushRunRoutes(mux *http.ServeMux) {
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, s.requireAuth(fn)) }
	h("POST /api/v1/push/runs", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID    string
			Hosts int
			Label string
		}
		if !s.readJSON(w, r, &req) {
			return
		}
		if !runIDRe.MatchString(req.ID) || req.Hosts < 0 || req.Hosts > 10_000_000 || len(req.Label) > 512 {
			s.answer(w, "start push run", nil, invalid("a run needs an id (letters, digits, . _ : -; at most 128) and a host count"))
			return
		}
		err := s.store.StartPushRun(r.Context(), store.PushRun{ID: req.ID, Started: s.cfg.Now(), Who: caller(r.Context()).Name, Hosts: req.Hosts, Label: req.Label})
		s.answer(w, "start push run", okBody, err)
	})
	h("POST /api/v1/push/runs/{id}/finish", func(w http.ResponseWriter, r *http.Request) {
		s.answer(w, "finish push run", okBody, s.store.FinishPushRun(r.Context(), r.PathValue("id"), s.cfg.Now()))
	})
	h("GET /api/v1/push/runs", func(w http.ResponseWriter, r *http.Request) {
		runs, err := s.store.PushRuns(r.Context(), 100)
		s.answer(w, "push runs", runs, err)
	})
	h("GET /api/v1/push/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		run, err := s.store.PushRunByID(r.Context(), r.PathValue("id"))
		s.answer(w, "push run", run, err)
	})
	h("GET /api/v1/push/runs/{id}/events", s.handlePushRunEvents)
}

// handlePushRunEvents streams a run's outcomes as Server-Sent Events: each
// "outcome" event is one host's outcome (its id the event's, so a
// reconnecting browser resumes with Last-Event-ID); a "run" event carries
// the counts after each batch; the stream ends with "end" once the run has
// finished and every outcome was sent.
func (s *Server) handlePushRunEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if _, err := s.store.PushRunByID(ctx, id); err != nil {
		s.answer(w, "push run", nil, err)
		return
	}
	var after int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		after, _ = strconv.ParseInt(v, 10, 64)
	}
	rc := http.NewResponseController(w)
	end := time.Now().Add(sseLifetime)
	rc.SetWriteDeadline(end.Add(time.Minute))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, id int64, v any) {
		b, _ := json.Marshal(v)
		if id > 0 {
			fmt.Fprintf(w, "id: %d\n", id)
		}
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
	}
	tick := time.NewTicker(ssePoll)
	defer tick.Stop()
	lastWrite, sentRun := time.Now(), false
	for time.Now().Before(end) {
		evs, err := s.store.PushRunEvents(ctx, id, after, sseBatch)
		if err != nil {
			s.log.Error("push run events", "run", id, "err", err)
			return
		}
		run, err := s.store.PushRunByID(ctx, id)
		if err != nil {
			return
		}
		for _, e := range evs {
			send("outcome", e.ID, e)
			after = e.ID
		}
		if len(evs) > 0 || !sentRun {
			send("run", 0, run)
			lastWrite, sentRun = time.Now(), true
		}
		if !run.Finished.IsZero() && len(evs) < sseBatch {
			send("end", 0, run)
			rc.Flush()
			return
		}
		if time.Since(lastWrite) > sseKeep {
			fmt.Fprint(w, ": keep-alive\n\n")
			lastWrite = time.Now()
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if len(evs) == sseBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
