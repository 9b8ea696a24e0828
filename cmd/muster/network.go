package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"muster/server"
)

func (a *app) networkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network",
		Short: "The network map that elected agents' scans build, and the elections",
		Long: `Agents report their subnets; the server elects up to IPDISCOVER of them per
subnet (muster server config set IPDISCOVER 2) to scan it by ARP, with
IPDISCOVER_LATENCY between requests, and keeps every device they see, by MAC.
Devices whose MAC belongs to no inventoried machine are "unknown".`,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the devices seen on the network",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			unknown, _ := cmd.Flags().GetBool("unknown")
			subnet, _ := cmd.Flags().GetString("subnet")
			return a.networkList(unknown, subnet)
		},
	}
	list.Flags().Bool("unknown", false, "only devices no inventoried machine has the MAC of")
	list.Flags().String("subnet", "", "only this subnet (its network address, e.g. 192.168.1.0)")
	subnets := &cobra.Command{
		Use:   "subnets",
		Short: "Subnets with their elected agents, last scan and live devices",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.networkSubnets() },
	}
	elect := &cobra.Command{
		Use:   "elect DEVICE [SUBNET]",
		Short: "Elect a device to scan a subnet (an admin's choice, never undone automatically), or exclude it with --never",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			never, _ := cmd.Flags().GetBool("never")
			clear, _ := cmd.Flags().GetBool("clear")
			return a.networkElect(args, never, clear)
		},
	}
	elect.Flags().Bool("never", false, "never elect this device")
	elect.Flags().Bool("clear", false, "remove the device's standing: back to automatic elections")
	schedule := &cobra.Command{
		Use:   "schedule SUBNET INTERVAL",
		Short: "Rescan a subnet every INTERVAL (e.g. 4h; 0 removes the schedule)",
		Args:  cobra.ExactArgs(2),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.networkSchedule(args[0], args[1]) },
	}
	cmd.AddCommand(list, subnets, elect, schedule)
	return cmd
}

func (a *app) networkList(unknown bool, subnet string) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	m, err := adm.Netmap(context.Background(), unknown, subnet)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(m)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IP\tMAC\tNAME\tVENDOR\tSUBNET\tLAST SEEN\tSEEN BY\tUNKNOWN")
	for _, e := range m {
		u := ""
		if e.Unknown {
			u = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.IP, e.MAC, dash(e.Name), dash(e.Vendor), e.Subnet, when(e.LastSeen), dash(e.SeenBy), u)
	}
	return tw.Flush()
}

func (a *app) networkSubnets() error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	sn, err := adm.Subnets(context.Background())
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(sn)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBNET\tELECTED\tLAST SCAN\tLIVE\tUNKNOWN\tRESCAN")
	for _, s := range sn {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", s.Subnet, dash(strings.Join(s.Elected, ",")), when(s.LastScan), s.Live, s.Unknown, dash(s.Rescan))
	}
	return tw.Flush()
}

func (a *app) networkElect(args []string, never, clear bool) error {
	standing, subnet := server.ElectForced, ""
	switch {
	case clear:
		standing = server.ElectClear
	case never:
		standing = server.ElectNever
	case len(args) == 2:
		subnet = args[1]
	}
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	if err := adm.Elect(context.Background(), args[0], standing, subnet); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "ok")
	return nil
}

func (a *app) networkSchedule(subnet, interval string) error {
	if err := server.CheckSubnet(subnet); err != nil {
		return err
	}
	d, err := time.ParseDuration(interval)
	if err != nil || d < 0 || (d > 0 && d < time.Minute) {
		return fmt.Errorf("interval %q: want a duration of a minute or more (4h, 30m), or 0", interval)
	}
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	if err := adm.Schedule(context.Background(), subnet, d); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "ok")
	return nil
}

func (a *app) serverConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Server options (OCS's names: " + strings.Join(server.OptionNames(), ", ") + ")"}
	set := &cobra.Command{
		Use:   "set NAME VALUE",
		Short: "Set a server option (an empty VALUE restores OCS's default)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, done, err := a.admin()
			if err != nil {
				return err
			}
			defer done()
			return adm.SetOption(context.Background(), args[0], args[1])
		},
	}
	get := &cobra.Command{
		Use:   "get",
		Short: "Show the IPDISCOVER options in effect",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, done, err := a.admin()
			if err != nil {
				return err
			}
			defer done()
			vals, err := adm.Options(context.Background())
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.emit(vals)
			}
			for _, n := range server.OptionNames() {
				if v, ok := vals[n]; ok {
					fmt.Fprintf(a.out, "%s=%v\n", n, v)
				}
			}
			return nil
		},
	}
	cmd.AddCommand(set, get)
	return cmd
}
