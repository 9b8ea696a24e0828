package push

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/crypto/ssh"

	"muster/push/winrm"
)

// Plan is one push run as the admin asked for it: where its hosts come
// from, what runs on them and how they are reached. cmd/muster fills it
// from flags; its methods turn it into what a Runner takes, with errors
// that name the flag at fault.
type Plan struct {
	// Transport is the scheme of hosts written without one.
	Transport Scheme
	// TransportSet says the admin chose Transport (psexec's form picks
	// WinRM for a Windows installer only when they did not).
	TransportSet bool
	// List is a host list file (- for standard input); Args the hosts of
	// the command line, possibly followed by psexec's installer and its
	// arguments.
	List  string
	Args  []string
	Stdin io.Reader
	// RetryFrom takes the hosts of a response file that were not ok;
	// Resume skips the hosts a response file already finished.
	RetryFrom, Resume string
	// Queued are the hosts of the server's retry queue (--queue), already
	// fetched; FromQueue says to push to them and nothing else.
	Queued    []string
	FromQueue bool
	// Response is the response file (default push-DATE-TIME.csv), Format
	// its format (default: from its name).
	Response, Format string

	Mode                          Mode
	Installer, Command, Preset    string
	URL, SHA256                   string
	Server, Activation, RemoteDir string
	AsSystem, Cleanup             bool
	// ServerMSI is muster's own MSI, pushed by --preset msi without an
	// installer.
	ServerMSI string

	User, Password, PasswordFile string

	Keys             []string
	SSHAgent         bool
	KnownHosts       string
	StrictHostKeys   bool
	HandshakeTimeout time.Duration
	// Home is where ~/.ssh is (default: the user's home).
	Home string

	WinRMCA    string
	Insecure   bool
	Auth       string
	Krb5Conf   string
	WinRMShell string

	// Log takes notes that are no error (duplicates, keys passed over).
	Log *slog.Logger
	// Warn takes what the admin must read before the run (--insecure).
	Warn io.Writer
}

func (p *Plan) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// ApplyPsexec reads psexec's form, @ALL.TXT INSTALLER ARGS…: the first
// argument that is no host is the installer and the rest its arguments.
// Without a preset or command they become the install command, and a
// Windows installer sends bare names over WinRM unless a transport was
// chosen.
func (p *Plan) ApplyPsexec() {
	if p.Installer != "" {
		return
	}
	args, installer, iargs := PsexecArgs(p.Args, p.List != "")
	if installer == "" {
		return
	}
	p.Args, p.Installer = args, installer
	if p.Preset == "" && p.Command == "" {
		p.Command = InstallerCommand(iargs)
	}
	if !p.TransportSet && WindowsInstaller(installer) {
		p.Transport = SchemeWinRM
	}
}

// Check refuses settings that do not go together, before any host is read.
func (p *Plan) Check() error {
	switch p.Transport {
	case SchemeSSH, SchemeWinRM, SchemeWinRMS:
	default:
		return fmt.Errorf("--transport %q: want ssh, winrm or winrms", p.Transport)
	}
	if p.RetryFrom != "" && p.Resume != "" {
		return errors.New("--retry-from and --resume do not go together")
	}
	if p.FromQueue && (p.RetryFrom != "" || len(p.Args) > 0 || p.List != "") {
		return errors.New("--queue takes its hosts from the server's retry queue: give no other hosts")
	}
	return nil
}

// Hosts reads the hosts of the run, every one checked before any
// connection. A note, when there is one, tells the admin what was left out
// (hosts a resumed run already finished). An empty list with no error means
// there is nothing to do; the note says why.
func (p *Plan) Hosts() (hosts []Host, note string, err error) {
	switch {
	case p.FromQueue:
		for _, q := range p.Queued {
			h, err := ParseHost(q)
			if err != nil {
				return nil, "", fmt.Errorf("queued host %q: %w", q, err)
			}
			hosts = append(hosts, h)
		}
		if len(hosts) == 0 {
			return nil, "no queued host has been seen again: nothing to do", nil
		}
	case p.RetryFrom != "":
		if len(p.Args) > 0 || p.List != "" {
			return nil, "", errors.New("--retry-from takes its hosts from the response file: give no other hosts")
		}
		recs, err := ReadResponse(p.RetryFrom)
		if err != nil {
			return nil, "", fmt.Errorf("--retry-from: %w", err)
		}
		if hosts = NotOK(recs); len(hosts) == 0 {
			return nil, fmt.Sprintf("every host in %s is ok: nothing to do", p.RetryFrom), nil
		}
	default:
		list, err := ReadHosts(p.List, p.Args, p.Stdin, p.Transport)
		if err != nil {
			return nil, "", err
		}
		for _, d := range list.Duplicates {
			p.log().Warn("duplicate host", "detail", d)
		}
		hosts = list.Hosts
	}
	if p.Resume == "" {
		return hosts, "", nil
	}
	recs, err := ReadResponse(p.Resume)
	if err != nil {
		return nil, "", fmt.Errorf("--resume: %w", err)
	}
	all := len(hosts)
	hosts = Unfinished(hosts, recs, p.Transport)
	return hosts, fmt.Sprintf("resuming %s: %d of %d hosts already finished", p.Resume, all-len(hosts), all), nil
}

// ResponsePath is the response file: --response, else the resumed file,
// else push-DATE-TIME.csv at now; and its format.
func (p *Plan) ResponsePath(now time.Time) (path, format string) {
	path = p.Response
	if path == "" {
		path = p.Resume
	}
	if path == "" {
		path = "push-" + now.Format("20060102-150405") + ".csv"
	}
	format = p.Format
	if format == "" {
		format = FormatOf(path)
	}
	return path, format
}

// Job is what runs on every host: the installer (its digest taken), the
// command from the preset or template, where it goes.
func (p *Plan) Job() (*Job, error) {
	j := &Job{Mode: p.Mode, Installer: p.Installer, URL: p.URL, SHA256: p.SHA256,
		Server: p.Server, Activation: p.Activation, AsSystem: p.AsSystem, Cleanup: p.Cleanup}
	switch {
	case p.Preset != "" && p.Command != "":
		return nil, errors.New("--preset and --command do not go together")
	case p.Preset != "":
		tmpl, ok := Presets[p.Preset]
		if !ok {
			return nil, fmt.Errorf("--preset %q: want ocs, msi or sh", p.Preset)
		}
		j.Command = tmpl
		if p.Preset == "msi" && j.Server != "" {
			j.Command += " SERVER={server}"
		}
		if p.Preset == "msi" && j.Installer == "" && j.Mode == Copy {
			j.Installer = p.ServerMSI
			if _, err := os.Stat(j.Installer); j.Installer == "" || err != nil {
				return nil, fmt.Errorf("--preset msi without --installer pushes the server's MSI, %s, which is missing: run make msi and copy bin/muster-agent.msi there", j.Installer)
			}
		}
	default:
		j.Command = p.Command
	}
	if p.RemoteDir != "" {
		j.Dirs = map[string]string{"sh": p.RemoteDir, "windows": p.RemoteDir}
	}
	if j.Mode == Copy && j.Installer == "" {
		return nil, errors.New("--installer FILE is required")
	}
	if j.Mode == Pull && j.Installer != "" && j.SHA256 == "" {
		// A local copy of what the hosts will download gives the digest.
		if _, err := os.Stat(j.Installer); err == nil {
			local := &Job{Mode: Copy, Installer: j.Installer, Command: "x"}
			if err := local.Prepare(); err != nil {
				return nil, err
			}
			j.SHA256 = local.SHA256
			j.Installer = filepath.Base(j.Installer)
		}
	}
	if err := j.Prepare(); err != nil {
		return nil, err
	}
	return j, nil
}

// ReadPassword fills Password from PasswordFile when it is not given
// (the file's trailing line break is not part of it).
func (p *Plan) ReadPassword() error {
	if p.Password != "" || p.PasswordFile == "" {
		return nil
	}
	b, err := os.ReadFile(p.PasswordFile)
	if err != nil {
		return fmt.Errorf("--password-file: %w", err)
	}
	p.Password = strings.TrimRight(string(b), "\r\n")
	return nil
}

// family is the shell family of a host's commands.
func (p *Plan) family(s Scheme) string {
	if s != SchemeSSH && p.WinRMShell == "windows" {
		return "windows"
	}
	return "sh"
}

// Dialers makes one dialer per transport the hosts use.
func (p *Plan) Dialers(hosts []Host) (map[Scheme]Dialer, error) {
	need := map[Scheme]bool{}
	for _, h := range hosts {
		s := h.Scheme
		if s == "" {
			s = p.Transport
		}
		need[s] = true
	}
	out := map[Scheme]Dialer{}
	if need[SchemeSSH] {
		d, err := p.sshDialer()
		if err != nil {
			return nil, err
		}
		out[SchemeSSH] = d
	}
	if need[SchemeWinRM] || need[SchemeWinRMS] {
		cfg := WinRMConfig{User: p.User, Password: p.Password, Insecure: p.Insecure, Auth: winrm.Auth(p.Auth),
			Krb5Conf: p.Krb5Conf, Shell: p.WinRMShell, ConnectTimeout: p.HandshakeTimeout}
		if p.WinRMCA != "" {
			pem, err := os.ReadFile(p.WinRMCA)
			if err != nil {
				return nil, fmt.Errorf("--winrm-ca: %w", err)
			}
			cfg.CACert = pem
		}
		if cfg.Insecure && need[SchemeWinRMS] && p.Warn != nil {
			fmt.Fprintln(p.Warn, "push: WARNING: --insecure: WinRM HTTPS certificates are NOT checked; anyone on the path can impersonate the hosts and read the password")
		}
		d, err := NewWinRMDialer(cfg)
		if err != nil {
			return nil, err
		}
		out[SchemeWinRM], out[SchemeWinRMS] = d, d
	}
	return out, nil
}

func (p *Plan) sshDialer() (Dialer, error) {
	cfg := SSHConfig{User: p.User, Password: p.Password, UseAgent: p.SSHAgent, KnownHosts: p.KnownHosts,
		Policy: AcceptNew, HandshakeTimeout: p.HandshakeTimeout}
	if p.StrictHostKeys {
		cfg.Policy = Strict
	}
	home := p.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if cfg.KnownHosts == "" {
		if home == "" {
			return nil, errors.New("--known-hosts: no home directory to find ~/.ssh/known_hosts in")
		}
		os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
		cfg.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	if len(p.Keys) == 0 {
		// As OpenSSH: the agent's keys if it answers, then ~/.ssh/id_*.
		cfg.AgentIfAny = true
		if home != "" {
			var skipped []string
			cfg.Signers, skipped = DefaultKeys(home)
			for _, s := range skipped {
				p.log().Info("SSH key passed over (load encrypted keys into ssh-agent)", "key", s)
			}
		}
	}
	for _, k := range p.Keys {
		data, err := os.ReadFile(k)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		signer, err := ssh.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("--key %s: %w (encrypted keys: load them into ssh-agent and use --ssh-agent)", k, err)
		}
		cfg.Signers = append(cfg.Signers, signer)
	}
	return NewSSHDialer(cfg)
}

// DryRun writes what would run where, the password masked.
func (p *Plan) DryRun(w io.Writer, hosts []Host, job *Job, concurrency int) error {
	masked := "(none)"
	if p.Password != "" {
		masked = "********"
	}
	fmt.Fprintf(w, "Would push to %d host(s), %d at once; user %q, password %s\n", len(hosts), concurrency, p.User, masked)
	if job.Mode == Copy {
		fmt.Fprintf(w, "Installer %s (%d bytes, SHA-256 %s), copied to each host and checked there\n", job.Installer, job.Size, job.SHA256)
	} else {
		fmt.Fprintf(w, "Each host downloads %s and checks SHA-256 %s\n", job.URL, job.SHA256)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tTRANSPORT\tINSTALLER ON HOST\tCOMMAND")
	for _, h := range hosts {
		s := h.Scheme
		if s == "" {
			s = p.Transport
		}
		fam := p.family(s)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", Sanitize(h.String()), s, Sanitize(job.RemoteFile(fam)), Sanitize(job.CommandFor(fam, h)))
	}
	return tw.Flush()
}
