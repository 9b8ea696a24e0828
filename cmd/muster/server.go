package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"muster/inventories/ocsxml"
	"muster/packages"
	"muster/server"
	"muster/server/store"
)

func (a *app) openStore() (*store.DB, error) {
	if db := a.v.GetString("database"); db != "" {
		return store.OpenURL(db, a.log)
	}
	return store.Open(filepath.Join(a.dataDir(), store.FileName), a.log)
}

func (a *app) serverCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the communication server that OCS and muster agents report to",
		Long: `Run the communication server.

Agents POST to /ocsinventory exactly as to an OCS Inventory NG server: point a
stock Unix agent at it with

  ocsinventory-agent --server http://HOST:PORT/ocsinventory --nolocal

The JSON API lives under /api/v1: devices, the network map and elections,
schedules, options, clients, push records and queue, packages (upload and
build, assign, status, delete), token rotation. It needs the bearer token
printed at first start ('muster server token' makes a new one), as do the
Prometheus metrics on /metrics. /healthz answers without a token. Admin
commands elsewhere reach it with --server and a token, or a context
(muster context).

Deployment packages (muster package) live in DATA-DIR/packages and are
served under /download/ID/.

Records are stored in DATA-DIR/muster.db (SQLite, WAL), or in PostgreSQL with
--database postgres://… (MUSTER_DATABASE), which several servers can share
(with a shared DATA-DIR for packages and keys). Each inventory and each
PROLOG contact is committed before the agent gets its reply.`,
		Example: `  muster server --listen 0.0.0.0:8080 --data-dir /var/lib/muster
  muster server --tls-cert cert.pem --tls-key key.pem --agent-user ocs --agent-password secret
  MUSTER_SERVER_FREQUENCY=1 muster server   # ask agents for an inventory at most daily`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runServer() },
	}
	f := cmd.Flags()
	f.String("listen", server.DefaultListen, "address to listen on (host:port)")
	f.String("tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS")
	f.String("tls-key", "", "TLS private key file (PEM)")
	f.String("agent-user", "", "require HTTP Basic auth from agents with this user")
	f.String("agent-password", "", "password for --agent-user")
	f.Int64("max-body", server.DefaultMaxBody, "largest request body in bytes, compressed or inflated")
	f.Int64("max-upload", server.DefaultMaxUpload, "largest package archive in bytes that muster package build --server may upload")
	f.Int("frequency", 0, "days an inventory stays valid before agents are asked again (0 = every contact, -1 = never)")
	f.Int("prolog-freq", server.DefaultPrologFreq, "hours between agent contacts, told to agents in every PROLOG reply")
	f.String("package-info-loc", "", "host[:port]/path agents fetch package info files from over HTTPS (default: this server/download)")
	f.String("package-pack-loc", "", "host[:port]/path of a web server or CDN with a copy of the package store, for fragments (default: as info)")
	f.Int("max-parses", server.DefaultMaxParses, "agent messages read and parsed at once (peak memory ≈ this × (2 × max-body + 600 B × max-elements))")
	f.Int("max-elements", server.DefaultMaxElements, "XML elements allowed in one agent message")
	f.Int("max-conns", server.DefaultMaxConns, "open connections allowed")
	f.Int("max-conns-per-ip", server.DefaultMaxConnsPerIP, "open connections allowed from one IP")
	f.Int64("min-body-rate", server.DefaultMinBodyRate, "bytes a second a request body must average after --body-grace (slower ones are cut)")
	f.Duration("body-grace", server.DefaultBodyGrace, "time a request body may take before --min-body-rate applies; also the longest wait for any read")
	f.Duration("parse-wait", server.DefaultParseWait, "how long a message waits for a parse slot before it gets 503")
	f.Int("max-event-fields", server.DefaultMaxEventFields, "fields allowed in a NOTIFY, DOWNLOAD or SNMP event")
	f.Int("max-field-bytes", server.DefaultMaxFieldBytes, "bytes allowed in one event field (name and value)")
	f.Int("activation-rate", server.DefaultActivationRate, "activation attempts (activate, deactivate, download?code=) a minute per IP; -1 for no limit")
	f.String("clock-offset-file", "", "tests: a file holding a duration (e.g. 360h) added to the server's clock, read at every use")
	f.MarkHidden("clock-offset-file")
	for _, name := range []string{"listen", "tls-cert", "tls-key", "agent-user", "agent-password", "max-body", "frequency", "prolog-freq", "package-info-loc", "package-pack-loc", "clock-offset-file", "activation-rate", "max-parses", "max-elements", "max-conns", "max-conns-per-ip", "min-body-rate", "body-grace", "parse-wait", "max-event-fields", "max-field-bytes", "max-upload"} {
		a.bind(f, "server."+name, name)
	}
	client := &cobra.Command{Use: "client", Short: "Manage clients and their activation codes"}
	client.AddCommand(&cobra.Command{
		Use:   "add NAME",
		Short: "Create a client with a new activation code (10 letters A-Z, never changed)",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.addClient(args[0]) },
	}, &cobra.Command{
		Use:   "list",
		Short: "List clients, their codes and device counts",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.listClients() },
	})
	release := &cobra.Command{
		Use:   "release DEVICEID",
		Short: "Unbind a device from its client without its secret (for an agent that lost it)",
		Long: `Unbind a device from its client. A bound device otherwise moves to another
client, or is deactivated, only by its own request carrying the secret it got at
activation; release is the admin's way when that secret is lost (the agent was
wiped, say). The agent can then activate with any client's code.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.releaseDevice(args[0]) },
	}
	cmd.AddCommand(a.remoteFlags(client), a.remoteFlags(a.serverConfigCmd()), a.remoteFlags(release), a.remoteFlags(a.userCmd()))
	cmd.AddCommand(a.remoteFlags(&cobra.Command{
		Use:   "token",
		Short: "Replace the API bearer token and print the new one",
		Long: `Make a new API bearer token, print it once and invalidate the old one.
Only its SHA-256 hash is stored. A running server accepts the new token at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.rotateToken() },
	}))
	return cmd
}

func (a *app) runServer() error {
	st, err := a.openStore()
	if err != nil {
		return err
	}
	defer st.Close()
	v := a.v
	signer, err := packages.LoadSigningKey(filepath.Join(a.dataDir(), packages.SigningKeyFile))
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		PackageSigner:  signer,
		Listen:         v.GetString("server.listen"),
		TLSCert:        v.GetString("server.tls-cert"),
		TLSKey:         v.GetString("server.tls-key"),
		AgentUser:      v.GetString("server.agent-user"),
		AgentPassword:  v.GetString("server.agent-password"),
		MaxBody:        v.GetInt64("server.max-body"),
		Frequency:      v.GetInt("server.frequency"),
		InstallersDir:  filepath.Join(a.dataDir(), "installers"),
		PackagesDir:    a.packagesDir(),
		PackageInfoLoc: v.GetString("server.package-info-loc"),
		PackagePackLoc: v.GetString("server.package-pack-loc"),
		PrologFreq:     v.GetInt("server.prolog-freq"),
		ActivationRate: v.GetInt("server.activation-rate"),
		XMLLimits:      ocsxml.Limits{MaxDepth: ocsxml.DefaultLimits.MaxDepth, MaxElements: v.GetInt("server.max-elements")},
		Limits: server.Limits{MaxParses: v.GetInt("server.max-parses"), MaxConns: v.GetInt("server.max-conns"),
			MaxConnsPerIP: v.GetInt("server.max-conns-per-ip"), MinBodyRate: v.GetInt64("server.min-body-rate"),
			BodyGrace: v.GetDuration("server.body-grace"), ParseWait: v.GetDuration("server.parse-wait"),
			MaxEventFields: v.GetInt("server.max-event-fields"), MaxFieldBytes: v.GetInt("server.max-field-bytes"),
			MaxUpload: v.GetInt64("server.max-upload")},
		Log: a.log,
		Now: offsetClock(v.GetString("server.clock-offset-file")),
	}, st)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	token, err := server.EnsureAPIToken(ctx, st)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, func(addr net.Addr) {
		url := fmt.Sprintf("%s://%s/ocsinventory", srv.Scheme(), addr)
		if a.jsonOutput() {
			a.emit(map[string]string{"listen": addr.String(), "url": url, "data_dir": a.dataDir(), "api_token": token})
			return
		}
		fmt.Fprintf(a.out, "muster server listening on %s (data in %s)\n", addr, a.dataDir())
		fmt.Fprintf(a.out, "Point an OCS agent at it:\n  ocsinventory-agent --server %s --nolocal\n", url)
		if token != "" {
			fmt.Fprintf(a.out, "API token (shown once; 'muster server token' makes a new one):\n  %s\n", token)
		}
	})
}

func (a *app) rotateToken() error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	token, err := adm.RotateToken(context.Background())
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(map[string]string{"api_token": token})
	}
	fmt.Fprintf(a.out, "New API token (the old one no longer works):\n  %s\n", token)
	return nil
}

func (a *app) addClient(name string) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	c, err := adm.AddClient(context.Background(), name)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(c)
	}
	fmt.Fprintf(a.out, "client %s: activation code %s\n", c.Name, c.Code)
	return nil
}

func (a *app) listClients() error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	cs, err := adm.Clients(context.Background())
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(cs)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tCODE\tDEVICES\tCREATED")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", c.Name, c.Code, c.Devices, when(c.Created))
	}
	return tw.Flush()
}

// offsetClock returns the server's clock: time.Now, plus the duration in
// file when one is given (tests move the server's time with it).
func offsetClock(file string) func() time.Time {
	if file == "" {
		return time.Now
	}
	return func() time.Time {
		b, err := os.ReadFile(file)
		if err != nil {
			return time.Now()
		}
		d, err := time.ParseDuration(strings.TrimSpace(string(b)))
		if err != nil {
			return time.Now()
		}
		return time.Now().Add(d)
	}
}

func (a *app) releaseDevice(id string) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	if err := adm.Release(context.Background(), id); err != nil {
		return fmt.Errorf("release %s: %w", id, err)
	}
	fmt.Fprintf(a.out, "%s released: it activates again with any client's code\n", id)
	return nil
}
