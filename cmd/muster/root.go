package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"muster/internal/config"
	"muster/internal/textsafe"
)

// version is muster's release, set at build time with
// -ldflags "-X main.version=…" (scripts/build-msi.sh does).
var version = "0.1.0"

// app holds what every command shares: configuration, logger, output.
type app struct {
	v     *viper.Viper
	known []string
	log   *slog.Logger
	out   io.Writer
	// where admin commands act (remoteFlags)
	apiServer, apiToken, apiTokenFile string
}

func newApp() *app {
	return &app{v: config.New(), out: os.Stdout}
}

// bind makes flag name of fs the source of config key, settable also as
// MUSTER_<KEY> and in the config file.
func (a *app) bind(fs *pflag.FlagSet, key, name string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("no flag " + name)
	}
	if err := a.v.BindPFlag(key, f); err != nil {
		panic(err)
	}
	f.Usage += fmt.Sprintf(" [%s]", config.EnvName(key))
	a.known = append(a.known, key)
}

func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/muster"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "muster")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "muster")
	}
	return "muster-data"
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "muster",
		Short: "Network discovery and deployment for fleets, compatible with OCS Inventory NG",
		Long: `muster inventories, discovers and deploys to a fleet of machines.

Its communication server speaks the OCS Inventory NG agent protocol, so stock
OCS agents (Unix and Windows) inventory into it unchanged. It keeps its
records in an embedded SQLite database in --data-dir, or in PostgreSQL with
--database postgres://… (best given as MUSTER_DATABASE, which keeps the
password off the command line).

Every flag can also come from the environment (MUSTER_<KEY>, shown in each
flag's help) or from a config file (--config, YAML or INI), with the
precedence flags > environment > config file > defaults. In a config file,
keys of a command's flags sit under its name:

  # muster.yaml                      ; muster.ini
  data-dir: /srv/muster              data-dir = /srv/muster
  server:                            [server]
    listen: 0.0.0.0:8080             listen = 0.0.0.0:8080`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setup()
		},
	}
	pf := root.PersistentFlags()
	pf.String("config", "", "config file (.yaml, .yml, .json, .toml or .ini)")
	pf.StringP("output", "o", "text", "output format: text or json (discover also csv)")
	pf.String("log-level", "info", "log level: debug, info, warn or error")
	pf.String("data-dir", defaultDataDir(), "directory of the server's database, packages and keys")
	pf.String("database", "", "the server's database: empty for SQLite in --data-dir, or postgres://USER@HOST:PORT/DB?sslmode=… for PostgreSQL")
	a.bind(pf, "config", "config")
	a.bind(pf, "output", "output")
	a.bind(pf, "log-level", "log-level")
	a.bind(pf, "data-dir", "data-dir")
	a.bind(pf, "database", "database")
	root.AddCommand(a.serverCmd(), a.remoteFlags(a.inventoryCmd()), a.discoverCmd(), a.pushCmd(), a.agentCmd(),
		a.remoteFlags(a.networkCmd()), a.remoteFlags(a.packageCmd()), a.remoteFlags(a.groupCmd()), a.contextCmd())
	return root
}

func (a *app) setup() error {
	if path := a.v.GetString("config"); path != "" {
		sort.Strings(a.known)
		if err := config.LoadFile(a.v, path, a.known); err != nil {
			return err
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.v.GetString("log-level"))); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", a.v.GetString("log-level"))
	}
	a.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(a.log)
	// What hosts and agents sent reaches the terminal only sanitized: text
	// and CSV lose their controls, JSON escapes the ones it leaves raw.
	switch o := a.v.GetString("output"); o {
	case "text", "csv":
		a.out = textsafe.Writer(a.out)
	case "json":
		a.out = textsafe.JSONWriter(a.out)
	default:
		return fmt.Errorf("-o %q: want text, json or csv", o)
	}
	return nil
}

func (a *app) jsonOutput() bool { return a.v.GetString("output") == "json" }

// emit writes v as indented JSON.
func (a *app) emit(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// dataDir returns the configured data directory, made absolute.
func (a *app) dataDir() string {
	d := a.v.GetString("data-dir")
	if abs, err := filepath.Abs(d); err == nil {
		return abs
	}
	return d
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
