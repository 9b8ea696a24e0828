package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"muster/server/store"
)

// Who made a request: a console user with a role, or the API token (an
// admin). Handlers read it with caller.
type principal struct {
	Name string
	Role string
}

type principalKey struct{}

func caller(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// tokenPrincipal is who the audit log names for the API token.
const tokenPrincipal = "api-token"

// SessionCookie is the console's session cookie; its value is random and
// the store keeps only its SHA-256.
const SessionCookie = "muster_session"

// CSRFHeader carries a session's CSRF token on every change.
const CSRFHeader = "X-CSRF-Token"

// sessionTTL is how long a console login lasts.
const sessionTTL = 12 * time.Hour

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session returns the request's live console session, if any.
func (s *Server) session(r *http.Request) (store.Session, bool, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return store.Session{}, false, nil
	}
	se, err := s.store.SessionByHash(r.Context(), HashToken(c.Value), s.cfg.Now())
	if errors.Is(err, store.ErrNotFound) {
		return se, false, nil
	}
	return se, err == nil, err
}

// sameOrigin refuses a browser's cross-site change: an Origin header,
// when present, must name this server's host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets Server-Sent Events through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// requireAuth lets a request through with the API token (an admin) or a
// console session. A session's change needs its CSRF token in CSRFHeader,
// a same-origin request and the admin role: a viewer is refused by the
// server, whatever the page shows. Every change that succeeds is recorded
// in the audit log with who made it.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	byToken := s.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveAudited(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, principal{tokenPrincipal, store.RoleAdmin})), next)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			byToken.ServeHTTP(w, r)
			return
		}
		se, ok, err := s.session(r)
		if err != nil {
			s.respond(w, "check session", nil, err)
			return
		}
		if !ok {
			byToken.ServeHTTP(w, r) // answers what a missing token calls for
			return
		}
		if !safeMethod(r.Method) {
			switch {
			case !sameOrigin(r):
				writeJSON(w, http.StatusForbidden, apiError{"cross-site request refused"})
				return
			case subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(se.CSRF)) != 1:
				writeJSON(w, http.StatusForbidden, apiError{"missing or wrong CSRF token (" + CSRFHeader + ")"})
				return
			case se.Role != store.RoleAdmin:
				writeJSON(w, http.StatusForbidden, apiError{"user " + se.Name + " is a viewer: read only"})
				return
			}
		}
		s.serveAudited(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, principal{se.Name, se.Role})), next)
	})
}

// serveAudited runs next and records a change that succeeded.
func (s *Server) serveAudited(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if safeMethod(r.Method) {
		next.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	if sw.status == 0 || sw.status >= 400 {
		return
	}
	s.audit(r.Context(), caller(r.Context()).Name, r.Method+" "+r.URL.Path, "")
}

func (s *Server) audit(ctx context.Context, who, action, detail string) {
	if err := s.store.Audit(context.WithoutCancel(ctx), store.AuditEntry{At: s.cfg.Now(), Who: who, Action: action, Detail: detail}); err != nil {
		s.log.Error("audit", "who", who, "action", action, "err", err)
	}
}
