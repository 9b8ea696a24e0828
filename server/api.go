package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"muster/discover"
	"muster/inventories"
	"muster/server/store"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

type apiError struct {
	Error string `json:"error"`
}

// respond answers an API call with v, or with what err calls for: 404 for
// store.ErrNotFound, 500 (logged as what failed) for anything else.
func (s *Server) respond(w http.ResponseWriter, what string, v any, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, v)
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{err.Error()})
	default:
		s.log.Error("api: "+what, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"internal error"})
	}
}

// requireToken lets a request through only with a valid bearer token.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="muster"`)
			writeJSON(w, http.StatusUnauthorized, apiError{"missing bearer token (Authorization: Bearer <token>; rotate one with 'muster server token')"})
			return
		}
		valid, err := s.store.APITokenValid(r.Context(), HashToken(strings.TrimSpace(token)))
		if err != nil {
			s.respond(w, "check token", nil, err)
			return
		}
		if !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="muster", error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, apiError{"invalid bearer token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.HasAPIToken(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handlePushRecord stores push outcomes posted by muster push --server.
func (s *Server) handlePushRecord(w http.ResponseWriter, r *http.Request) {
	var recs []store.PushHost
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&recs); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"want a JSON array of push records: " + err.Error()})
		return
	}
	for _, p := range recs {
		if p.Host == "" || p.Name == "" || p.Outcome == "" {
			writeJSON(w, http.StatusBadRequest, apiError{"a record needs host, name and outcome"})
			return
		}
		if p.At.IsZero() {
			p.At = s.cfg.Now()
		}
		if err := s.store.RecordPush(r.Context(), p); err != nil {
			s.respond(w, "record push", nil, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]int{"recorded": len(recs)})
}

// handlePushQueue lists the hosts waiting for a push (?due=1: only those
// the network map has seen again).
func (s *Server) handlePushQueue(w http.ResponseWriter, r *http.Request) {
	q, err := s.store.PushQueue(r.Context(), r.URL.Query().Get("due") == "1")
	s.respond(w, "push queue", q, err)
}

// NetworkReport is a one-off scan reported by muster discover --report.
type NetworkReport struct {
	Subnet string                       `json:"subnet"`
	Mask   string                       `json:"mask"`
	Hosts  []inventories.DiscoveredHost `json:"hosts"`
}

// handleNetworkReport stores a one-off scan in the network map.
func (s *Server) handleNetworkReport(w http.ResponseWriter, r *http.Request) {
	var rep NetworkReport
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&rep); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"want {subnet, mask, hosts: [{ip, mac, name}]}: " + err.Error()})
		return
	}
	if a, err := netip.ParseAddr(rep.Subnet); err != nil || !a.Is4() {
		writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf("subnet %q: want an IPv4 network address", rep.Subnet)})
		return
	}
	vendors := discover.BuiltinVendors()
	n, err := s.store.RecordScan(r.Context(), "", rep.Subnet, rep.Mask, rep.Hosts, func(mac string) string {
		hw, err := net.ParseMAC(mac)
		if err != nil {
			return ""
		}
		return vendors.Lookup(hw)
	}, s.cfg.Now())
	s.respond(w, "network report", map[string]int{"stored": n}, err)
}
