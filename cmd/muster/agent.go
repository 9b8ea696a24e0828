package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/kardianos/service"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"muster/agent"
	"muster/agent/gpo"
)

func (a *app) agentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "The endpoint agent: inventory, activation, the service loop",
		Long: `The muster agent runs on each endpoint and never listens on the network. It
speaks the OCS agent protocol, so it reports to muster's server or to a real
OCS server: a PROLOG, then the inventory when the server asks for it.

Its identity (DEVICEID) and state live in --work-dir. Flags mirror the OCS
agents' switches, and the OCS Windows agent's own are accepted as typed
(/SERVER=URL /SSL=0|1 /CA=F /TAG=T /LOCAL=DIR /XML=DIR /PROXY=H
/PROXY_TYPE=0-3 /PROXY_PORT=P /PROXY_USER= /PROXY_PWD= /USER= /PWD=
/WORK_DIR= /FORCE /NOTAG /DEBUG, and the setup's /NOW /NO_SERVICE /D=DIR
for install-service); --ocs-config reads an existing ocsinventory.ini or
ocsinventory-agent.cfg. Credentials given to install-service are saved sealed
in the work directory, never in clear text.`,
	}
	pf := cmd.PersistentFlags()
	pf.String("server", "", "server URL (http(s)://host/ocsinventory)")
	pf.Bool("ssl", true, "verify the server's certificate (--ssl=false to skip, for tests only)")
	pf.String("ca", "", "CA bundle (PEM) to verify the server against")
	pf.String("user", "", "HTTP user, when the server asks for one")
	pf.String("pwd", "", "HTTP password")
	pf.Int("proxy-type", 0, "0 no proxy (the environment's), 1 HTTP, 2 SOCKS4, 3 SOCKS5")
	pf.String("proxy", "", "proxy host")
	pf.Int("proxy-port", 0, "proxy port (default 3128 for HTTP, 1080 for SOCKS)")
	pf.String("proxy-user", "", "proxy user (HTTP and SOCKS5; SOCKS4 sends it as its user id)")
	pf.String("proxy-pwd", "", "proxy password (saved sealed by install-service)")
	pf.String("work-dir", agent.DefaultWorkDir(), "directory of the agent's identity, state and settings")
	pf.String("tag", "", "TAG sent with the first inventory (the server's value wins afterwards)")
	pf.Bool("notag", false, "send no TAG")
	pf.Bool("debug", false, "log debug messages")
	pf.Bool("uid", false, "make a new DEVICEID")
	pf.Bool("no-download", false, "do not download or run the packages the server offers")
	pf.String("ocs-config", "", "read settings from an OCS agent config (ocsinventory.ini, ocsinventory-agent.cfg)")
	pf.String("package-key", "", "the server's package-signing key (base64; muster server prints it): only packages it signed run (default: the key pinned at activation)")
	pf.StringSlice("package-hosts", nil, "hosts besides the server's that may serve package info files (over verified HTTPS)")
	for _, n := range []string{"server", "ssl", "ca", "user", "pwd", "proxy-type", "proxy", "proxy-port", "proxy-user", "proxy-pwd", "work-dir", "tag", "notag", "debug", "uid", "no-download", "ocs-config", "package-key", "package-hosts"} {
		a.bind(pf, "agent."+n, n)
	}

	run := &cobra.Command{
		Use:   "run",
		Short: "One PROLOG → inventory cycle (or write the inventory with --local / --xml)",
		Long: `One PROLOG → inventory cycle, then the packages the server offered: each is
downloaded (resuming cut fragments) into WORK-DIR/download, checked against
its SHA-256 (or MD5), unpacked (paths and links leading out are refused),
run with the server's EXECUTION_TIMEOUT, and its result sent to the server.
A package in WORK-DIR/download/history never runs again unless forced.
--no-download leaves packages alone.`,
		Example: `  muster agent run --server https://muster:8443/ocsinventory --ca ca.pem
  muster agent run --local /tmp/out   # DEVICEID.ocs, importable with muster inventory import`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.agentRun(cmd.Flags()) },
	}
	rf := run.Flags()
	rf.Bool("force", false, "send the inventory whatever the server says")
	rf.String("local", "", "write DEVICEID.ocs (zlib) to this directory instead of sending (--local DIR or --local=DIR)")
	rf.String("xml", "", "write DEVICEID.xml (plain) to this directory instead of sending")

	svc := &cobra.Command{
		Use:   "service",
		Short: "Run the agent loop: calls every PROLOG_FREQ hours, the first call at a random time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if scm, _ := cmd.Flags().GetBool("scm"); scm {
				ag, _, err := a.newAgent(true)
				if err != nil {
					return err
				}
				return agent.RunService("muster-agent", func(ctx context.Context) error { return agent.ServiceLoop(ctx, ag) })
			}
			return a.agentService()
		},
	}
	svc.Flags().Bool("scm", false, "run under the Windows service manager (how the MSI and install-service register it)")
	activate := &cobra.Command{
		Use:   "activate CODE",
		Short: "Bind this machine to a client with its 10-letter activation code",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.agentActivate(args[0]) },
	}
	deactivate := &cobra.Command{
		Use:   "deactivate",
		Short: "Unbind this machine from its client",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.agentDeactivate() },
	}
	install := &cobra.Command{
		Use:   "install-service",
		Short: "Install and start the agent as a system service (systemd, Windows service manager)",
		Long: `Install and start the agent as a system service. The settings given here are
saved in the work directory (password sealed) and the service runs with them.
An activation code given with --activation, or carried in this binary's name
(muster-agent_ABCDEFGHIJ), activates the agent unless it is already active.
The OCS setup's switches work too: /NOW (--now) runs the first inventory at
once, /NO_SERVICE (--no-service) saves and activates without a service, and
/D=DIR (--install-dir) copies this program into DIR and runs it from there.`,
		Example: `  muster agent install-service --server https://muster:8443/ocsinventory --ca ca.pem --now
  muster agent install-service /SERVER=http://muster:8080/ocsinventory /NOW /D=/opt/muster`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.agentInstall(cmd.Flags()) },
	}
	install.Flags().String("activation", "", "activation code to activate with at install")
	install.Flags().Bool("now", false, "run the first inventory at once, not at a random time (OCS /NOW)")
	install.Flags().Bool("no-service", false, "save settings and activate, but register no service (OCS /NO_SERVICE); with --now, run one inventory here")
	install.Flags().String("install-dir", "", "copy this program into DIR and run the service from there (OCS /D=DIR)")
	uninstall := &cobra.Command{
		Use:   "uninstall-service",
		Short: "Stop and remove the agent's system service",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.agentUninstall(false) },
	}
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Uninstall the agent, keeping its configuration and identity",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.agentUninstall(false) },
	}
	removeClean := &cobra.Command{
		Use:   "removeclean",
		Short: "Uninstall the agent and wipe its configuration, activation and identity",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.agentUninstall(true) },
	}
	gpoCmd := &cobra.Command{
		Use:   "gpo-script",
		Short: "Write a startup script (.cmd and .ps1) that installs the agent's MSI at boot where it is missing or older",
		Long: `Write muster-agent-startup.cmd and its PowerShell twin muster-agent-startup.ps1.
Assigned as a computer startup script (GPO), it installs the agent's MSI at the
next boot of machines that were offline when muster push ran, and upgrades
agents older than --msi-version (by default this muster's version, which is
the version make msi gives its MSI). Elsewhere it does nothing, so it can run
at every boot. It logs to %SystemRoot%\Temp\muster-agent-startup.log.`,
		Example: `  muster agent gpo-script --server https://muster:8443/ocsinventory --code ABCDEFGHIJ \
      --msi '\\srv\NETLOGON\muster-agent.msi' --out /srv/netlogon`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.agentGPOScript(cmd.Flags()) },
	}
	gpoCmd.Flags().String("code", "", "activation code the new installs activate with")
	gpoCmd.Flags().String("msi", "", "where machines read the MSI (a UNC path)")
	gpoCmd.Flags().String("out", ".", "directory to write the scripts to")
	gpoCmd.Flags().String("msi-version", version, "the MSI's version: agents older than this are upgraded")
	pathCmd := &cobra.Command{
		Use:   "path add|remove [DIR]",
		Short: "Put the agent's folder on the Windows system PATH, or take it off (the MSI runs this)",
		Long: `Put DIR (by default the folder of this program) on the machine's PATH, so
muster agent … works from any prompt opened afterwards, or take it off. The
MSI runs "agent path add" after it installs and "agent path remove" before it
uninstalls. Windows only.`,
		Args:      cobra.RangeArgs(1, 2),
		ValidArgs: []string{"add", "remove"},
		RunE:      func(cmd *cobra.Command, args []string) error { return a.agentPath(args) },
	}
	cmd.AddCommand(run, svc, activate, deactivate, install, uninstall, remove, removeClean, gpoCmd, pathCmd)
	return cmd
}

func (a *app) workDir() string {
	d, _ := filepath.Abs(a.v.GetString("agent.work-dir"))
	return d
}

// agentSettings merges, in precedence: flags and environment, an OCS
// config file, the settings saved by install-service.
func (a *app) agentSettings() (agent.Settings, error) {
	v := a.v
	saved, err := agent.LoadSettings(a.workDir())
	if err != nil {
		return agent.Settings{}, err
	}
	var layers []map[string]string
	if f := v.GetString("agent.ocs-config"); f != "" {
		ocs, unknown, err := agent.ReadOCSConfig(f)
		if err != nil {
			return agent.Settings{}, err
		}
		for _, k := range unknown {
			a.log.Debug("ocs config key not used by muster", "file", f, "key", k)
		}
		layers = append(layers, ocs)
	}
	flags := map[string]string{}
	for _, k := range []string{"server", "ssl", "ca", "user", "pwd", "tag", "proxy", "proxy-type", "proxy-port", "proxy-user", "proxy-pwd", "package-key"} {
		if v.IsSet("agent." + k) {
			flags[k] = v.GetString("agent." + k)
		}
	}
	if v.GetBool("agent.notag") {
		flags["notag"] = "1"
	}
	if hosts := v.GetStringSlice("agent.package-hosts"); len(hosts) > 0 {
		flags["package-hosts"] = strings.Join(hosts, ",")
	}
	s, err := agent.MergeSettings(saved, append(layers, flags)...)
	if err != nil {
		return s, err
	}
	if s.Server == "" {
		// Installed by the MSI: its SERVER property.
		if in, err := agent.ReadInstalled(); err == nil {
			s.Server = in.Server
		}
	}
	return s, nil
}

func (a *app) newAgent(needServer bool) (*agent.Agent, agent.Settings, error) {
	s, err := a.agentSettings()
	if err != nil {
		return nil, s, err
	}
	if a.v.GetBool("agent.debug") {
		a.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ag := &agent.Agent{WorkDir: a.workDir(), Tag: s.Tag, NoTag: s.NoTag, NewID: a.v.GetBool("agent.uid"),
		NoDownload: a.v.GetBool("agent.no-download"), Log: a.log, PackageKey: s.PackageKey, PackageHosts: s.PackageHosts}
	if s.Server != "" {
		c, err := agent.NewClient(agent.Config{Server: s.Server, SSL: s.SSL, CA: s.CA, User: s.User, Password: s.Password,
			Proxy: s.Proxy, ProxyUser: s.ProxyUser, ProxyPassword: s.ProxyPassword})
		if err != nil {
			return nil, s, err
		}
		ag.Client = c
	} else if needServer {
		return nil, s, errors.New("no server: --server URL (or install-service, which saves it)")
	}
	return ag, s, nil
}

func (a *app) agentRun(f *pflag.FlagSet) error {
	local, _ := f.GetString("local")
	xml, _ := f.GetString("xml")
	force, _ := f.GetBool("force")
	ag, _, err := a.newAgent(local == "" && xml == "")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var res agent.Result
	switch {
	case local != "":
		res, err = ag.WriteLocal(ctx, local, false)
	case xml != "":
		res, err = ag.WriteLocal(ctx, xml, true)
	default:
		res, err = ag.Run(ctx, force)
	}
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(res)
	}
	switch {
	case res.File != "":
		fmt.Fprintf(a.out, "inventory of %s written to %s\n", res.DeviceID, res.File)
	case res.Sent:
		fmt.Fprintf(a.out, "inventory of %s sent (CHECKSUM %d)\n", res.DeviceID, res.Checksum)
	default:
		fmt.Fprintf(a.out, "%s: the server answered %s; no inventory sent (next contact in %d h)\n", res.DeviceID, res.Response, res.PrologFreq)
	}
	return nil
}

// program adapts the service loop to kardianos/service.
type program struct {
	a      *app
	cancel context.CancelFunc
	done   chan error
}

func (p *program) Start(s service.Service) error {
	ag, _, err := p.a.newAgent(true)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() { p.done <- agent.ServiceLoop(ctx, ag) }()
	return nil
}

func (p *program) Stop(s service.Service) error {
	p.cancel()
	<-p.done
	return nil
}

// serviceFor is the agent's system service, run as exe with args; an
// empty exe is this program.
func (a *app) serviceFor(exe string, args []string) (service.Service, error) {
	if exe == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		exe = self
	}
	return service.New(&program{a: a}, &service.Config{
		Name: "muster-agent", DisplayName: "muster agent", Description: "Inventories this machine for muster (OCS-compatible).",
		Executable: exe, Arguments: args,
	})
}

func (a *app) agentService() error {
	s, err := a.serviceFor("", nil)
	if err != nil {
		return err
	}
	return s.Run() // under systemd or the service manager, or in the foreground
}

func (a *app) agentActivate(code string) error {
	ag, _, err := a.newAgent(true)
	if err != nil {
		return err
	}
	client, err := ag.Activate(context.Background(), code)
	if err != nil {
		return fmt.Errorf("activation with code %s failed: %w", strings.ToUpper(code), err)
	}
	fmt.Fprintf(a.out, "activated for client %s\n", client)
	return nil
}

func (a *app) agentDeactivate() error {
	ag, _, err := a.newAgent(false)
	if err != nil {
		return err
	}
	if err := ag.Deactivate(context.Background()); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "deactivated")
	return nil
}

func (a *app) agentInstall(f *pflag.FlagSet) error {
	ag, s, err := a.newAgent(true)
	if err != nil {
		return err
	}
	now, _ := f.GetBool("now")
	noService, _ := f.GetBool("no-service")
	dir, _ := f.GetString("install-dir")
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if dir != "" {
		if exe, err = agent.InstallBinary(dir); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "installed %s\n", exe)
	}
	if err := s.Save(a.workDir()); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	code, _ := f.GetString("activation")
	if self, err := os.Executable(); err == nil && code == "" {
		code = agent.Installed{InstallerPath: self}.Code()
	}
	if code != "" {
		st, err := agent.LoadState(a.workDir())
		if err != nil {
			return err
		}
		if st.Client != "" {
			fmt.Fprintf(a.out, "already active for client %s: activation code %s not used\n", st.Client, code)
		} else if client, err := ag.Activate(context.Background(), code); err != nil {
			return fmt.Errorf("activation with code %s failed: %w", code, err)
		} else {
			fmt.Fprintf(a.out, "activated for client %s\n", client)
		}
	}
	if noService {
		fmt.Fprintf(a.out, "settings saved in %s; no service installed (--no-service)\n", a.workDir())
		if !now {
			return nil
		}
		res, err := ag.Run(context.Background(), false)
		if err != nil {
			return fmt.Errorf("first inventory (--now): %w", err)
		}
		fmt.Fprintf(a.out, "first run: %s, inventory sent: %v\n", res.Response, res.Sent)
		return nil
	}
	if now {
		if err := ag.ScheduleNow(false); err != nil {
			return fmt.Errorf("--now: %w", err)
		}
	}
	args := []string{"agent", "service", "--work-dir", a.workDir()}
	if runtime.GOOS == "windows" {
		args = append(args, "--scm")
	}
	svc, err := a.serviceFor(exe, args)
	if err != nil {
		return err
	}
	if err := svc.Install(); err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	if err := svc.Start(); err != nil {
		return fmt.Errorf("start service: %w", err)
	}
	first := "at a random time within PROLOG_FREQ"
	if now {
		first = "now"
	}
	fmt.Fprintf(a.out, "muster-agent service installed and started, first inventory %s (settings in %s)\n", first, a.workDir())
	return nil
}

// agentUninstall removes the service; clean also wipes the work
// directory: settings, activation and identity.
func (a *app) agentUninstall(clean bool) error {
	if in, err := agent.ReadInstalled(); err == nil && in.ProductCode != "" {
		// Installed by the MSI: uninstall the product, so Windows does not
		// list a program that is gone.
		restart, err := agent.UninstallProduct(context.Background(), in.ProductCode)
		if err != nil {
			return fmt.Errorf("uninstall: %w", err)
		}
		fmt.Fprintf(a.out, "muster agent %s uninstalled (msiexec /x %s)\n", in.Version, in.ProductCode)
		if restart {
			fmt.Fprintln(a.out, "Windows must restart to delete the running muster.exe")
		}
	}
	if runtime.GOOS == "windows" {
		// The service manager directly: kardianos' Uninstall fails
		// after the delete where no event log source was registered
		// (the MSI registers none; nor does Wine).
		if had, err := agent.RemoveService("muster-agent"); err != nil {
			return fmt.Errorf("uninstall service: %w", err)
		} else if had {
			fmt.Fprintln(a.out, "muster-agent service removed")
		} else {
			fmt.Fprintln(a.out, "no muster-agent service installed")
		}
	} else if svc, err := a.serviceFor("", nil); err != nil {
		return err
	} else if st, err := svc.Status(); err == nil && st != service.StatusUnknown {
		svc.Stop()
		if err := svc.Uninstall(); err != nil {
			return fmt.Errorf("uninstall service: %w", err)
		}
		fmt.Fprintln(a.out, "muster-agent service removed")
	} else {
		fmt.Fprintln(a.out, "no muster-agent service installed")
	}
	if clean {
		if err := agent.Wipe(a.workDir()); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "removed %s (settings, activation, identity)\n", a.workDir())
	} else {
		fmt.Fprintf(a.out, "kept %s (settings and identity)\n", a.workDir())
	}
	return nil
}

func (a *app) agentGPOScript(f *pflag.FlagSet) error {
	server, _ := f.GetString("server")
	code, _ := f.GetString("code")
	msi, _ := f.GetString("msi")
	out, _ := f.GetString("out")
	ver, _ := f.GetString("msi-version")
	files, err := gpo.Write(out, gpo.Options{Server: server, Code: code, MSI: msi, Version: ver})
	if err != nil {
		return fmt.Errorf("gpo-script: %w", err)
	}
	for _, p := range files {
		fmt.Fprintf(a.out, "wrote %s\n", p)
	}
	return nil
}

func (a *app) agentPath(args []string) error {
	if args[0] != "add" && args[0] != "remove" {
		return fmt.Errorf("agent path %q: want add or remove", args[0])
	}
	dir := ""
	if len(args) == 2 {
		dir = args[1]
	} else if exe, err := os.Executable(); err == nil {
		dir = filepath.Dir(exe)
	} else {
		return err
	}
	changed, err := agent.SetOnSystemPath(dir, args[0] == "add")
	if err != nil {
		return err
	}
	switch {
	case !changed && args[0] == "add":
		fmt.Fprintf(a.out, "%s is on the system PATH already\n", dir)
	case !changed:
		fmt.Fprintf(a.out, "%s was not on the system PATH\n", dir)
	case args[0] == "add":
		fmt.Fprintf(a.out, "%s added to the system PATH\n", dir)
	default:
		fmt.Fprintf(a.out, "%s taken off the system PATH\n", dir)
	}
	return nil
}
