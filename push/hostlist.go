// Package push installs software on many hosts at once, the way PsExec and
// the OCS deployment tool do, over WinRM (Windows) or SSH (Linux, macOS):
// host lists, transports behind one small interface, a runner that gives
// every host exactly one outcome and retries the unreachable, and response
// files that survive a crash.
package push

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Scheme names a transport.
type Scheme string

// Transports a host line may ask for.
const (
	SchemeSSH    Scheme = "ssh"
	SchemeWinRM  Scheme = "winrm"  // HTTP, port 5985
	SchemeWinRMS Scheme = "winrms" // HTTPS, port 5986
)

// DefaultPort returns the scheme's usual port.
func (s Scheme) DefaultPort() int {
	switch s {
	case SchemeWinRM:
		return 5985
	case SchemeWinRMS:
		return 5986
	}
	return 22
}

// Host is one target of a push.
type Host struct {
	// Name is the host as written (name or address, no brackets).
	Name string `json:"host"`
	// Port is 0 when the line gave none: the scheme's default applies.
	Port   int    `json:"port,omitempty"`
	Scheme Scheme `json:"transport,omitempty"`
	// User overrides the default user (ssh://user@host).
	User string `json:"user,omitempty"`
	// Line is where the host was read (0 for command-line arguments).
	Line int `json:"-"`
}

// Key identifies a host for de-duplication and in response files:
// "scheme://host:port" with the defaults filled in.
func (h Host) Key(def Scheme) string {
	s := h.Scheme
	if s == "" {
		s = def
	}
	port := h.Port
	if port == 0 {
		port = s.DefaultPort()
	}
	return string(s) + "://" + net.JoinHostPort(h.Name, strconv.Itoa(port))
}

func (h Host) String() string {
	var b strings.Builder
	if h.Scheme != "" {
		b.WriteString(string(h.Scheme) + "://")
	}
	if h.User != "" {
		b.WriteString(h.User + "@")
	}
	if h.Port != 0 {
		b.WriteString(net.JoinHostPort(h.Name, strconv.Itoa(h.Port)))
	} else if strings.Contains(h.Name, ":") {
		b.WriteString("[" + h.Name + "]")
	} else {
		b.WriteString(h.Name)
	}
	return b.String()
}

// LineError is one bad line of a host list.
type LineError struct {
	Source string
	Line   int
	Text   string
	Err    error
}

func (e *LineError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s %q: %v", e.Source, e.Text, e.Err)
	}
	return fmt.Sprintf("%s:%d: %q: %v", e.Source, e.Line, e.Text, e.Err)
}

// ListError collects every bad line of a host list, so all can be fixed at
// once.
type ListError struct {
	Lines []*LineError
}

func (e *ListError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad host line(s):", len(e.Lines))
	for _, l := range e.Lines {
		b.WriteString("\n  " + l.Error())
	}
	return b.String()
}

// ParseHost reads one host: host, host:port, IPv4, IPv6 ([v6]:port or a
// bare v6 address), with an optional scheme (ssh://, winrm://, winrms://)
// and, for ssh, an optional user@.
func ParseHost(s string) (Host, error) {
	var h Host
	s = strings.TrimSpace(s)
	if s == "" {
		return h, errors.New("empty host")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		switch sc := Scheme(strings.ToLower(s[:i])); sc {
		case SchemeSSH, SchemeWinRM, SchemeWinRMS:
			h.Scheme = sc
		default:
			return h, fmt.Errorf("unknown scheme %q (want ssh://, winrm:// or winrms://)", s[:i])
		}
		s = s[i+3:]
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		h.User = s[:i]
		s = s[i+1:]
		if h.User == "" {
			return h, errors.New("empty user before @")
		}
		if strings.ContainsAny(h.User, " /:") {
			return h, fmt.Errorf("user %q has a space, slash or colon", h.User)
		}
	}
	if strings.HasSuffix(s, "/") {
		s = strings.TrimSuffix(s, "/")
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return h, errors.New("missing ] after IPv6 address")
		}
		host, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if rest := s[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return h, fmt.Errorf("unexpected %q after ]", rest)
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return h, fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	case strings.Count(s, ":") > 1:
		if _, err := netip.ParseAddr(s); err != nil {
			return h, fmt.Errorf("%q is not an IPv6 address (write [v6]:port for a port)", s)
		}
	case strings.Contains(s, ":"):
		host, port, _ = strings.Cut(s, ":")
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return h, fmt.Errorf("port %q is not 1-65535", port)
		}
		h.Port = p
	}
	if host == "" {
		return h, errors.New("empty host name")
	}
	if a, err := netip.ParseAddr(host); err != nil && !validHostname(host) {
		return h, fmt.Errorf("%q is neither an IP address nor a host name", host)
	} else if err == nil && !validZone(a.Zone()) {
		return h, fmt.Errorf("zone %q of %q is not an interface name", a.Zone(), host)
	}
	h.Name = host
	return h, nil
}

// validZone accepts an IPv6 zone that names an interface (fe80::1%eth0).
func validZone(z string) bool {
	for _, c := range z {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// validHostname accepts DNS names and NetBIOS-style names.
func validHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// List is a parsed, de-duplicated host list.
type List struct {
	Hosts []Host
	// Duplicates are lines dropped because an earlier line named the same
	// host, as warnings for the user.
	Duplicates []string
}

// ParseList reads a host list: one host a line; blank lines and # comments
// are ignored (also after a host). Every line is checked before anything is
// returned: all bad lines are reported together, by number. def is the
// transport of hosts without a scheme, for de-duplication.
func ParseList(r io.Reader, source string, def Scheme) (*List, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return parseLines(lines, source, true, def)
}

// ParseArgs reads hosts given as command-line arguments.
func ParseArgs(args []string, def Scheme) (*List, error) {
	return parseLines(args, "argument", false, def)
}

func parseLines(lines []string, source string, numbered bool, def Scheme) (*List, error) {
	l := &List{}
	var bad []*LineError
	seen := map[string]int{}
	for i, text := range lines {
		line := text
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		if line == "" {
			continue
		}
		n := 0
		if numbered {
			n = i + 1
		}
		h, err := ParseHost(line)
		if err != nil {
			bad = append(bad, &LineError{Source: source, Line: n, Text: line, Err: err})
			continue
		}
		h.Line = n
		k := h.Key(def)
		if first, dup := seen[k]; dup {
			where := fmt.Sprintf("%s:%d", source, n)
			if !numbered {
				where = fmt.Sprintf("%s %q", source, line)
			}
			l.Duplicates = append(l.Duplicates, fmt.Sprintf("%s: %s repeats line %d, dropped", where, h, first))
			continue
		}
		seen[k] = n
		l.Hosts = append(l.Hosts, h)
	}
	if len(bad) > 0 {
		return nil, &ListError{Lines: bad}
	}
	if len(l.Hosts) == 0 {
		return nil, fmt.Errorf("%s: no hosts (one host a line; # starts a comment)", source)
	}
	return l, nil
}

// ReadHosts gathers hosts the way the command line gives them: a file
// (-f FILE), arguments that are hosts, @FILE (as psexec) or - (standard
// input). Every source is checked whole before anything is returned.
func ReadHosts(file string, args []string, stdin io.Reader, def Scheme) (*List, error) {
	all := &List{}
	var bad []*LineError
	add := func(l *List, err error) error {
		var le *ListError
		if errors.As(err, &le) {
			bad = append(bad, le.Lines...)
			return nil
		}
		if err != nil {
			return err
		}
		all.Hosts = append(all.Hosts, l.Hosts...)
		all.Duplicates = append(all.Duplicates, l.Duplicates...)
		return nil
	}
	readFile := func(path string) error {
		if path == "-" {
			return add(ParseList(stdin, "stdin", def))
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("host list: %w", err)
		}
		defer f.Close()
		return add(ParseList(f, path, def))
	}
	if file != "" {
		if err := readFile(file); err != nil {
			return nil, err
		}
	}
	var plain []string
	for _, a := range args {
		switch {
		case a == "-" || strings.HasPrefix(a, "@"):
			if err := readFile(strings.TrimPrefix(a, "@")); err != nil {
				return nil, err
			}
		default:
			plain = append(plain, a)
		}
	}
	if len(plain) > 0 {
		if err := add(ParseArgs(plain, def)); err != nil {
			return nil, err
		}
	}
	if len(bad) > 0 {
		return nil, &ListError{Lines: bad}
	}
	if len(all.Hosts) == 0 {
		return nil, errors.New("no hosts: give them as arguments, with -f FILE, @FILE or - for standard input")
	}
	// Sources may repeat each other.
	seen := map[string]bool{}
	var unique []Host
	for _, h := range all.Hosts {
		if k := h.Key(def); !seen[k] {
			seen[k] = true
			unique = append(unique, h)
		} else {
			all.Duplicates = append(all.Duplicates, fmt.Sprintf("%s given more than once, dropped", h))
		}
	}
	all.Hosts = unique
	return all, nil
}
