package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"muster/inventories"
	"muster/inventories/ocsxml"
	"muster/server/store"
)

// knownAgents are the User-Agent names (the part before the last "_v") a
// PROLOG is accepted from: the OCS agents the real server accepts, the
// FusionInventory agent Debian lists as extra, and muster's own agent.
var knownAgents = map[string]bool{
	"OCS-NG_unified_unix_agent":   true,
	"OCS-NG_WINDOWS_AGENT":        true,
	"OCS-NG_windows_client":       true,
	"OCS-NG_windows_mobile_agent": true,
	"OCS-NG_iOS_agent":            true,
	"OCS-NG_Android_agent":        true,
	"FusionInventory-Agent":       true,
	"muster-agent":                true,
}

// agentName returns the name part of an OCS User-Agent ("name_vVERSION").
func agentName(ua string) string {
	if i := strings.LastIndex(ua, "_v"); i > 0 {
		return ua[:i]
	}
	if i := strings.IndexByte(ua, '/'); i > 0 {
		return ua[:i] // FusionInventory-Agent/2.x style
	}
	return ua
}

// httpError is a request the server refuses, with the status to send and a
// message for the client and the log.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// handleOCS serves POST /ocsinventory: every agent message, told apart by
// its QUERY.
func (s *Server) handleOCS(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	query, deviceID, err := s.serveOCS(w, r)
	q := queryLabel(query)
	s.metrics.latency.WithLabelValues(q).Observe(time.Since(start).Seconds())
	outcome := "ok"
	var he0 *httpError
	switch {
	case err == nil:
	case errors.As(err, &he0) && he0.status < 500:
		outcome = "refused"
	default:
		outcome = "error"
		s.metrics.errors.WithLabelValues("ocs_" + strings.ToLower(q)).Inc()
	}
	s.metrics.requests.WithLabelValues(q, outcome).Inc()
	if err == nil {
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("ocs request", "remote", r.RemoteAddr, "query", query, "deviceid", deviceID, "ms", time.Since(start).Milliseconds())
		}
		return
	}
	log := s.log.With("remote", r.RemoteAddr, "query", query, "deviceid", deviceID, "ms", time.Since(start).Milliseconds())
	var he *httpError
	switch {
	case errors.As(err, &he):
		if he.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="OCS Inventory"`)
		}
		if he.status >= 500 {
			log.Error("ocs request failed", "status", he.status, "err", he.msg)
		} else {
			log.Warn("ocs request refused", "status", he.status, "reason", he.msg, "useragent", r.UserAgent())
		}
		http.Error(w, he.msg, he.status)
	default:
		log.Error("ocs request failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

func (s *Server) serveOCS(w http.ResponseWriter, r *http.Request) (query, deviceID string, err error) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodGet, http.MethodHead:
		return "", "", fail(http.StatusBadRequest, "agents POST to this URL")
	default:
		return "", "", fail(http.StatusForbidden, "method %s not allowed", r.Method)
	}
	if s.cfg.AgentUser != "" && !s.agentAuthOK(r) {
		return "", "", fail(http.StatusUnauthorized, "authentication required")
	}
	// Reading, inflating and parsing happen inside a parse slot, so the
	// memory they take is bounded whatever the number of clients.
	release, err := s.acquire(r.Context())
	if err != nil {
		return "", "", err
	}
	defer release()
	body, err := s.readBody(w, r, s.cfg.MaxBody)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return "", "", fail(http.StatusRequestEntityTooLarge, "body over the limit of %d bytes", s.cfg.MaxBody)
		case errors.Is(err, errSlowBody):
			return "", "", fail(http.StatusRequestTimeout, "%v", err)
		}
		return "", "", fail(http.StatusBadRequest, "read body: %v", err)
	}
	data, _, err := ocsxml.DecodeBody(body, s.cfg.MaxBody)
	switch {
	case errors.Is(err, ocsxml.ErrTooLarge):
		return "", "", fail(http.StatusRequestEntityTooLarge, "%v", err)
	case err != nil:
		return "", "", fail(http.StatusBadRequest, "body: %v", err)
	}
	req, err := ocsxml.ParseRequest(data, s.cfg.XMLLimits)
	if err != nil {
		return "", "", fail(http.StatusBadRequest, "%v", err)
	}
	query, deviceID = req.Query, req.DeviceID
	if query == "" {
		return query, deviceID, fail(http.StatusBadRequest, "request has no QUERY")
	}
	if !ocsxml.ValidDeviceID(deviceID) {
		return query, deviceID, fail(http.StatusBadRequest, "DEVICEID %q: %v", deviceID, inventories.ErrBadDeviceID)
	}
	now := s.cfg.Now()
	switch query {
	case ocsxml.QueryProlog:
		return query, deviceID, s.prolog(w, r, req, now)
	case ocsxml.QueryInventory:
		return query, deviceID, s.inventory(w, r, req, now)
	case ocsxml.QueryNotify, ocsxml.QueryDownload, ocsxml.QuerySNMP:
		ev := store.Event{DeviceID: deviceID, Query: query, Fields: req.Root.Fields(), At: now}
		delete(ev.Fields, "DEVICEID")
		delete(ev.Fields, "QUERY")
		if err := s.checkEvent(r, ev); err != nil {
			return query, deviceID, err
		}
		if err := s.store.SaveEvent(r.Context(), ev); err != nil {
			return query, deviceID, err
		}
		if query == ocsxml.QueryDownload {
			// Unix agents put ID and ERR in attributes, Windows agents in
			// elements: Fields has both.
			id, code := ev.Fields["ID"], ev.Fields["ERR"]
			ok, err := s.store.PackageResult(r.Context(), deviceID, id, code, now)
			if err != nil {
				return query, deviceID, err
			}
			s.metrics.results.WithLabelValues(resultLabel(code)).Inc()
			s.log.Info("package result", "deviceid", deviceID, "package", id, "result", code, "assigned", ok)
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return query, deviceID, nil
	}
	return query, deviceID, fail(http.StatusBadRequest, "unknown QUERY %q", query)
}

// checkEvent admits an event only from a device the server knows (one
// that sent an inventory or activated), within the field caps: nothing
// unknown can fill the disk.
func (s *Server) checkEvent(r *http.Request, ev store.Event) error {
	if len(ev.Fields) > s.cfg.Limits.MaxEventFields {
		return fail(http.StatusRequestEntityTooLarge, "event with %d fields, over the limit of %d", len(ev.Fields), s.cfg.Limits.MaxEventFields)
	}
	for k, v := range ev.Fields {
		if len(k)+len(v) > s.cfg.Limits.MaxFieldBytes {
			return fail(http.StatusRequestEntityTooLarge, "event field %.40q of %d bytes, over the limit of %d", k, len(k)+len(v), s.cfg.Limits.MaxFieldBytes)
		}
	}
	if _, err := s.store.Device(r.Context(), ev.DeviceID); errors.Is(err, store.ErrNotFound) {
		return fail(http.StatusForbidden, "%s from unknown device %.80q: send an inventory first", ev.Query, ev.DeviceID)
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Server) agentAuthOK(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	if !ok {
		return false
	}
	uok := subtle.ConstantTimeCompare([]byte(u), []byte(s.cfg.AgentUser))
	pok := subtle.ConstantTimeCompare([]byte(p), []byte(s.cfg.AgentPassword))
	return uok&pok == 1
}

// prolog answers SEND or STOP as the OCS server does: FREQUENCY is the
// number of days an inventory stays valid (0 = always send, -1 = never).
func (s *Server) prolog(w http.ResponseWriter, r *http.Request, req *ocsxml.Request, now time.Time) error {
	ua := r.UserAgent()
	if !knownAgents[agentName(ua)] {
		return fail(http.StatusBadRequest, "user agent %q is not an OCS-compatible agent", ua)
	}
	st, err := s.store.Contact(r.Context(), req.DeviceID, ua, now)
	if err != nil {
		return err
	}
	reply := &ocsxml.PrologReply{
		Response:   decide(s.cfg.Frequency, st, now),
		PrologFreq: s.cfg.PrologFreq,
	}
	if s.cfg.Frequency != -1 {
		opt, err := s.downloadOption(r.Context(), r, req.DeviceID, st.Known, now)
		if err != nil {
			return err
		}
		reply.Options = append(reply.Options, opt)
		if st.Known {
			opt, freq, err := s.ipdiscoverOption(r.Context(), req.DeviceID, reply.PrologFreq, now)
			if err != nil {
				return err
			}
			reply.PrologFreq = freq
			if opt != nil {
				// The results travel in the inventory: SEND, whatever
				// FREQUENCY says.
				reply.Options = append(reply.Options, *opt)
				reply.Response = ocsxml.Send
				s.scanAsked.Store(req.DeviceID, now)
			}
		}
	}
	writeReply(w, reply.Node())
	return nil
}

func decide(frequency int, st store.ContactState, now time.Time) string {
	switch {
	case frequency == -1:
		return ocsxml.Stop
	case !st.Known, frequency == 0, st.LastInventory.IsZero():
		return ocsxml.Send
	case now.Sub(st.LastInventory) > time.Duration(frequency)*24*time.Hour:
		return ocsxml.Send
	}
	return ocsxml.Stop
}

func (s *Server) inventory(w http.ResponseWriter, r *http.Request, req *ocsxml.Request, now time.Time) error {
	inv, err := inventories.Decode(req.Content)
	if err != nil {
		return fail(http.StatusBadRequest, "%v", err)
	}
	res, err := s.store.SaveInventory(r.Context(), req.DeviceID, inv, store.Meta{
		ClientIP: clientIP(r), UserAgent: r.UserAgent(), Received: now,
	})
	if err != nil {
		return err
	}
	s.afterInventory(r.Context(), req.DeviceID, r.UserAgent(), inv, now)
	s.mergeOldDeviceID(r.Context(), req.DeviceID, inv)
	s.autoDuplicates(r.Context(), req.DeviceID)
	sum, _ := inv.Checksum()
	s.log.Info("inventory stored", "deviceid", req.DeviceID, "id", res.ID, "new", res.Created,
		"name", inv.Hardware.Name, "checksum", sum, "softwares", len(inv.Softwares))
	reply := &ocsxml.InventoryReply{Response: ocsxml.NoAccountUpdate}
	if res.AccountUpdate {
		reply.Response = ocsxml.AccountUpdate
		reply.AccountInfo = res.AccountInfo
	}
	writeReply(w, reply.Node())
	return nil
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeReply(w http.ResponseWriter, root *ocsxml.Node) {
	body := ocsxml.CompressCached(ocsxml.Marshal(ocsxml.ReplyDecl, root))
	h := w.Header()
	h.Set("Content-Type", "application/x-compressed")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
