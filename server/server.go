// Package server is muster's communication server: it speaks the OCS
// Inventory NG agent protocol on /ocsinventory, so stock OCS agents and
// muster's own agent inventory into it, and serves muster's JSON API under
// /api/v1. What it learns goes to a store.Store.
package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"muster/inventories/ocsxml"
	"muster/server/store"
)

// Config is the server's configuration. Zero values take the defaults.
type Config struct {
	// Listen is the address to listen on (default 127.0.0.1:8080).
	Listen string
	// TLSCert and TLSKey, when both set, make the server speak HTTPS.
	TLSCert, TLSKey string
	// AgentUser and AgentPassword, when set, require HTTP Basic auth on
	// /ocsinventory (realm "OCS Inventory", as OCS agents expect).
	AgentUser, AgentPassword string
	// MaxBody bounds a request body, compressed or inflated (default 64 MiB).
	MaxBody int64
	// XMLLimits bound the nesting and size of request documents.
	XMLLimits ocsxml.Limits
	// Frequency is OCS's FREQUENCY: days an inventory stays valid before a
	// PROLOG is answered SEND again. 0 = always SEND, -1 = never.
	Frequency int
	// PrologFreq is OCS's PROLOG_FREQ: hours between agent contacts
	// (default 24).
	PrologFreq int
	// Log receives the server's logs (default slog.Default()).
	Log *slog.Logger
	// InstallersDir holds agent binaries served by /download
	// (muster-agent-OS-ARCH[.exe]).
	InstallersDir string
	// PackagesDir is the package store served under /download/ID/ (empty:
	// no deployment).
	PackagesDir string
	// PackageInfoLoc and PackagePackLoc, host[:port]/path, tell agents
	// where to fetch info files (always over HTTPS) and fragments (a web
	// server or CDN holding a copy of the store); default: this server,
	// as the agent reached it, /download.
	PackageInfoLoc, PackagePackLoc string
	// ActivationRate bounds the requests per minute and IP that try an
	// activation code or a device secret (default 10; -1 for no limit).
	ActivationRate int
	// PackageSigner is the key packages are signed with (muster package
	// build uses the same file); its public half is given to agents at
	// activation, which pin it.
	PackageSigner ed25519.PrivateKey
	// Limits bound what clients can make the server hold.
	Limits Limits
	// Now is the server's clock (default time.Now); tests move it.
	Now func() time.Time
}

// Defaults for Config.
const (
	DefaultListen     = "127.0.0.1:8080"
	DefaultMaxBody    = 8 << 20
	DefaultPrologFreq = 24
)

// DefaultActivationRate is the activation attempts a minute allowed per
// IP: an agent needs one; guessing a 26^10 code space needs billions.
const DefaultActivationRate = 10

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.XMLLimits.MaxDepth <= 0 {
		c.XMLLimits = ocsxml.Limits{MaxDepth: ocsxml.DefaultLimits.MaxDepth, MaxElements: DefaultMaxElements}
	}
	c.Limits.setDefaults()
	if c.PrologFreq <= 0 {
		c.PrologFreq = DefaultPrologFreq
	}
	if c.ActivationRate == 0 {
		c.ActivationRate = DefaultActivationRate
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Server is a communication server bound to a store.
type Server struct {
	cfg   Config
	store store.Store
	log   *slog.Logger
	// scanAsked holds the devices a PROLOG asked to run IPDISCOVER, until
	// their inventory: only those lose their election for reporting
	// nothing (an agent not asked, its subnet not due, keeps it).
	scanAsked sync.Map
	// codes limits the requests that try activation codes or device
	// secrets (/activate, /deactivate, /download?code=), per IP.
	codes *limiter
	// parses holds a token per agent message being read and parsed.
	parses chan struct{}
	// connRefusals counts connections refused by the limits, logged in
	// aggregate.
	connRefusals *refusals
	metrics      *metrics
	// logins limits console login attempts per IP.
	logins *limiter
}

// New returns a server over st. It does not listen; see Handler and Serve.
func New(cfg Config, st store.Store) (*Server, error) {
	cfg.setDefaults()
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("server: --tls-cert and --tls-key go together")
	}
	if (cfg.AgentUser == "") != (cfg.AgentPassword == "") {
		return nil, errors.New("server: --agent-user and --agent-password go together")
	}
	if cfg.Frequency < -1 {
		return nil, fmt.Errorf("server: frequency %d: must be -1, 0 or a number of days", cfg.Frequency)
	}
	srv := &Server{cfg: cfg, store: st, log: cfg.Log}
	srv.parses = make(chan struct{}, cfg.Limits.MaxParses)
	srv.metrics = newMetrics(st)
	srv.connRefusals = newRefusals("connections over the limits", cfg.Log, cfg.Now)
	srv.codes = newLimiter("activation codes", cfg.ActivationRate, max(cfg.ActivationRate, 1), cfg.Log, cfg.Now)
	return srv, nil
}

// Handler returns the server's HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ocsinventory", s.handleOCS)
	mux.HandleFunc("/ocsinventory/", s.handleOCS)
	mux.HandleFunc("POST /activate", s.handleActivate)
	mux.HandleFunc("POST /deactivate", s.handleDeactivate)
	mux.HandleFunc("GET /download", s.handleDownload)
	mux.HandleFunc("GET /download/{id}/{file}", s.handlePackageFile)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", s.requireToken(s.metrics.handler()))
	mux.Handle("POST /api/v1/push/records", s.requireAuth(http.HandlerFunc(s.handlePushRecord)))
	mux.Handle("POST /api/v1/network/report", s.requireAuth(http.HandlerFunc(s.handleNetworkReport)))
	mux.Handle("GET /api/v1/push/queue", s.requireAuth(http.HandlerFunc(s.handlePushQueue)))
	s.adminRoutes(mux)
	s.consoleRoutes(mux)
	s.pushRunRoutes(mux)
	return mux
}

// Serve listens on the configured address and serves until ctx ends, then
// shuts down gracefully. ready, if not nil, is called with the bound
// address once the listener is open.
func (s *Server) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("server: load TLS key pair %s, %s: %w", s.cfg.TLSCert, s.cfg.TLSKey, err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	ln = limitConns(ln, s.cfg.Limits.MaxConns, s.cfg.Limits.MaxConnsPerIP, s.connRefusals.add)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// Scheme returns "https" when the server is configured for TLS, else
// "http".
func (s *Server) Scheme() string {
	if s.cfg.TLSCert != "" {
		return "https"
	}
	return "http"
}

// NewAPIToken returns a fresh random API token and the hash to store.
func NewAPIToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand.Read never fails on supported platforms
	token = "mst_" + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how API tokens are stored: SHA-256, hex. Tokens carry 256
// random bits, so a slow password hash would add nothing.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// EnsureAPIToken creates the first API token if the store has none. It
// returns the token when it made one (to be shown once), else "".
func EnsureAPIToken(ctx context.Context, st store.Store) (string, error) {
	has, err := st.HasAPIToken(ctx)
	if err != nil {
		return "", fmt.Errorf("check API token: %w", err)
	}
	if has {
		return "", nil
	}
	token, hash := NewAPIToken()
	if err := st.RotateAPIToken(ctx, hash); err != nil {
		return "", fmt.Errorf("store API token: %w", err)
	}
	return token, nil
}
