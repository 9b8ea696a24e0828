package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Transport is an open connection to one host, over which the pusher copies
// a file and runs commands. Both WinRM and SSH implement it and pass the
// same conformance suite (pushtest).
type Transport interface {
	// Family says which shell commands run in: "sh" or "windows".
	Family() string
	// Upload copies size bytes from r to the remote path, replacing it.
	Upload(ctx context.Context, r io.Reader, size int64, remote string) error
	// Run runs cmd and returns its exit code and output. A non-zero exit is
	// not an error; an error means the command could not be run or waited
	// for.
	Run(ctx context.Context, cmd string) (Exec, error)
	Close() error
}

// Exec is what a remote command did.
type Exec struct {
	ExitCode int
	// Stdout and Stderr keep at most the last OutputLimit bytes.
	Stdout, Stderr []byte
}

// OutputLimit bounds the output kept per stream (installers can be chatty).
const OutputLimit = 64 << 10

// UnreachableError means the host could not be reached: refused, timed
// out, no route, reset. Such hosts are retried.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return "unreachable: " + e.Err.Error() }
func (e *UnreachableError) Unwrap() error { return e.Err }

// AuthError means the host refused the credentials. Never retried.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return "authentication failed: " + e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// isNetworkFailure reports whether err is the network failing rather than
// the peer answering.
func isNetworkFailure(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH,
		syscall.ENETUNREACH, syscall.ETIMEDOUT, syscall.EPIPE, syscall.ECONNABORTED} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// tail keeps the last n bytes written.
type tail struct {
	n int
	b []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.n {
		t.b = append([]byte(nil), t.b[len(t.b)-t.n:]...)
	}
	return len(p), nil
}

// DialFunc opens a network connection; tests give one that dials from
// inside the test bed.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func defaultDial(d DialFunc) DialFunc {
	if d != nil {
		return d
	}
	return (&net.Dialer{}).DialContext
}

func hostPort(h Host, def Scheme) string {
	s := h.Scheme
	if s == "" {
		s = def
	}
	p := h.Port
	if p == 0 {
		p = s.DefaultPort()
	}
	return net.JoinHostPort(h.Name, fmt.Sprint(p))
}
