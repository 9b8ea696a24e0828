// Package wiretap records every byte that clients send to a test server,
// for the capture tests that prove what never crosses the wire (a password,
// a Basic header).
package wiretap

import (
	"bytes"
	"net"
	"sync"
)

// Listener wraps a listener; its connections copy what they read.
type Listener struct {
	net.Listener
	mu  sync.Mutex
	raw bytes.Buffer
}

// New wraps ln.
func New(ln net.Listener) *Listener { return &Listener{Listener: ln} }

// Accept returns a recording connection.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, l: l}, nil
}

// Bytes is everything read so far, from every connection.
func (l *Listener) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.raw.Bytes()...)
}

type conn struct {
	net.Conn
	l *Listener
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.mu.Lock()
	c.l.raw.Write(p[:n])
	c.l.mu.Unlock()
	return n, err
}
