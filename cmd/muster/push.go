package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"muster/push"
	"muster/push/winrm"
)

func (a *app) pushCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "push [HOST... | @FILE | -] [--installer] FILE [INSTALLER ARGS...]",
		Short: "Install an agent (or any installer) on many hosts at once over WinRM or SSH",
		Long: `Install an agent, or any installer, on up to -n hosts at once, like PsExec or
the OCS deployment tool, over WinRM (Windows) or SSH (Linux, macOS).

Hosts come from arguments, -f FILE, @FILE or - (standard input): one host a
line, # comments, host, host:port, [v6]:port, and an optional transport per
host (ssh://user@host:22, winrm://host, winrms://host:5986). Bare names go
over WinRM when the installer is an .exe or .msi. The whole list is checked
before any connection; every bad line is reported.

As with psexec, the installer and its own arguments may follow the list:
  muster push @ALL.TXT -u 'DOMAIN\Administrator' -p PASS '\\srv\NETLOGON\setup.exe' /S

WinRM logs on as Windows expects: NTLM (user, DOMAIN\user or user@domain),
with every message sealed over winrm:// (HTTP). Kerberos (--auth kerberos,
with --krb5-conf) and Basic (--auth basic) are for winrms:// (HTTPS) only,
and muster never falls back to Basic.

The installer is copied to each host and its SHA-256 checked there before it
runs (--mode copy), or each host downloads it from --url and checks the
digest (--mode pull), or it runs from its share (\\server\share\…) as
SYSTEM. An .msi runs as msiexec /i FILE /qn /norestart /l*v LOG; -s runs
any installer as SYSTEM (a one-shot scheduled task, as psexec -s). What
runs on Windows is muster's PowerShell scripts (push/shell/scripts).

Every host ends with one outcome: ok, unreachable, auth_failed,
install_failed, unknown or error, written to the response file (CSV or
JSONL) as it finishes, fsynced, so a crash loses nothing. 3010 and 1641 are
ok with a reboot; 1618 (another installation running) is retried. A marker
on each host stops an installer from ever running twice: after a dropped
connection or a crash, a host is finished from its marker, or reported
unknown when its installer started and its end was never seen.
Unreachable hosts are tried again within the run (--retries, --retry-wait,
doubling, with jitter). Afterwards:

  muster push --retry-from push-….csv --installer …   # every host that was not ok
  muster push -f ALL.TXT --resume push-….csv …         # after a crash: the rest only

The exit status is non-zero when any host is not ok.`,
		Example: `  muster push @ALL.TXT -u Administrator --password-file pw.txt agent_ABCDEFGHIJ.msi
  muster push -f ALL.TXT --transport winrm -u 'CORP\admin' --password-file pw.txt \
      --installer OCS-NG-Windows-Agent-Setup.exe --preset ocs --server http://ocs:8080/ocsinventory
  muster push ssh://root@10.0.0.5 ssh://root@10.0.0.6 \
      --installer agent.sh --preset sh --server http://muster:8080/ocsinventory --activation ABCDEFGHIJ
  muster push @ALL.TXT --installer agent_ABCDEFGHIJ.msi --preset msi --transport winrms --winrm-ca ca.pem --dry-run`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runPush(args) },
	}
	f := cmd.Flags()
	f.StringP("file", "f", "", "host list file (one host a line; - for standard input)")
	f.String("installer", "", "installer file (copy mode), or its name on the hosts (pull mode)")
	f.String("mode", "copy", "copy (upload over the transport) or pull (hosts download --url)")
	f.String("url", "", "pull mode: the URL hosts download the installer from")
	f.String("sha256", "", "the installer's SHA-256 (pull mode without a local --installer)")
	f.String("preset", "", "install command preset: ocs, msi (muster's MSI from DATA-DIR/installers unless --installer; SERVER= when --server) or sh")
	f.String("command", "", "install command template ({file} {server} {code} {host} {dir})")
	f.String("server", "", "server URL given to the agent ({server})")
	f.String("activation", "", "activation code, 10 letters A-Z ({code}; default: from an installer named *_CODE.msi)")
	f.String("remote-dir", "", `directory for the installer on the hosts (default /tmp/muster-push, or C:\Windows\Temp\muster-push); a relative one is in the login's home`)
	f.String("transport", "ssh", "transport of hosts without one: ssh, winrm or winrms")
	f.StringP("user", "u", "", `user on the hosts: DOMAIN\user, user@domain or a local user (ssh://user@host overrides it)`)
	f.StringP("password", "p", "", "password (visible to other users: prefer --password-file or MUSTER_PUSH_PASSWORD)")
	f.BoolP("system", "s", false, "run the installer as SYSTEM (Windows: a one-shot scheduled task, as psexec -s; sh: sudo -n)")
	f.Bool("cleanup", true, "remove the installer from the host after it ran (its run marker stays)")
	f.String("password-file", "", "file holding the password")
	f.StringSlice("key", nil, "SSH private key file (repeatable)")
	f.Bool("ssh-agent", false, "offer the keys of the SSH agent ($SSH_AUTH_SOCK)")
	f.String("known-hosts", "", "known_hosts file (default ~/.ssh/known_hosts)")
	f.Bool("strict-host-keys", false, "refuse SSH hosts not already in known_hosts (default: record new ones; a changed key is always refused)")
	f.String("winrm-ca", "", "CA certificate (PEM) that signs the hosts' WinRM HTTPS certificates")
	f.Bool("insecure", false, "do not check WinRM HTTPS certificates (DANGEROUS: anyone on the path can read the password)")
	f.String("auth", "ntlm", "WinRM logon: ntlm (Negotiate; every message sealed over HTTP), kerberos (winrms:// only) or basic (winrms:// only: never over plain HTTP)")
	f.String("krb5-conf", "/etc/krb5.conf", "WinRM --auth kerberos: the krb5.conf naming the realm and its KDC (user@REALM or DOMAIN\\user picks the realm)")
	f.String("winrm-shell", "windows", "WinRM: the hosts' shell, windows or sh (a POSIX host behind WinRM)")
	f.IntP("concurrency", "n", 10, "hosts worked on at once")
	f.Duration("timeout", 10*time.Minute, "deadline of one attempt on one host (connect, copy, install)")
	f.Duration("handshake-timeout", 15*time.Second, "deadline to connect and log in (SSH handshake, WinRM shell)")
	f.Int("retries", 2, "more attempts for unreachable hosts")
	f.Duration("retry-wait", 5*time.Second, "first wait before a retry (doubles, ±50% jitter)")
	f.Bool("retry-failed", false, "retry failed installs too")
	f.String("response", "", "response file (default push-YYYYMMDD-HHMMSS.csv)")
	f.String("format", "", "response format: csv or jsonl (default: from the file name)")
	f.String("retry-from", "", "push to the hosts of this response file that were not ok")
	f.String("resume", "", "continue the run of this response file: skip hosts it already has")
	f.Bool("dry-run", false, "show what would run where, and stop")
	f.String("token", "", "API token of the muster server at --server: record every outcome there (unreachable hosts queued); --server must then be https://, or http:// on loopback")
	f.Bool("queue", false, "push to the hosts of the server's retry queue that the network map has seen again")
	for _, n := range []string{"file", "installer", "mode", "url", "sha256", "preset", "command", "server", "activation",
		"remote-dir", "transport", "user", "password", "password-file", "key", "ssh-agent", "known-hosts", "strict-host-keys",
		"winrm-ca", "insecure", "auth", "krb5-conf", "winrm-shell", "concurrency", "timeout", "handshake-timeout", "retries",
		"retry-wait", "retry-failed", "response", "format", "retry-from", "resume", "dry-run", "token", "queue", "system", "cleanup"} {
		a.bind(f, "push."+n, n)
	}
	queue := &cobra.Command{
		Use:   "queue",
		Short: "List the hosts left unreachable, and which the network map has seen again (due)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.pushQueue() },
	}
	queue.Flags().AddFlagSet(cmd.Flags())
	cmd.AddCommand(queue)
	return cmd
}

func (a *app) remote() (*push.Remote, error) {
	token := a.v.GetString("push.token")
	if token == "" {
		return nil, nil
	}
	return push.NewRemote(a.v.GetString("push.server"), token)
}

func (a *app) pushQueue() error {
	r, err := a.remote()
	if err != nil {
		return err
	}
	if r == nil {
		return errors.New("the queue lives on the muster server: --server URL --token TOKEN")
	}
	q, err := r.Queue(context.Background(), false)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(q)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tFAILED AT\tDUE\tSEEN AGAIN")
	for _, h := range q {
		due, seen := "no", "-"
		if h.Due {
			due, seen = "yes", when(h.SeenAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Host, when(h.At), due, seen)
	}
	return tw.Flush()
}

func (a *app) runPush(args []string) error {
	v := a.v
	get := func(k string) string { return v.GetString("push." + k) }
	// psexec's form: @ALL.TXT INSTALLER ARGS…
	if get("installer") == "" {
		var installer string
		var iargs []string
		args, installer, iargs = push.PsexecArgs(args, get("file") != "")
		if installer != "" {
			v.Set("push.installer", installer)
			if get("preset") == "" && get("command") == "" {
				v.Set("push.command", push.InstallerCommand(iargs))
			}
			if !v.IsSet("push.transport") && push.WindowsInstaller(installer) {
				v.Set("push.transport", string(push.SchemeWinRM))
			}
		}
	}
	def := push.Scheme(get("transport"))
	switch def {
	case push.SchemeSSH, push.SchemeWinRM, push.SchemeWinRMS:
	default:
		return fmt.Errorf("--transport %q: want ssh, winrm or winrms", def)
	}
	if get("retry-from") != "" && get("resume") != "" {
		return errors.New("--retry-from and --resume do not go together")
	}

	// Hosts, all checked before anything else happens.
	var hosts []push.Host
	remote, err := a.remote()
	if err != nil {
		return err
	}
	if a.v.GetBool("push.queue") {
		if remote == nil {
			return errors.New("--queue takes its hosts from the muster server: --server URL --token TOKEN")
		}
		q, err := remote.Queue(context.Background(), true)
		if err != nil {
			return err
		}
		for _, qh := range q {
			h, err := push.ParseHost(qh.Host)
			if err != nil {
				return fmt.Errorf("queued host %q: %w", qh.Host, err)
			}
			hosts = append(hosts, h)
		}
		if len(hosts) == 0 {
			fmt.Fprintln(os.Stderr, "push: no queued host has been seen again: nothing to do")
			return nil
		}
	} else if from := get("retry-from"); from != "" {
		if len(args) > 0 || get("file") != "" {
			return errors.New("--retry-from takes its hosts from the response file: give no other hosts")
		}
		recs, err := push.ReadResponse(from)
		if err != nil {
			return fmt.Errorf("--retry-from: %w", err)
		}
		hosts = push.NotOK(recs)
		if len(hosts) == 0 {
			fmt.Fprintf(os.Stderr, "push: every host in %s is ok: nothing to do\n", from)
			return nil
		}
	} else {
		list, err := push.ReadHosts(get("file"), args, os.Stdin, def)
		if err != nil {
			return err
		}
		for _, d := range list.Duplicates {
			a.log.Warn("duplicate host", "detail", d)
		}
		hosts = list.Hosts
	}
	respPath := get("response")
	if r := get("resume"); r != "" {
		recs, err := push.ReadResponse(r)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		done := len(hosts)
		hosts = push.Unfinished(hosts, recs, def)
		fmt.Fprintf(os.Stderr, "push: resuming %s: %d of %d hosts already finished\n", r, done-len(hosts), done)
		if respPath == "" {
			respPath = r
		}
		if len(hosts) == 0 {
			return nil
		}
	}
	if respPath == "" {
		respPath = "push-" + time.Now().Format("20060102-150405") + ".csv"
	}
	format := get("format")
	if format == "" {
		format = push.FormatOf(respPath)
	}

	job, err := a.pushJob()
	if err != nil {
		return err
	}
	job.RunID = push.RunID(respPath)
	job.Resume = get("resume") != ""
	password, err := a.pushPassword()
	if err != nil {
		return err
	}
	if v.GetBool("push.dry-run") {
		return a.dryRun(hosts, def, job, password)
	}
	dialers, err := a.pushDialers(hosts, def, password)
	if err != nil {
		return err
	}
	out, err := push.OpenResponse(respPath, format)
	if err != nil {
		return err
	}
	defer out.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newPushProgress(len(hosts))
	if remote != nil {
		// Every finished host is also recorded on the muster server.
		prog.hook = func(e push.Event) {
			prog.event(e)
			if !e.Done {
				return
			}
			if err := remote.Record(context.Background(), e.Record); err != nil {
				a.log.Warn("could not record the outcome on the server", "host", e.Record.Host, "err", err)
			}
		}
	}
	r := &push.Runner{Dialers: dialers, Default: def, Job: job,
		Concurrency: v.GetInt("push.concurrency"), HostTimeout: v.GetDuration("push.timeout"),
		Retries: v.GetInt("push.retries"), RetryWait: v.GetDuration("push.retry-wait"),
		RetryFailed: v.GetBool("push.retry-failed"), Out: out, Progress: prog.dispatch}
	start := time.Now()
	sum, runErr := r.Run(ctx, hosts)
	prog.finish()
	a.pushSummary(sum, prog, respPath, time.Since(start))
	if runErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: finished hosts are in %s; continue with --resume %s", respPath, respPath)
		}
		return runErr
	}
	if bad := len(hosts) - sum[push.OK]; bad > 0 {
		return fmt.Errorf("%d of %d hosts not ok (see %s; push them again with --retry-from %s)", bad, len(hosts), respPath, respPath)
	}
	return nil
}

func (a *app) pushJob() (*push.Job, error) {
	get := func(k string) string { return a.v.GetString("push." + k) }
	j := &push.Job{Mode: push.Mode(get("mode")), Installer: get("installer"), URL: get("url"), SHA256: get("sha256"),
		Server: get("server"), Activation: get("activation"), AsSystem: a.v.GetBool("push.system"), Cleanup: a.v.GetBool("push.cleanup")}
	switch p, c := get("preset"), get("command"); {
	case p != "" && c != "":
		return nil, errors.New("--preset and --command do not go together")
	case p != "":
		tmpl, ok := push.Presets[p]
		if !ok {
			return nil, fmt.Errorf("--preset %q: want ocs, msi or sh", p)
		}
		j.Command = tmpl
		if p == "msi" && j.Server != "" {
			j.Command += " SERVER={server}"
		}
		if p == "msi" && j.Installer == "" && j.Mode == push.Copy {
			// muster's own MSI, as the server serves it (latest-win-msi).
			j.Installer = filepath.Join(a.dataDir(), "installers", "muster-agent.msi")
			if _, err := os.Stat(j.Installer); err != nil {
				return nil, fmt.Errorf("--preset msi without --installer pushes the server's MSI, %s, which is missing: run make msi and copy bin/muster-agent.msi there", j.Installer)
			}
		}
	default:
		j.Command = c
	}
	if d := get("remote-dir"); d != "" {
		j.Dirs = map[string]string{"sh": d, "windows": d}
	}
	if j.Mode == push.Copy && j.Installer == "" {
		return nil, errors.New("--installer FILE is required")
	}
	if j.Mode == push.Pull && j.Installer != "" && j.SHA256 == "" {
		// A local copy of what the hosts will download gives the digest.
		if _, err := os.Stat(j.Installer); err == nil {
			local := &push.Job{Mode: push.Copy, Installer: j.Installer, Command: "x"}
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

func (a *app) pushPassword() (string, error) {
	if p := a.v.GetString("push.password"); p != "" {
		return p, nil
	}
	if f := a.v.GetString("push.password-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

func (a *app) pushDialers(hosts []push.Host, def push.Scheme, password string) (map[push.Scheme]push.Dialer, error) {
	v := a.v
	need := map[push.Scheme]bool{}
	for _, h := range hosts {
		s := h.Scheme
		if s == "" {
			s = def
		}
		need[s] = true
	}
	out := map[push.Scheme]push.Dialer{}
	if need[push.SchemeSSH] {
		cfg := push.SSHConfig{User: v.GetString("push.user"), Password: password, UseAgent: v.GetBool("push.ssh-agent"),
			KnownHosts: v.GetString("push.known-hosts"), Policy: push.AcceptNew, HandshakeTimeout: v.GetDuration("push.handshake-timeout")}
		if v.GetBool("push.strict-host-keys") {
			cfg.Policy = push.Strict
		}
		if cfg.KnownHosts == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("--known-hosts: %w", err)
			}
			os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
			cfg.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
		}
		if len(v.GetStringSlice("push.key")) == 0 {
			// As OpenSSH: the agent's keys if it answers, then ~/.ssh/id_*.
			cfg.AgentIfAny = true
			if home, err := os.UserHomeDir(); err == nil {
				var skipped []string
				cfg.Signers, skipped = push.DefaultKeys(home)
				for _, s := range skipped {
					a.log.Info("SSH key passed over (load encrypted keys into ssh-agent)", "key", s)
				}
			}
		}
		for _, k := range v.GetStringSlice("push.key") {
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
		d, err := push.NewSSHDialer(cfg)
		if err != nil {
			return nil, err
		}
		out[push.SchemeSSH] = d
	}
	if need[push.SchemeWinRM] || need[push.SchemeWinRMS] {
		cfg := push.WinRMConfig{User: v.GetString("push.user"), Password: password, Insecure: v.GetBool("push.insecure"),
			Auth: winrm.Auth(v.GetString("push.auth")), Krb5Conf: v.GetString("push.krb5-conf"), Shell: v.GetString("push.winrm-shell"), ConnectTimeout: v.GetDuration("push.handshake-timeout")}
		if ca := v.GetString("push.winrm-ca"); ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return nil, fmt.Errorf("--winrm-ca: %w", err)
			}
			cfg.CACert = pem
		}
		if cfg.Insecure && need[push.SchemeWinRMS] {
			fmt.Fprintln(os.Stderr, "push: WARNING: --insecure: WinRM HTTPS certificates are NOT checked; anyone on the path can impersonate the hosts and read the password")
		}
		d, err := push.NewWinRMDialer(cfg)
		if err != nil {
			return nil, err
		}
		out[push.SchemeWinRM], out[push.SchemeWinRMS] = d, d
	}
	return out, nil
}

func (a *app) dryRun(hosts []push.Host, def push.Scheme, job *push.Job, password string) error {
	masked := "(none)"
	if password != "" {
		masked = "********"
	}
	fmt.Fprintf(a.out, "Would push to %d host(s), %d at once; user %q, password %s\n", len(hosts), a.v.GetInt("push.concurrency"), a.v.GetString("push.user"), masked)
	if job.Mode == push.Copy {
		fmt.Fprintf(a.out, "Installer %s (%d bytes, SHA-256 %s), copied to each host and checked there\n", job.Installer, job.Size, job.SHA256)
	} else {
		fmt.Fprintf(a.out, "Each host downloads %s and checks SHA-256 %s\n", job.URL, job.SHA256)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tTRANSPORT\tINSTALLER ON HOST\tCOMMAND")
	for _, h := range hosts {
		s := h.Scheme
		if s == "" {
			s = def
		}
		fam := "sh"
		if s != push.SchemeSSH && a.v.GetString("push.winrm-shell") == "windows" {
			fam = "windows"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h, s, job.RemoteFile(fam), job.CommandFor(fam, h))
	}
	return tw.Flush()
}

// pushProgress shows the run: a bar on a terminal, a line per event
// otherwise; hook, when set, sees every event instead (and calls event).
type pushProgress struct {
	hook  func(push.Event)
	mu    sync.Mutex
	total int
	done  int
	count map[push.Outcome]int
	bad   []push.Record
	bar   *progressbar.ProgressBar
}

func newPushProgress(total int) *pushProgress {
	p := &pushProgress{total: total, count: map[push.Outcome]int{}}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription("push"))
	}
	return p
}

func (p *pushProgress) event(e push.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !e.Done {
		if p.bar == nil {
			fmt.Fprintf(os.Stderr, "push: %s: attempt %d failed (%s), again in %v\n", e.Host, e.Attempt, push.Sanitize(fmt.Sprint(e.Err)), e.RetryIn.Round(100*time.Millisecond))
		}
		return
	}
	p.done++
	p.count[e.Record.Outcome]++
	if e.Record.Outcome != push.OK {
		p.bad = append(p.bad, e.Record)
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("ok %d, failed %d, unreachable %d", p.count[push.OK],
			p.count[push.InstallFailed]+p.count[push.AuthFailed]+p.count[push.Failed], p.count[push.Unreachable]))
		p.bar.Add(1)
		return
	}
	line := fmt.Sprintf("push: [%d/%d] %s %s", p.done, p.total, e.Record.Host, e.Record.Outcome)
	if e.Record.Attempts > 1 {
		line += fmt.Sprintf(" after %d attempts", e.Record.Attempts)
	}
	if e.Record.Reboot {
		line += " (reboot needed)"
	}
	if e.Record.Error != "" {
		line += ": " + e.Record.Error
	}
	fmt.Fprintln(os.Stderr, line)
}

func (p *pushProgress) dispatch(e push.Event) {
	if p.hook != nil {
		p.hook(e)
		return
	}
	p.event(e)
}

func (p *pushProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

func (a *app) pushSummary(sum push.Summary, p *pushProgress, resp string, took time.Duration) {
	if a.jsonOutput() {
		counts := map[string]int{}
		for o, n := range sum {
			counts[string(o)] = n
		}
		a.emit(map[string]any{"outcomes": counts, "response_file": resp, "seconds": took.Seconds()})
		return
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTCOME\tHOSTS")
	for _, o := range []push.Outcome{push.OK, push.Unreachable, push.AuthFailed, push.InstallFailed, push.Failed} {
		if sum[o] > 0 {
			fmt.Fprintf(tw, "%s\t%d\n", o, sum[o])
		}
	}
	tw.Flush()
	sort.Slice(p.bad, func(i, j int) bool { return p.bad[i].Host < p.bad[j].Host })
	for i, r := range p.bad {
		if i == 20 {
			fmt.Fprintf(a.out, "… and %d more in %s\n", len(p.bad)-20, resp)
			break
		}
		fmt.Fprintf(a.out, "  %s  %s: %s\n", r.Host, r.Outcome, r.Error)
	}
	fmt.Fprintf(a.out, "Responses in %s (%v)\n", resp, took.Round(time.Millisecond))
}
