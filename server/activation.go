package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"

	"muster/inventories/ocsxml"
	"muster/packages"
	"muster/server/store"
)

// ActivationCodeRe is the shape of an activation code: 10 letters A-Z.
var ActivationCodeRe = regexp.MustCompile(`^[A-Z]{10}$`)

// NewActivationCode draws 10 letters A-Z uniformly (26^10 ≈ 1.4·10^14).
func NewActivationCode() string {
	b := make([]byte, 10)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(26))
		b[i] = byte('A' + n.Int64())
	}
	return string(b)
}

// AddClient creates a client with a fresh code, drawing again in the
// unlikely case the code is taken.
func AddClient(ctx context.Context, st store.Store, name string) (store.Client, error) {
	if name == "" {
		return store.Client{}, invalid("client name is empty")
	}
	for i := 0; i < 5; i++ {
		c, err := st.AddClient(ctx, name, NewActivationCode())
		if !errors.Is(err, store.ErrExists) {
			return c, err
		}
		if cs, lerr := st.Clients(ctx); lerr == nil {
			for _, x := range cs {
				if x.Name == name {
					return store.Client{}, fmt.Errorf("client %q already exists (code %s): %w", name, x.Code, store.ErrExists)
				}
			}
		}
	}
	return store.Client{}, errors.New("could not draw a free activation code")
}

// ActivationRequest is what `muster agent activate` posts.
type ActivationRequest struct {
	Code     string `json:"code"`
	DeviceID string `json:"deviceid"`
	// Secret is the device's secret from its last activation: it proves a
	// bound device's own request (a move to another client, a
	// deactivation).
	Secret string `json:"secret,omitempty"`
}

// ActivationReply answers it.
type ActivationReply struct {
	Client string `json:"client,omitempty"`
	// PackageKey is the server's package-signing public key (base64),
	// which the agent pins.
	PackageKey string `json:"package_key,omitempty"`
	// Secret is the device's new secret, which the agent keeps sealed.
	Secret string `json:"secret,omitempty"`
	// Result is ACT-n on failure, with its meaning and, for ACT-0, an
	// error id to quote.
	Result  string `json:"result,omitempty"`
	Message string `json:"message,omitempty"`
	ErrorID string `json:"error_id,omitempty"`
}

// ActMeanings explains the activation result codes.
var ActMeanings = map[string]string{
	"ACT-0": "unhandled server error: quote the error id to support",
	"ACT-1": "malformed or corrupted request",
	"ACT-2": "invalid activation code (usually mis-keyed)",
	"ACT-3": "the client directory is unavailable",
	"ACT-4": "creating the agent failed: try again",
	"ACT-5": "this device is bound to a client: it moves only by its own request, with the secret it got at activation (or after muster server device release)",
	"ACT-6": "this device's secret is needed to deactivate it",
	"ACT-7": "too many activation attempts from this address: wait a minute",
}

// hashSecret is what the store keeps of a device secret.
func hashSecret(secret string) string {
	if secret == "" {
		return ""
	}
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// newSecret draws a device secret (256 bits).
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// rateLimited answers a request the code limiter refused, without a log
// line of its own (the limiter logs refusals in aggregate).
func (s *Server) rateLimited(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "60")
	writeJSON(w, http.StatusTooManyRequests, ActivationReply{Result: "ACT-7", Message: ActMeanings["ACT-7"]})
}

func (s *Server) actFail(w http.ResponseWriter, status int, code string, err error) {
	rep := ActivationReply{Result: code, Message: ActMeanings[code]}
	if code == "ACT-0" {
		b := make([]byte, 6)
		rand.Read(b)
		rep.ErrorID = hex.EncodeToString(b)
	}
	s.log.Warn("activation refused", "result", code, "error_id", rep.ErrorID, "err", err)
	writeJSON(w, status, rep)
}

// handleActivate binds an agent's device to the client of its code.
func (s *Server) handleActivate(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			s.actFail(w, http.StatusInternalServerError, "ACT-0", fmt.Errorf("panic: %v", p))
		}
	}()
	if s.cfg.AgentUser != "" && !s.agentAuthOK(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="OCS Inventory"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	if !s.codes.allow(clientIP(r)) {
		s.rateLimited(w)
		return
	}
	var req ActivationRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		s.actFail(w, http.StatusBadRequest, "ACT-1", err)
		return
	}
	if !ActivationCodeRe.MatchString(req.Code) || !ocsxml.ValidDeviceID(req.DeviceID) {
		s.actFail(w, http.StatusBadRequest, "ACT-1", fmt.Errorf("code %q, deviceid %q", req.Code, req.DeviceID))
		return
	}
	if _, err := s.store.Clients(r.Context()); err != nil {
		s.actFail(w, http.StatusServiceUnavailable, "ACT-3", err)
		return
	}
	secret := newSecret()
	c, err := s.store.Activate(r.Context(), req.Code, req.DeviceID, store.Binding{Presented: hashSecret(req.Secret), Next: hashSecret(secret)}, s.cfg.Now())
	switch {
	case errors.Is(err, store.ErrUnknownCode):
		s.actFail(w, http.StatusNotFound, "ACT-2", err)
	case errors.Is(err, store.ErrBound):
		s.actFail(w, http.StatusConflict, "ACT-5", fmt.Errorf("device %s: %w", req.DeviceID, err))
	case err != nil:
		s.actFail(w, http.StatusInternalServerError, "ACT-4", err)
	default:
		s.log.Info("device activated", "deviceid", req.DeviceID, "client", c.Name)
		rep := ActivationReply{Client: c.Name, Secret: secret}
		if s.cfg.PackageSigner != nil {
			rep.PackageKey = packages.EncodePublicKey(s.cfg.PackageSigner.Public().(ed25519.PublicKey))
		}
		writeJSON(w, http.StatusOK, rep)
	}
}

// handleDeactivate unbinds an agent's device from its client.
func (s *Server) handleDeactivate(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AgentUser != "" && !s.agentAuthOK(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="OCS Inventory"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	var req ActivationRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || !ocsxml.ValidDeviceID(req.DeviceID) {
		s.actFail(w, http.StatusBadRequest, "ACT-1", err)
		return
	}
	if !s.codes.allow(clientIP(r)) {
		s.rateLimited(w)
		return
	}
	err := s.store.Deactivate(r.Context(), req.DeviceID, hashSecret(req.Secret))
	switch {
	case errors.Is(err, store.ErrBound):
		s.actFail(w, http.StatusForbidden, "ACT-6", fmt.Errorf("device %s: %w", req.DeviceID, err))
		return
	case err != nil && !errors.Is(err, store.ErrNotFound):
		s.actFail(w, http.StatusInternalServerError, "ACT-0", err)
		return
	}
	writeJSON(w, http.StatusOK, ActivationReply{})
}
