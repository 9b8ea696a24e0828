package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"muster/inventories"
	"muster/server/store"
)

func (a *app) inventoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Import, list and show device inventories",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE...",
		Short: "Import .ocs files written by OCS agents in local mode",
		Long: `Import inventories from .ocs files: plain XML (the Unix agent's --local) or
zlib (the Windows agent's /LOCAL). Every file is read and checked first; if
any is bad, nothing is imported and each problem is reported with its file.`,
		Example: `  ocsinventory-agent --local=/tmp/out && muster inventory import /tmp/out/*.ocs`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.localOnly("inventory import"); err != nil {
				return err
			}
			return a.importFiles(args)
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List devices, most recently inventoried first",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return a.listDevices() },
	}, &cobra.Command{
		Use:   "show DEVICE",
		Short: "Show one device (by id or DEVICEID); -o json gives its full inventory",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.showDevice(args[0]) },
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "find QUERY",
		Short: "List the devices a query matches: has/lacks software (with versions), OS, memory… (see muster group --help)",
		Example: `  muster inventory find 'lacks software "7-zip"'
  muster inventory find 'has software "firefox" < "115" and os ~ "windows"' -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.find(args[0]) },
	})
	dup := &cobra.Command{
		Use:   "duplicates",
		Short: "List the records of one machine (two agents, a reinstall); --merge folds each into its newest",
		Long: `Find records of one machine, as the OCS server does: every criterion of --by
must match (name: the same host name; serial: the same system serial;
mac: a MAC in common), placeholder serials and MACs never matching. With
--merge, each group is folded into its newest record, which keeps the
others' package history, account info (TAG), activation and IPDISCOVER
standing; every merge lands in the audit log. The server option
AUTO_DUPLICATE_LVL (1 name + 2 serial + 4 mac) merges at each inventory.`,
		Example: `  muster inventory duplicates
  muster inventory duplicates --by name,serial,mac -o json
  muster inventory duplicates --merge
  muster server config set AUTO_DUPLICATE_LVL 5      # name and MAC, at every inventory`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			by, _ := cmd.Flags().GetString("by")
			merge, _ := cmd.Flags().GetBool("merge")
			return a.duplicates(by, merge)
		},
	}
	dup.Flags().String("by", "name,mac", "criteria that must all match: name, serial, mac")
	dup.Flags().Bool("merge", false, "merge each group into its newest record")
	cmd.AddCommand(dup)
	return cmd
}

func (a *app) duplicates(by string, merge bool) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	find := adm.Duplicates
	if merge {
		find = adm.MergeDuplicates
	}
	groups, err := find(context.Background(), by)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(groups)
	}
	if len(groups) == 0 {
		fmt.Fprintln(a.out, "no duplicates")
		return nil
	}
	verb := "would keep"
	if merge {
		verb = "kept"
	}
	for _, g := range groups {
		var others []string
		for _, o := range g.Others {
			others = append(others, o.DeviceID)
		}
		fmt.Fprintf(a.out, "%s (%s): %s %s, merging %s\n", g.Keep.Name, g.Why, verb, g.Keep.DeviceID, strings.Join(others, ", "))
	}
	return nil
}

type importResult struct {
	File     string `json:"file"`
	DeviceID string `json:"deviceid"`
	ID       int64  `json:"id"`
	Created  bool   `json:"created"`
}

func (a *app) importFiles(files []string) error {
	docs := make([]*inventories.Document, len(files))
	var errs []error
	for i, f := range files {
		doc, err := inventories.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs[i] = doc
	}
	if len(errs) > 0 {
		return fmt.Errorf("nothing imported, %s:\n  %w", plural(len(errs), "file is bad", "files are bad"), joinIndented(errs))
	}
	st, err := a.openStore()
	if err != nil {
		return err
	}
	defer st.Close()
	var results []importResult
	for i, doc := range docs {
		res, err := st.SaveInventory(context.Background(), doc.DeviceID, doc.Inventory, store.Meta{
			UserAgent: "muster-import", Received: time.Now(),
		})
		if err != nil {
			return fmt.Errorf("%s: %w (files before it were imported)", files[i], err)
		}
		results = append(results, importResult{File: files[i], DeviceID: doc.DeviceID, ID: res.ID, Created: res.Created})
	}
	if a.jsonOutput() {
		return a.emit(results)
	}
	for _, r := range results {
		verb := "updated"
		if r.Created {
			verb = "created"
		}
		fmt.Fprintf(a.out, "%s: %s device %s (id %d)\n", r.File, verb, r.DeviceID, r.ID)
	}
	return nil
}

func joinIndented(errs []error) error {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return errors.New(strings.Join(s, "\n  "))
}

func (a *app) listDevices() error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	devs, err := adm.Devices(context.Background())
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(devs)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDEVICEID\tNAME\tOS\tIP\tCPUS\tMEMORY\tCLIENT\tTAG\tLAST INVENTORY")
	for _, d := range devs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d MB\t%s\t%s\t%s\n", d.ID, d.DeviceID, dash(d.Name),
			dash(d.OSName), dash(d.IPAddr), d.CPUs, d.MemoryMB, dash(d.Client), dash(d.Tag), when(d.LastInventory))
	}
	return tw.Flush()
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func (a *app) showDevice(ref string) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	d, err := adm.Device(context.Background(), ref)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(d)
	}
	inv := d.Inventory
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("Device", fmt.Sprintf("%s (id %d)", d.DeviceID, d.ID))
	row("Name", dash(d.Name))
	osName := d.OSName
	if !strings.Contains(osName, d.OSVersion) {
		osName += " " + d.OSVersion
	}
	row("OS", dash(strings.TrimSpace(osName+" "+inv.Hardware.Arch)))
	row("IP", dash(d.IPAddr))
	row("CPUs", fmt.Sprintf("%d × %s", d.CPUs, dash(inv.Hardware.ProcessorType)))
	row("Memory", fmt.Sprintf("%d MB", d.MemoryMB))
	row("Client", dash(d.Client))
	row("Tag", dash(d.Tag))
	row("Agent", dash(d.UserAgent))
	row("First seen", when(d.FirstSeen))
	row("Last inventory", when(d.LastInventory))
	row("Last contact", when(d.LastContact))
	var counts []string
	for _, s := range inventories.Sections() {
		if n := inv.Len(s); n > 0 && s.Multi {
			counts = append(counts, fmt.Sprintf("%s %d", s.Name, n))
		}
	}
	sort.Strings(counts)
	row("Sections", strings.Join(counts, ", "))
	tw.Flush()
	if len(inv.Networks) > 0 {
		fmt.Fprintln(a.out, "\nNetworks:")
		tw = tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  INTERFACE\tMAC\tADDRESS\tMASK\tSTATUS")
		for _, n := range inv.Networks {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", dash(n.Description), dash(n.MACAddr), dash(n.IPAddress), dash(n.IPMask), dash(n.Status))
		}
		tw.Flush()
	}
	if len(inv.Storages) > 0 {
		fmt.Fprintln(a.out, "\nStorage:")
		tw = tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tTYPE\tSIZE (MB)\tMODEL")
		for _, s := range inv.Storages {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", dash(s.Name), dash(s.Type), dash(s.DiskSize), dash(s.Model))
		}
		tw.Flush()
	}
	return nil
}

func (a *app) find(q string) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	m, err := adm.Find(context.Background(), q)
	if err != nil {
		return err
	}
	return a.printMembers(m)
}

// printMembers writes devices found by a query or a group.
func (a *app) printMembers(m []store.GroupMember) error {
	if a.jsonOutput() {
		return a.emit(m)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tDEVICEID")
	for _, d := range m {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", d.ID, d.Name, d.DeviceID)
	}
	return tw.Flush()
}
