package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits bound what any client, known or not, can make the server hold.
// Peak memory for agent messages is about
// MaxParses × (2 × MaxBody + 600 B × XMLLimits.MaxElements): a body is
// read, inflated and parsed only inside one of MaxParses slots.
type Limits struct {
	// MaxUpload bounds a package archive uploaded through the API
	// (default DefaultMaxUpload, 8 GiB).
	MaxUpload int64
	// MaxParses is the agent messages read and parsed at once (default
	// 4); others wait up to ParseWait for a slot, then get 503.
	MaxParses int
	ParseWait time.Duration
	// MaxConns and MaxConnsPerIP bound the open connections (defaults
	// 4096 and 64); one over the limit is closed at once.
	MaxConns, MaxConnsPerIP int
	// MinBodyRate is the bytes a second a request body must average
	// once BodyGrace has passed (default 1 KiB/s after 10 s); no single
	// read may wait longer than BodyGrace either. A slower body is cut.
	MinBodyRate int64
	BodyGrace   time.Duration
	// MaxEventFields and MaxFieldBytes bound a NOTIFY, DOWNLOAD or SNMP
	// event (defaults 64 fields of 4 KiB); events come from known
	// devices only.
	MaxEventFields, MaxFieldBytes int
}

// Defaults for Limits.
const (
	DefaultMaxParses      = 4
	DefaultParseWait      = 30 * time.Second
	DefaultMaxConns       = 4096
	DefaultMaxConnsPerIP  = 64
	DefaultMinBodyRate    = 1 << 10
	DefaultBodyGrace      = 10 * time.Second
	DefaultMaxEventFields = 64
	DefaultMaxFieldBytes  = 4 << 10
	// DefaultMaxElements is the server's element limit per document: a
	// big real inventory holds tens of thousands.
	DefaultMaxElements = 100_000
)

func (l *Limits) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxParses, DefaultMaxParses)
	def(&l.MaxConns, DefaultMaxConns)
	def(&l.MaxConnsPerIP, DefaultMaxConnsPerIP)
	def(&l.MaxEventFields, DefaultMaxEventFields)
	def(&l.MaxFieldBytes, DefaultMaxFieldBytes)
	if l.ParseWait <= 0 {
		l.ParseWait = DefaultParseWait
	}
	if l.MinBodyRate <= 0 {
		l.MinBodyRate = DefaultMinBodyRate
	}
	if l.BodyGrace <= 0 {
		l.BodyGrace = DefaultBodyGrace
	}
}

// errSlowBody cuts a body that comes too slowly.
var errSlowBody = errors.New("request body too slow")

// acquire takes a parse slot, waiting up to ParseWait.
func (s *Server) acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(s.cfg.Limits.ParseWait)
	defer t.Stop()
	select {
	case s.parses <- struct{}{}:
		return func() { <-s.parses }, nil
	case <-t.C:
		return nil, fail(http.StatusServiceUnavailable, "busy: %d messages in progress; try again later", cap(s.parses))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readBody reads at most max bytes of r's body, cutting a body that
// stalls for BodyGrace or averages under MinBodyRate after it.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	rc := http.NewResponseController(w)
	body := http.MaxBytesReader(w, r.Body, max)
	start := time.Now()
	var buf []byte
	chunk := make([]byte, 32<<10)
	for {
		rc.SetReadDeadline(time.Now().Add(s.cfg.Limits.BodyGrace))
		n, err := body.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err == io.EOF {
			rc.SetReadDeadline(time.Time{})
			return buf, nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, fmt.Errorf("%w: nothing for %v", errSlowBody, s.cfg.Limits.BodyGrace)
			}
			return nil, err
		}
		if el := time.Since(start); el > s.cfg.Limits.BodyGrace && float64(len(buf)) < float64(s.cfg.Limits.MinBodyRate)*el.Seconds() {
			return nil, fmt.Errorf("%w: %d bytes in %v, under %d B/s", errSlowBody, len(buf), el.Round(time.Second), s.cfg.Limits.MinBodyRate)
		}
	}
}

// connLimiter is a listener that closes connections over the global or
// the per-IP limit as soon as they are accepted.
type connLimiter struct {
	net.Listener
	max, perIP int
	onRefuse   func(ip string)

	mu    sync.Mutex
	open  int
	perIn map[string]int
}

func limitConns(ln net.Listener, max, perIP int, onRefuse func(string)) net.Listener {
	return &connLimiter{Listener: ln, max: max, perIP: perIP, onRefuse: onRefuse, perIn: map[string]int{}}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		l.mu.Lock()
		ok := l.open < l.max && l.perIn[ip] < l.perIP
		if ok {
			l.open++
			l.perIn[ip]++
		}
		l.mu.Unlock()
		if !ok {
			c.Close()
			l.onRefuse(ip)
			continue
		}
		return &limitedConn{Conn: c, l: l, ip: ip}, nil
	}
}

type limitedConn struct {
	net.Conn
	l    *connLimiter
	ip   string
	once sync.Once
}

var _ io.ReaderFrom = (*limitedConn)(nil)

// ReadFrom lets net/http hand files to the kernel (sendfile) as it does on
// a bare TCP connection: package fragments go out without a copy.
func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		if c.l.perIn[c.ip]--; c.l.perIn[c.ip] <= 0 {
			delete(c.l.perIn, c.ip)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
