package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// groupCmd is muster group: device groups to target packages at.
func (a *app) groupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Device groups: dynamic (a query) or static (a list), to assign packages to",
		Long: `A dynamic group is a query over the inventory, evaluated by the database
each time it is used; a static group is a list of devices. Packages assigned
to a group (muster package assign ID --group NAME) reach its members at
their next contact, and a device that left a dynamic group before running
the package is no longer offered it.

The query language:
  name, os, tag, client, ip   = != (exactly) or ~ (contains), case-insensitive
  memory (MB), cpus           = != < <= > >=
  seen, inventoried           days since the last contact, the last inventory
  subnet = "A.B.C.D/N"        N 8, 16, 24 or 32
  has software "NAME" [OP "VERSION"], lacks software "NAME" [OP "VERSION"]
                              NAME is part of the package's name; versions
                              compare by their parts (9.1 < 10.0 < 10.0.1)
  and, or, not, ( )           and binds tighter than or`,
		Example: `  muster group add old-7zip --query 'os ~ "windows" and has software "7-zip" < "23"'
  muster group add lab --device pc1-2026-01-01-10-00-00 --device pc2-2026-01-02-09-00-00
  muster group members old-7zip
  muster package assign 1795266418 --group old-7zip`,
	}
	add := &cobra.Command{
		Use:   "add NAME (--query Q | --device D...)",
		Short: "Create or replace a group",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, _ := cmd.Flags().GetString("query")
			devs, _ := cmd.Flags().GetStringSlice("device")
			if (q == "") == (len(devs) == 0) {
				return errors.New("give --query (a dynamic group) or --device (a static one), not both")
			}
			adm, done, err := a.admin()
			if err != nil {
				return err
			}
			defer done()
			if err := adm.PutGroup(context.Background(), args[0], q, devs); err != nil {
				return err
			}
			m, err := adm.GroupMembers(context.Background(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "group %s saved: %s now\n", args[0], plural(len(m), "device", "devices"))
			return nil
		},
	}
	add.Flags().String("query", "", "the group's query (dynamic group)")
	add.Flags().StringSlice("device", nil, "a device's DEVICEID or id (static group; repeatable)")
	list := &cobra.Command{Use: "list", Short: "List the groups", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, done, err := a.admin()
			if err != nil {
				return err
			}
			defer done()
			gs, err := adm.Groups(context.Background())
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.emit(gs)
			}
			tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tQUERY\tBY")
			for _, g := range gs {
				kind := "static"
				if g.Query != "" {
					kind = "dynamic"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Name, kind, dash(g.Query), dash(g.Who))
			}
			return tw.Flush()
		}}
	members := &cobra.Command{Use: "members NAME", Short: "The group's devices now", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, done, err := a.admin()
			if err != nil {
				return err
			}
			defer done()
			m, err := adm.GroupMembers(context.Background(), args[0])
			if err != nil {
				return err
			}
			return a.printMembers(m)
		}}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a group (and the package assignments to it)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, done, err := a.admin()
			if err != nil {
				return err
			}
			defer done()
			if err := adm.DeleteGroup(context.Background(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "group %s deleted\n", args[0])
			return nil
		}}
	cmd.AddCommand(add, list, members, del)
	return cmd
}
