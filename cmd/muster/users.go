package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// userCmd is muster server user: the console's people.
func (a *app) userCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Console users (admin or viewer) and the audit log of changes",
		Long: `The web console (/ui/ on the server) signs people in by name and password.
An admin may change everything; a viewer reads only, and the server refuses
its changes. Passwords are kept as bcrypt hashes; give them in a file (or on
standard input with --password-file -), never on the command line.`,
		Example: `  muster server user add alice --role admin --password-file alice.pw
  muster server user add bob --role viewer --password-file - < bob.pw
  muster server user list
  muster server user audit --limit 20`,
	}
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a console user (--replace: set an existing user's role and password)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			role, _ := cmd.Flags().GetString("role")
			file, _ := cmd.Flags().GetString("password-file")
			replace, _ := cmd.Flags().GetBool("replace")
			return a.addUser(args[0], role, file, replace)
		},
	}
	add.Flags().String("role", "viewer", "admin (every change) or viewer (read only)")
	add.Flags().String("password-file", "", "file holding the password (- for standard input); required")
	add.Flags().Bool("replace", false, "set the role and password of an existing user (ends their sessions)")
	list := &cobra.Command{Use: "list", Short: "List console users and their roles", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.listUsers() }}
	audit := &cobra.Command{Use: "audit", Short: "Show the newest changes: who, what, when", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, _ := cmd.Flags().GetInt("limit")
			return a.auditLog(n)
		}}
	audit.Flags().Int("limit", 50, "how many changes (at most 1000)")
	cmd.AddCommand(add, list, audit)
	return cmd
}

func (a *app) addUser(name, role, file string, replace bool) error {
	if file == "" {
		return errors.New("--password-file FILE is required (- reads standard input)")
	}
	var b []byte
	var err error
	if file == "-" {
		// Whole, bounded: a pipe may deliver it in pieces.
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 4096))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("--password-file: %w", err)
	}
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	if err := adm.AddUser(context.Background(), name, role, strings.TrimRight(string(b), "\r\n"), replace); err != nil {
		return fmt.Errorf("user add %s: %w", name, err)
	}
	fmt.Fprintf(a.out, "user %s (%s) saved\n", name, role)
	return nil
}

func (a *app) listUsers() error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	us, err := adm.Users(context.Background())
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(us)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.Role, when(u.Created))
	}
	return tw.Flush()
}

func (a *app) auditLog(limit int) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	log, err := adm.AuditLog(context.Background(), limit)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(log)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tWHO\tWHAT\tDETAIL")
	for _, e := range log {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", when(e.At), e.Who, e.Action, dash(e.Detail))
	}
	return tw.Flush()
}
