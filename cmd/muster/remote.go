package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"muster/internal/apiclient"
	"muster/packages"
	"muster/server"
)

// remoteFlags gives an admin command group --server and --token: with a
// server (from them, MUSTER_API_SERVER/MUSTER_API_TOKEN, or the current context)
// the commands act through its API; without, on the local store.
func (a *app) remoteFlags(cmd *cobra.Command) *cobra.Command {
	pf := cmd.PersistentFlags()
	pf.StringVar(&a.apiServer, "server", "", "act on this muster server through its API (https://host:port) instead of the local store [MUSTER_API_SERVER, or the current context]")
	pf.StringVar(&a.apiToken, "token", "", "the server's API token [MUSTER_API_TOKEN, or the context's]; --token-file keeps it off the command line")
	pf.StringVar(&a.apiTokenFile, "token-file", "", "read the API token from this file")
	return cmd
}

// admin returns where admin actions go, and what to call when done.
func (a *app) admin() (server.Admin, func(), error) {
	token := a.apiToken
	if a.apiTokenFile != "" {
		b, err := os.ReadFile(a.apiTokenFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	srv, token, err := apiclient.Resolve(a.apiServer, token)
	if err != nil {
		return nil, nil, err
	}
	if srv != "" {
		c, err := apiclient.New(srv, token)
		if err != nil {
			return nil, nil, err
		}
		return c, func() {}, nil
	}
	st, err := a.openStore()
	if err != nil {
		return nil, nil, err
	}
	return server.LocalAdmin{Store: st, PackagesDir: a.packagesDir(),
		SigningKeyPath: filepath.Join(a.dataDir(), packages.SigningKeyFile)}, func() { st.Close() }, nil
}

// localOnly refuses a command that has no API yet when a server is named.
func (a *app) localOnly(what string) error {
	srv, _, err := apiclient.Resolve(a.apiServer, "")
	if err != nil {
		return err
	}
	if srv != "" {
		return fmt.Errorf("%s works on the server's host only (on its store), not through the API of %s: run it there, or without a current context (muster context use \"\")", what, srv)
	}
	return nil
}

func (a *app) contextCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "context",
		Short: "Named servers the admin commands act on, kubectl-style",
		Long: `A context names a muster server and its API token. With a current context,
admin commands (inventory, network, package, server client/config/token) act
through that server's API from any machine; --server and MUSTER_API_SERVER
override it; with none, they open the local store (on the server's host).
Contexts live in ~/.config/muster/contexts.yaml (MUSTER_CONTEXTS), mode 0600.`,
		Example: `  muster context set prod --server https://muster.example:8443 --token-file token.txt
  muster context use prod
  muster network subnets`,
	}
	set := &cobra.Command{
		Use: "set NAME --server URL --token-file FILE", Short: "Add or change a context", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			srv, _ := cmd.Flags().GetString("server")
			tf, _ := cmd.Flags().GetString("token-file")
			b, err := os.ReadFile(tf)
			if err != nil {
				return fmt.Errorf("--token-file: %w", err)
			}
			cs, err := apiclient.LoadContexts()
			if err != nil {
				return err
			}
			if err := cs.Set(args[0], apiclient.Context{Server: srv, Token: strings.TrimSpace(string(b))}); err != nil {
				return err
			}
			if err := cs.Save(); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "context %s: %s (current: %s)\n", args[0], srv, cs.Current)
			return nil
		},
	}
	set.Flags().String("server", "", "the server's URL (https://host:port; http only on loopback)")
	set.Flags().String("token-file", "", "a file holding its API token")
	set.MarkFlagRequired("server")
	set.MarkFlagRequired("token-file")
	use := &cobra.Command{
		Use: "use NAME", Short: "Make a context the current one (\"\" for the local store)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := apiclient.LoadContexts()
			if err != nil {
				return err
			}
			if err := cs.Use(args[0]); err != nil {
				return err
			}
			return cs.Save()
		},
	}
	list := &cobra.Command{
		Use: "list", Short: "List the contexts (tokens not shown)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := apiclient.LoadContexts()
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				out := []map[string]any{}
				for _, n := range cs.Names() {
					out = append(out, map[string]any{"name": n, "server": cs.Contexts[n].Server, "current": n == cs.Current})
				}
				return a.emit(out)
			}
			tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CURRENT\tNAME\tSERVER")
			for _, n := range cs.Names() {
				cur := ""
				if n == cs.Current {
					cur = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", cur, n, cs.Contexts[n].Server)
			}
			return tw.Flush()
		},
	}
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Forget a context", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := apiclient.LoadContexts()
			if err != nil {
				return err
			}
			if err := cs.Remove(args[0]); err != nil {
				return err
			}
			return cs.Save()
		},
	}
	cmd.AddCommand(set, use, list, remove)
	return cmd
}
