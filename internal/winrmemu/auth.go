//go:build unix

package winrmemu

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"

	"muster/push/winrm"
)

// Profiles: how the emulator authenticates, as a host configured so would.
const (
	// ProfileWindows is a default Windows WinRM service: Negotiate
	// (NTLMv2) only, Basic off, AllowUnencrypted false, so that over HTTP
	// every message must be sealed (MS-WSMV encrypted bodies).
	ProfileWindows = "windows"
	// ProfilePOSIX is a host with Basic on and AllowUnencrypted true, the
	// old test set-up for POSIX hosts behind WinRM.
	ProfilePOSIX = "posix"
)

type connKey struct{}

// connAuth is one TCP connection's authentication: NTLM authenticates a
// connection, not a request.
type connAuth struct {
	mu   sync.Mutex
	ntlm *ntlmState
}

func (s *Server) connContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connAuth{})
}

// session is what the auth layer decided for one request.
type session struct {
	user string
	// sealer is set when the request came encrypted: the reply goes
	// back the same way.
	sealer winrm.Sealer
	body   []byte
}

// authenticate runs the profile's checks. It writes the reply itself (401,
// 413, the empty 200 of a handshake) and returns nil when the request
// goes no further; otherwise the plaintext SOAP body and how to answer.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *session {
	if s.cfg.Profile == ProfilePOSIX {
		u, p, ok := r.BasicAuth()
		want, known := s.cfg.Users[u]
		if !ok || !known || subtle.ConstantTimeCompare([]byte(p), []byte(want)) != 1 {
			s.count("auth-refused")
			w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
			w.WriteHeader(http.StatusUnauthorized)
			return nil
		}
		body, ok := s.readBody(w, r)
		if !ok {
			return nil
		}
		if len(body) > s.cfg.MaxEnvelopeSize {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return nil
		}
		return &session{user: u, body: body}
	}
	ca, _ := r.Context().Value(connKey{}).(*connAuth)
	if ca == nil {
		ca = &connAuth{}
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	authz := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(authz, " ")
	switch {
	case strings.EqualFold(scheme, "Basic"):
		// Basic is off on a default host: the password arrived anyway.
		s.count("basic-refused")
		s.refuse(w, ca)
		return nil
	case strings.EqualFold(scheme, "Negotiate"):
		msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
		if err != nil || len(msg) < 12 {
			s.refuse(w, ca)
			return nil
		}
		if string(msg[:8]) != ntlmSignature {
			// SPNEGO with a Kerberos ticket: one leg, checked against the
			// host's keytab; no sealing, so plain SOAP only over TLS.
			user, err := acceptKerberos(s.cfg.Keytab, msg)
			if err != nil {
				s.count("auth-refused")
				s.refuse(w, ca)
				return nil
			}
			ca.ntlm = &ntlmState{user: user}
			s.count("authenticated")
			break
		}
		switch msg[8] {
		case 1:
			ca.ntlm = &ntlmState{}
			ch, err := ca.ntlm.challengeFor(msg, s.cfg.Computer, s.cfg.Domain)
			if err != nil {
				s.refuse(w, ca)
				return nil
			}
			s.readBody(w, r) // drain; a leg's body is not processed
			w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(ch))
			w.WriteHeader(http.StatusUnauthorized)
			return nil
		case 3:
			if ca.ntlm == nil || ca.ntlm.authenticate(msg, s.password) != nil {
				s.count("auth-refused")
				s.refuse(w, ca)
				return nil
			}
			s.count("authenticated")
		default:
			s.refuse(w, ca)
			return nil
		}
	case authz != "":
		s.refuse(w, ca)
		return nil
	}
	if ca.ntlm == nil || ca.ntlm.user == "" {
		s.refuse(w, ca)
		return nil
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return nil
	}
	sess := &session{user: ca.ntlm.user}
	switch {
	case len(body) == 0:
		// The empty POST that sets up a context (pywinrm, muster).
		w.Header().Set("Content-Type", winrm.SOAPContentType)
		w.WriteHeader(http.StatusOK)
		return nil
	case winrm.IsEncrypted(r.Header.Get("Content-Type")):
		if ca.ntlm.sealer == nil {
			s.refuse(w, ca)
			return nil
		}
		plain, err := winrm.Open(ca.ntlm.sealer, body)
		if err != nil {
			// A message that does not open breaks the context.
			s.count("bad-seal")
			s.refuse(w, ca)
			return nil
		}
		sess.sealer, sess.body = ca.ntlm.sealer, plain
	case r.TLS == nil:
		// AllowUnencrypted=false: authenticated but plain SOAP over HTTP
		// is refused, and the host keeps answering 401.
		s.count("unencrypted-refused")
		s.refuse(w, ca)
		return nil
	default:
		sess.body = body
	}
	if len(sess.body) > s.cfg.MaxEnvelopeSize {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return nil
	}
	return sess
}

// refuse answers 401 with what a default host offers, and forgets the
// connection's context.
func (s *Server) refuse(w http.ResponseWriter, ca *connAuth) {
	ca.ntlm = nil
	w.Header().Set("WWW-Authenticate", "Negotiate")
	w.WriteHeader(http.StatusUnauthorized)
}

// readBody reads a request body up to the envelope limit plus the
// encryption's framing; larger ones get 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	limit := int64(s.cfg.MaxEnvelopeSize) + 1024
	var b bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= limit {
		b.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	n, err := b.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if n >= limit || strings.Contains(err.Error(), "too large") {
			// MS-WSMV 3.1.4.1.20: 413, no SOAP body.
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
		return nil, false
	}
	return b.Bytes(), true
}

// password finds a user's password: DOMAIN\user entries for domain logons,
// plain entries for local ones (no domain, ".", or the host's own name);
// user@domain is taken apart.
func (s *Server) password(user, domain string) (string, bool) {
	if u, d, ok := strings.Cut(user, "@"); ok && domain == "" {
		user, domain = u, strings.SplitN(d, ".", 2)[0]
	}
	for name, pw := range s.cfg.Users {
		d, u, qualified := strings.Cut(name, `\`)
		if !qualified {
			u, d = name, ""
		}
		if !strings.EqualFold(u, user) {
			continue
		}
		switch {
		case qualified && strings.EqualFold(d, domain):
			return pw, true
		case !qualified && (domain == "" || domain == "." || strings.EqualFold(domain, s.cfg.Computer) || strings.EqualFold(domain, s.cfg.Domain)):
			return pw, true
		}
	}
	return "", false
}

// bufferedReply keeps a reply so that it can be sealed before it is sent.
type bufferedReply struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedReply) Header() http.Header { return b.header }
func (b *bufferedReply) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedReply) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// sealReply sends a buffered reply sealed with the request's context.
func sealReply(w http.ResponseWriter, br *bufferedReply, sealer winrm.Sealer) {
	status := br.status
	if status == 0 {
		status = http.StatusOK
	}
	if br.body.Len() == 0 {
		w.WriteHeader(status)
		return
	}
	sealed, err := winrm.Seal(sealer, br.body.Bytes())
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", winrm.EncryptedContentType)
	w.WriteHeader(status)
	w.Write(sealed)
}
