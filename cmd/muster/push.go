package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"muster/push"
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

// plan is the push run the flags ask for.
func (a *app) plan(args []string) *push.Plan {
	v := a.v
	get := func(k string) string { return v.GetString("push." + k) }
	return &push.Plan{Transport: push.Scheme(get("transport")), TransportSet: v.IsSet("push.transport"),
		List: get("file"), Args: args, Stdin: os.Stdin, RetryFrom: get("retry-from"), Resume: get("resume"),
		FromQueue: v.GetBool("push.queue"), Response: get("response"), Format: get("format"),
		Mode: push.Mode(get("mode")), Installer: get("installer"), Command: get("command"), Preset: get("preset"),
		URL: get("url"), SHA256: get("sha256"), Server: get("server"), Activation: get("activation"),
		RemoteDir: get("remote-dir"), AsSystem: v.GetBool("push.system"), Cleanup: v.GetBool("push.cleanup"),
		ServerMSI: filepath.Join(a.dataDir(), "installers", "muster-agent.msi"),
		User:      get("user"), Password: get("password"), PasswordFile: get("password-file"),
		Keys: v.GetStringSlice("push.key"), SSHAgent: v.GetBool("push.ssh-agent"), KnownHosts: get("known-hosts"),
		StrictHostKeys: v.GetBool("push.strict-host-keys"), HandshakeTimeout: v.GetDuration("push.handshake-timeout"),
		WinRMCA: get("winrm-ca"), Insecure: v.GetBool("push.insecure"), Auth: get("auth"), Krb5Conf: get("krb5-conf"),
		WinRMShell: get("winrm-shell"), Log: a.log, Warn: os.Stderr}
}

func (a *app) runPush(args []string) error {
	p := a.plan(args)
	p.ApplyPsexec()
	if err := p.Check(); err != nil {
		return err
	}
	remote, err := a.remote()
	if err != nil {
		return err
	}
	if p.FromQueue {
		if remote == nil {
			return errors.New("--queue takes its hosts from the muster server: --server URL --token TOKEN")
		}
		q, err := remote.Queue(context.Background(), true)
		if err != nil {
			return err
		}
		for _, h := range q {
			p.Queued = append(p.Queued, h.Host)
		}
	}
	hosts, note, err := p.Hosts()
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, "push: "+note)
	}
	if len(hosts) == 0 {
		return nil
	}
	respPath, format := p.ResponsePath(time.Now())
	job, err := p.Job()
	if err != nil {
		return err
	}
	job.RunID = push.RunID(respPath)
	job.Resume = p.Resume != ""
	if err := p.ReadPassword(); err != nil {
		return err
	}
	if a.v.GetBool("push.dry-run") {
		return p.DryRun(a.out, hosts, job, a.v.GetInt("push.concurrency"))
	}
	dialers, err := p.Dialers(hosts)
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
	if remote != nil {
		if err := remote.StartRun(ctx, job.RunID, len(hosts), filepath.Base(job.Installer)); err != nil {
			a.log.Warn("could not start the run on the server (outcomes are still recorded)", "err", err)
		}
		defer func() {
			if err := remote.FinishRun(context.Background()); err != nil {
				a.log.Warn("could not mark the run finished on the server", "err", err)
			}
		}()
	}
	prog := push.NewProgress(os.Stderr, len(hosts), term.IsTerminal(int(os.Stderr.Fd())))
	events := prog.Event
	if remote != nil {
		// Every finished host is also recorded on the muster server.
		events = func(e push.Event) {
			prog.Event(e)
			if !e.Done {
				return
			}
			if err := remote.Record(context.Background(), e.Record); err != nil {
				a.log.Warn("could not record the outcome on the server", "host", e.Record.Host, "err", err)
			}
		}
	}
	r := &push.Runner{Dialers: dialers, Default: p.Transport, Job: job,
		Concurrency: a.v.GetInt("push.concurrency"), HostTimeout: a.v.GetDuration("push.timeout"),
		Retries: a.v.GetInt("push.retries"), RetryWait: a.v.GetDuration("push.retry-wait"),
		RetryFailed: a.v.GetBool("push.retry-failed"), Out: out, Progress: events}
	start := time.Now()
	sum, runErr := r.Run(ctx, hosts)
	prog.Finish()
	took := time.Since(start)
	if a.jsonOutput() {
		counts := map[string]int{}
		for o, n := range sum {
			counts[string(o)] = n
		}
		a.emit(map[string]any{"outcomes": counts, "response_file": respPath, "seconds": took.Seconds()})
	} else {
		push.WriteSummary(a.out, sum, prog.Failures(), respPath, took)
	}
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
