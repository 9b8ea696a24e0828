//go:build unix

package winrmemu

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config shapes an emulator. Zero values take Windows' defaults.
type Config struct {
	// Profile is how the emulator authenticates: ProfileWindows (the
	// default: NTLM only, messages sealed over HTTP) or ProfilePOSIX
	// (Basic, plaintext allowed).
	Profile string
	// Users maps user names to passwords: "name" is a local account,
	// `DOMAIN\name` a domain one.
	Users map[string]string
	// Log, if set, gets a line for every refused request (auth-refused,
	// basic-refused, unencrypted-refused, bad-seal).
	Log io.Writer
	// Keytab holds the keys of HTTP/<host>: with it the windows profile
	// accepts Kerberos under Negotiate.
	Keytab *keytab.Keytab
	// CloseAfterReply closes the connection after every SOAP reply
	// (Connection: close), as a proxy or a host under load may.
	CloseAfterReply bool
	// Exec is how commands run: ExecWindows (the default of the windows
	// profile: muster's PowerShell scripts, modelled) or ExecSh (/bin/sh).
	Exec string
	// Computer and Domain name the host in NTLM (default WIN-MUSTER in
	// the workgroup WORKGROUP).
	Computer, Domain string
	// Dir is the working directory of commands.
	Dir string
	// MaxEnvelopeSize is the largest request accepted, in bytes (Windows
	// MaxEnvelopeSizekb, default 500 KiB); larger ones get HTTP 413.
	MaxEnvelopeSize int
	// MaxShellsPerUser (default 30): more gets the QuotaLimit fault.
	MaxShellsPerUser int
	// MaxTimeout caps OperationTimeout (default 60 s).
	MaxTimeout time.Duration
	// IdleTimeout deletes shells unused this long (default 2 h).
	IdleTimeout time.Duration
}

// Server is a running emulator.
type Server struct {
	cfg Config
	mu  sync.Mutex
	// shells by id; users' shell counts.
	shells map[string]*shell
	// Requests counts requests by action, for tests.
	requests map[string]int
	// running counts the commands not yet ended.
	running sync.WaitGroup

	httpSrv *http.Server
	ln      net.Listener
	// URL is http(s)://addr/wsman.
	URL string
}

type shell struct {
	id, owner string
	lastUsed  time.Time
	commands  map[string]*command
}

type command struct {
	id       string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	mu       sync.Mutex
	cond     *sync.Cond
	out      [2][]byte // stdout, stderr not yet received
	done     bool
	code     int
	sentDone bool
}

// New returns an emulator; Serve or Start it.
func New(cfg Config) *Server {
	if cfg.MaxEnvelopeSize <= 0 {
		cfg.MaxEnvelopeSize = 500 << 10
	}
	if cfg.MaxShellsPerUser <= 0 {
		cfg.MaxShellsPerUser = 30
	}
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = 60 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Hour
	}
	if cfg.Dir == "" {
		cfg.Dir = os.TempDir()
	}
	if cfg.Profile == "" {
		cfg.Profile = ProfileWindows
	}
	if cfg.Exec == "" {
		cfg.Exec = ExecSh
		if cfg.Profile == ProfileWindows {
			cfg.Exec = ExecWindows
		}
	}
	if cfg.Computer == "" {
		cfg.Computer = "WIN-MUSTER"
	}
	if cfg.Domain == "" {
		cfg.Domain = "WORKGROUP"
	}
	return &Server{cfg: cfg, shells: map[string]*shell{}, requests: map[string]int{}}
}

// Start serves on ln (TLS when tlsCfg is not nil) in the background.
func (s *Server) Start(ln net.Listener, tls bool) {
	s.ln = ln
	scheme := "http"
	if tls {
		scheme = "https"
	}
	s.URL = fmt.Sprintf("%s://%s/wsman", scheme, ln.Addr())
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnContext: s.connContext}
	go s.httpSrv.Serve(ln)
}

// Close stops the server and kills every running command.
func (s *Server) Close() {
	if s.httpSrv != nil {
		s.httpSrv.Close()
	}
	s.mu.Lock()
	for id, sh := range s.shells {
		for _, c := range sh.commands {
			c.kill()
		}
		delete(s.shells, id)
	}
	s.mu.Unlock()
	// Wait (bounded) for the killed commands to end, so that nothing
	// writes into the host's directory after Close.
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// Requests returns how many requests of an action (Create, Command, Send,
// Receive, Signal, Delete) were served.
func (s *Server) Requests(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[action]
}

// Shells returns the number of open shells.
func (s *Server) Shells() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.shells)
}

const (
	nsEnv   = "http://www.w3.org/2003/05/soap-envelope"
	nsA     = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsW     = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsRsp   = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsX     = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	nsF     = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	actBase = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
	trBase  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
	stDone  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
	stRun   = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"
)

// envelope is what the emulator reads of a request; names match by local
// name, so any prefixes work.
type envelope struct {
	Header struct {
		Action           string `xml:"Action"`
		MessageID        string `xml:"MessageID"`
		OperationTimeout string `xml:"OperationTimeout"`
		MaxEnvelopeSize  string `xml:"MaxEnvelopeSize"`
		Selectors        []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"SelectorSet>Selector"`
	} `xml:"Header"`
	Body struct {
		CommandLine *struct {
			Command   string   `xml:"Command"`
			Arguments []string `xml:"Arguments"`
		} `xml:"CommandLine"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"Stream"`
		} `xml:"Send"`
		Receive *struct {
			Stream struct {
				CommandID string `xml:"CommandId,attr"`
			} `xml:"DesiredStream"`
		} `xml:"Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"Code"`
		} `xml:"Signal"`
	} `xml:"Body"`
}

func (e *envelope) shellID() string {
	for _, sel := range e.Header.Selectors {
		if strings.EqualFold(sel.Name, "ShellId") {
			return strings.TrimSpace(sel.Value)
		}
	}
	return ""
}

// ServeHTTP answers POST /wsman: the profile's authentication, then the
// SOAP operation, sealed back when the request came sealed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/wsman" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	sess := s.authenticate(w, r)
	if sess == nil {
		return
	}
	if s.cfg.CloseAfterReply {
		w.Header().Set("Connection", "close")
	}
	if sess.sealer != nil {
		br := &bufferedReply{header: http.Header{}}
		s.serveSOAP(br, sess.user, sess.body)
		for k, v := range br.header {
			if k != "Content-Type" {
				w.Header()[k] = v
			}
		}
		sealReply(w, br, sess.sealer)
		return
	}
	s.serveSOAP(w, sess.user, sess.body)
}

// serveSOAP answers one plaintext SOAP request of an authenticated user.
func (s *Server) serveSOAP(w http.ResponseWriter, user string, body []byte) {
	var env envelope
	if fast, ok := fastSend(body); ok {
		env = *fast
	} else if err := xml.Unmarshal(body, &env); err != nil {
		s.fault(w, "", "s:Sender", "w:SchemaValidationError", "2150858817", "The request is not a valid SOAP envelope: "+err.Error())
		return
	}
	action := strings.TrimSpace(env.Header.Action)
	mid := strings.TrimSpace(env.Header.MessageID)
	if n, err := strconv.Atoi(strings.TrimSpace(env.Header.MaxEnvelopeSize)); err == nil && n < 8192 {
		s.fault(w, mid, "s:Sender", "w:EncodingLimit", "2150858818", "MaxEnvelopeSize is below 8192.")
		return
	}
	name := action[strings.LastIndexByte(action, '/')+1:]
	s.mu.Lock()
	s.requests[name]++
	s.expireLocked()
	s.mu.Unlock()
	switch action {
	case trBase + "Create":
		s.create(w, mid, user)
	case trBase + "Delete":
		s.delete(w, mid, &env)
	case actBase + "Command":
		s.command(w, mid, &env)
	case actBase + "Send":
		s.send(w, mid, &env)
	case actBase + "Receive":
		s.receive(w, mid, &env, opTimeout(env.Header.OperationTimeout, s.cfg.MaxTimeout))
	case actBase + "Signal":
		s.signal(w, mid, &env)
	default:
		s.fault(w, mid, "s:Sender", "w:ActionNotSupported", "2150858772", "The action "+action+" is not supported.")
	}
}

func (s *Server) count(what string) {
	s.mu.Lock()
	s.requests[what]++
	s.mu.Unlock()
	if s.cfg.Log != nil && (strings.HasSuffix(what, "-refused") || what == "bad-seal") {
		fmt.Fprintf(s.cfg.Log, "winrmemu: %s\n", what)
	}
}

var durRe = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$`)

// opTimeout parses an xs:duration (PT60S, PT60.000S, PT1M30S), capped.
func opTimeout(s string, max time.Duration) time.Duration {
	m := durRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return max
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	sec, _ := strconv.ParseFloat(m[3], 64)
	d := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec*float64(time.Second))
	if d <= 0 || d > max {
		return max
	}
	return d
}

func (s *Server) expireLocked() {
	for id, sh := range s.shells {
		if time.Since(sh.lastUsed) > s.cfg.IdleTimeout {
			for _, c := range sh.commands {
				c.kill()
			}
			delete(s.shells, id)
		}
	}
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}

// lookup finds a shell, or writes the unknown-shell fault.
func (s *Server) lookup(w http.ResponseWriter, mid, id string) *shell {
	s.mu.Lock()
	sh := s.shells[id]
	if sh != nil {
		sh.lastUsed = time.Now()
	}
	s.mu.Unlock()
	if sh == nil {
		s.fault(w, mid, "s:Sender", "w:InvalidSelectors", "2150858843",
			"The request for the Windows Remote Shell with ShellId "+id+" failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server.")
	}
	return sh
}

func (s *Server) create(w http.ResponseWriter, mid, user string) {
	s.mu.Lock()
	n := 0
	for _, sh := range s.shells {
		if sh.owner == user {
			n++
		}
	}
	if n >= s.cfg.MaxShellsPerUser {
		s.mu.Unlock()
		s.fault(w, mid, "s:Sender", "w:QuotaLimit", "2150859173",
			fmt.Sprintf("This user is allowed a maximum number of %d concurrent shells, which has been exceeded.", s.cfg.MaxShellsPerUser))
		return
	}
	sh := &shell{id: newID(), owner: user, lastUsed: time.Now(), commands: map[string]*command{}}
	s.shells[sh.id] = sh
	s.mu.Unlock()
	// Both forms of the id: the selector (older clients, pywinrm) and
	// rsp:ShellId (newer clients).
	s.reply(w, mid, trBase+"CreateResponse", fmt.Sprintf(`<x:ResourceCreated><a:Address>%s</a:Address><a:ReferenceParameters>`+
		`<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>`+
		`<w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`+
		`<rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</rsp:ResourceUri>`+
		`<rsp:Owner>%s</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>`+
		`<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>`+
		`<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`,
		s.URL, sh.id, sh.id, xmlText(user)))
}

func (s *Server) delete(w http.ResponseWriter, mid string, env *envelope) {
	sh := s.lookup(w, mid, env.shellID())
	if sh == nil {
		return
	}
	s.mu.Lock()
	for _, c := range sh.commands {
		c.kill()
	}
	delete(s.shells, sh.id)
	s.mu.Unlock()
	s.reply(w, mid, trBase+"DeleteResponse", "")
}

func (s *Server) command(w http.ResponseWriter, mid string, env *envelope) {
	sh := s.lookup(w, mid, env.shellID())
	if sh == nil {
		return
	}
	cl := env.Body.CommandLine
	if cl == nil {
		s.fault(w, mid, "s:Sender", "w:SchemaValidationError", "2150858817", "Command without rsp:CommandLine.")
		return
	}
	// Go sends one Arguments element per argument, pywinrm one with all.
	line := strings.TrimSpace(cl.Command)
	for _, a := range cl.Arguments {
		line += " " + strings.TrimSpace(a)
	}
	if len(line) > 8191 {
		s.fault(w, mid, "s:Receiver", "w:InternalError", "2147942606", "The filename or extension is too long.")
		return
	}
	c := &command{id: newID()}
	c.cond = sync.NewCond(&c.mu)
	var err error
	if s.cfg.Exec == ExecWindows {
		err = s.startWindows(c, line)
	} else {
		err = s.startSh(c, line)
	}
	if err != nil {
		s.fault(w, mid, "s:Receiver", "w:InternalError", "2147942402", "The system cannot find the file specified: "+err.Error())
		return
	}
	s.mu.Lock()
	sh.commands[c.id] = c
	s.mu.Unlock()
	s.reply(w, mid, actBase+"CommandResponse", `<rsp:CommandResponse><rsp:CommandId>`+c.id+`</rsp:CommandId></rsp:CommandResponse>`)
}

type streamWriter struct {
	c *command
	i int
}

func (sw *streamWriter) Write(p []byte) (int, error) {
	sw.c.mu.Lock()
	sw.c.out[sw.i] = append(sw.c.out[sw.i], p...)
	sw.c.cond.Broadcast()
	sw.c.mu.Unlock()
	return len(p), nil
}

func (c *command) kill() {
	c.mu.Lock()
	cmd, stdin := c.cmd, c.stdin
	c.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if stdin != nil {
		stdin.Close()
	}
}

// finish records a command's end.
func (c *command) finish(code int) {
	c.mu.Lock()
	c.done, c.code = true, code
	c.cond.Broadcast()
	c.mu.Unlock()
}

// startSh runs line through /bin/sh in the emulator's directory.
func (s *Server) startSh(c *command, line string) error {
	cmd, codeFile := s.shCommand(c, "/bin/sh", "-c", line)
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	// Set once started (kill reads them, under the lock, from Close).
	c.mu.Lock()
	c.cmd, c.stdin = cmd, stdin
	c.mu.Unlock()
	s.running.Add(1)
	go func() { defer s.running.Done(); c.finish(exitCode(cmd.Wait(), codeFile)) }()
	return nil
}

// shCommand is a child with the command's output streams, in its own
// process group. Windows exit codes are 32-bit (msiexec's 1603, 3010); a
// POSIX child can only exit 0-255, so it may write the Windows code to the
// file named by $WINRMEMU_EXITCODE_FILE.
func (s *Server) shCommand(c *command, name string, args ...string) (*exec.Cmd, string) {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.cfg.Dir
	codeFile := filepath.Join(os.TempDir(), "winrmemu-exit-"+c.id)
	cmd.Env = append(os.Environ(), "WINRMEMU_EXITCODE_FILE="+codeFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout = &streamWriter{c: c, i: 0}
	cmd.Stderr = &streamWriter{c: c, i: 1}
	return cmd, codeFile
}

// exitCode is a child's exit code, or the Windows one it wrote.
func exitCode(err error, codeFile string) int {
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
		if code < 0 {
			code = 1 // killed by a signal
		}
	} else if err != nil {
		code = 1
	}
	if b, err := os.ReadFile(codeFile); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			code = n
		}
		os.Remove(codeFile)
	}
	return code
}

func (s *Server) findCommand(w http.ResponseWriter, mid string, env *envelope, id string) *command {
	sh := s.lookup(w, mid, env.shellID())
	if sh == nil {
		return nil
	}
	s.mu.Lock()
	c := sh.commands[strings.TrimSpace(id)]
	s.mu.Unlock()
	if c == nil {
		s.fault(w, mid, "s:Sender", "w:InvalidSelectors", "2150858843", "The command "+id+" was not found in shell "+sh.id+".")
	}
	return c
}

func (s *Server) send(w http.ResponseWriter, mid string, env *envelope) {
	if env.Body.Send == nil || len(env.Body.Send.Streams) == 0 {
		s.fault(w, mid, "s:Sender", "w:SchemaValidationError", "2150858817", "Send without rsp:Stream.")
		return
	}
	for _, st := range env.Body.Send.Streams {
		c := s.findCommand(w, mid, env, st.CommandID)
		if c == nil {
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			s.fault(w, mid, "s:Sender", "w:SchemaValidationError", "2150858817", "The stream is not base64.")
			return
		}
		c.mu.Lock()
		stdin := c.stdin
		c.mu.Unlock()
		if stdin == nil {
			s.fault(w, mid, "s:Sender", "w:InvalidParameter", "2150858882", "The command takes no input.")
			return
		}
		if len(data) > 0 {
			stdin.Write(data)
		}
		if strings.EqualFold(st.End, "true") {
			stdin.Close()
		}
	}
	s.reply(w, mid, actBase+"SendResponse", `<rsp:SendResponse/>`)
}

// receive holds the request until there is output or the command ended,
// or OperationTimeout passed (then the TimedOut fault, which clients treat
// as "poll again").
func (s *Server) receive(w http.ResponseWriter, mid string, env *envelope, timeout time.Duration) {
	if env.Body.Receive == nil {
		s.fault(w, mid, "s:Sender", "w:SchemaValidationError", "2150858817", "Receive without rsp:DesiredStream.")
		return
	}
	c := s.findCommand(w, mid, env, env.Body.Receive.Stream.CommandID)
	if c == nil {
		return
	}
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer timer.Stop()
	c.mu.Lock()
	for len(c.out[0]) == 0 && len(c.out[1]) == 0 && !c.done && time.Now().Before(deadline) {
		c.cond.Wait()
	}
	if len(c.out[0]) == 0 && len(c.out[1]) == 0 && !c.done {
		c.mu.Unlock()
		s.fault(w, mid, "s:Receiver", "w:TimedOut", "2150858793",
			"The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
		return
	}
	// Keep the reply under the client's envelope size: base64 is 4/3.
	budget := 100 << 10
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	for i, name := range []string{"stdout", "stderr"} {
		chunk := c.out[i]
		if len(chunk) > budget {
			chunk = chunk[:budget]
		}
		budget -= len(chunk)
		c.out[i] = c.out[i][len(chunk):]
		if len(chunk) > 0 {
			fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s">%s</rsp:Stream>`, name, c.id, base64.StdEncoding.EncodeToString(chunk))
		}
	}
	finished := c.done && len(c.out[0]) == 0 && len(c.out[1]) == 0
	if finished {
		for _, name := range []string{"stdout", "stderr"} {
			fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s" End="true"></rsp:Stream>`, name, c.id)
		}
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>`, c.id, stDone, c.code)
		c.sentDone = true
	} else {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"/>`, c.id, stRun)
	}
	c.mu.Unlock()
	b.WriteString(`</rsp:ReceiveResponse>`)
	s.reply(w, mid, actBase+"ReceiveResponse", b.String())
}

func (s *Server) signal(w http.ResponseWriter, mid string, env *envelope) {
	if env.Body.Signal == nil {
		s.fault(w, mid, "s:Sender", "w:SchemaValidationError", "2150858817", "Signal without rsp:Signal.")
		return
	}
	c := s.findCommand(w, mid, env, env.Body.Signal.CommandID)
	if c == nil {
		return
	}
	code := strings.ToLower(env.Body.Signal.Code)
	if strings.HasSuffix(code, "/terminate") || strings.HasSuffix(code, "/ctrl_c") {
		c.kill()
	}
	s.reply(w, mid, actBase+"SignalResponse", `<rsp:SignalResponse/>`)
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *Server) envelope(action, mid, body string) string {
	relates := ""
	if mid != "" {
		relates = `<a:RelatesTo>` + xmlText(mid) + `</a:RelatesTo>`
	}
	return `<s:Envelope xmlns:s="` + nsEnv + `" xmlns:a="` + nsA + `" xmlns:x="` + nsX + `" xmlns:w="` + nsW +
		`" xmlns:rsp="` + nsRsp + `" xmlns:f="` + nsF + `" xml:lang="en-US"><s:Header><a:Action>` + action +
		`</a:Action><a:MessageID>uuid:` + newID() + `</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>` +
		relates + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
}

func (s *Server) reply(w http.ResponseWriter, mid, action, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, s.envelope(action, mid, body))
}

func (s *Server) fault(w http.ResponseWriter, mid, code, subcode, wsmanCode, reason string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, s.envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", mid,
		`<s:Fault><s:Code><s:Value>`+code+`</s:Value><s:Subcode><s:Value>`+subcode+`</s:Value></s:Subcode></s:Code>`+
			`<s:Reason><s:Text xml:lang="en-US">`+xmlText(reason)+`</s:Text></s:Reason>`+
			`<s:Detail><f:WSManFault Code="`+wsmanCode+`" Machine="emulator"><f:Message>`+xmlText(reason)+`</f:Message></f:WSManFault></s:Detail></s:Fault>`))
}
