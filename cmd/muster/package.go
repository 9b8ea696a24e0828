package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"muster/packages"
	"muster/server/store"
)

func (a *app) packagesDir() string { return filepath.Join(a.dataDir(), "packages") }

func (a *app) packageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Build deployment packages and assign them to devices",
		Long: `Packages are OCS Inventory NG deployment packages: an info file and fragments
ID-1..n in DATA-DIR/packages/ID/, served by 'muster server' under /download/.
Stock OCS agents and muster's agent download them, check the digest (MD5 for
stock agents, SHA-256 for muster's), unpack, run the action and report a
result (SUCCESS, SUCCESS_n, ERR_BAD_DIGEST, ...).

Actions:
  launch   run a file of the package (--command run.sh [args])
  execute  run a command line in the unpacked package (--command "sh install.sh")
  store    copy the package's content to a directory (--command /opt/app)

A package is offered to a device until its agent reports a result; it is
never run twice on a device unless assigned again with --force.`,
	}
	build := &cobra.Command{
		Use:   "build [FILE|DIR]",
		Short: "Build a package from a file, a directory, or an archive (.tar.gz, .tgz, .zip)",
		Example: `  muster package build ./agent-setup --name "agent 2.1" --action execute --command "sh install.sh"
  muster package build hotfix.tar.gz --name hotfix --action launch --command fix.sh --priority 3
  muster package build --name reboot --action execute --command "shutdown -r +5"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			o := packages.BuildOptions{}
			o.Label, _ = f.GetString("name")
			o.Action, _ = f.GetString("action")
			o.Command, _ = f.GetString("command")
			if p, _ := f.GetString("path"); p != "" && strings.EqualFold(o.Action, "store") && o.Command == "" {
				o.Command = p
			}
			o.Priority, _ = f.GetInt("priority")
			o.Proto, _ = f.GetString("proto")
			size, _ := f.GetString("frag-size")
			n, err := packages.ParseSize(size)
			if err != nil {
				return fmt.Errorf("--frag-size %q: %w", size, err)
			}
			o.FragSize = n
			o.Notify.Text, _ = f.GetString("notify")
			o.Notify.User = o.Notify.Text != ""
			o.Notify.Countdown, _ = f.GetInt("notify-countdown")
			src := ""
			if len(args) == 1 {
				src = args[0]
			}
			return a.packageBuild(src, o)
		},
	}
	bf := build.Flags()
	bf.String("name", "", "a label for lists")
	bf.String("action", "", "launch, execute or store (required)")
	bf.String("command", "", "launch: the file to run; execute: the command line; store: the target directory")
	bf.String("path", "", "store: the target directory (same as --command)")
	bf.Int("priority", 5, "0 (before everything else) to 10 (least often)")
	bf.String("frag-size", "1MiB", "fragment size (e.g. 512KiB, 4MiB)")
	bf.String("proto", "HTTPS", "scheme agents fetch fragments with: HTTPS or HTTP")
	bf.String("notify", "", "Windows agents: text shown to the user before installing")
	bf.Int("notify-countdown", 0, "Windows agents: seconds before installing anyway")
	list := &cobra.Command{
		Use: "list", Short: "List packages", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.packageList() },
	}
	show := &cobra.Command{
		Use: "show ID", Short: "Show a package's info", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.packageShow(args[0]) },
	}
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete a package and its assignments", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.packageDelete(args[0]) },
	}
	assign := &cobra.Command{
		Use:   "assign ID (--device D | --client C | --tag T | --group G | --all)",
		Short: "Offer a package to devices at their next contact",
		Long: `Assign a package to one device (DEVICEID or numeric id), to the devices of a
client (name or activation code), of a TAG, or to all devices. Client, tag
and all assignments also reach devices that appear later. Assigning again
offers the package once more; agents that ran it already run it again only
with --force.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			var targets []store.PackageTarget
			for _, k := range []string{store.TargetDevice, store.TargetClient, store.TargetTag, store.TargetGroup} {
				if v, _ := f.GetString(k); v != "" {
					targets = append(targets, store.PackageTarget{Kind: k, Value: v})
				}
			}
			if all, _ := f.GetBool("all"); all {
				targets = append(targets, store.PackageTarget{Kind: store.TargetAll})
			}
			if len(targets) != 1 {
				return fmt.Errorf("give exactly one of --device, --client, --tag, --group, --all")
			}
			force, _ := f.GetBool("force")
			return a.packageAssign(args[0], targets[0], force)
		},
	}
	af := assign.Flags()
	af.String("device", "", "a device's DEVICEID or numeric id")
	af.String("client", "", "a client's name or activation code")
	af.String("tag", "", "devices with this TAG")
	af.String("group", "", "the members of this group (muster group), now and as it changes")
	af.Bool("all", false, "every device, now and later")
	af.Bool("force", false, "run it even on devices that ran it before")
	status := &cobra.Command{
		Use: "status ID", Short: "Where a package stands on each device it is assigned to", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.packageStatus(args[0]) },
	}
	cmd.AddCommand(build, list, show, del, assign, status)
	return cmd
}

func (a *app) packageBuild(src string, o packages.BuildOptions) error {
	// A bar for large sources: their size bounds the archive's (a
	// directory's tar.gz is smaller, and the bar ends early).
	if size := packages.SourceSize(src); size > 32<<20 && !a.jsonOutput() {
		bar := progressbar.DefaultBytes(size, "building")
		o.Progress = func(n int64) { bar.Set64(min(n, size)) }
		defer bar.Finish()
	}
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	info, err := adm.BuildPackage(context.Background(), src, o)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(info)
	}
	fmt.Fprintf(a.out, "package %s built: %s, %s, %d bytes in %s\n  md5 %s\n  sha256 %s\nassign it: muster package assign %s --all\n",
		info.ID, strings.ToLower(info.Action), dash(info.Label), info.Size, plural(info.Frags, "fragment", "fragments"),
		dash(info.Digest), dash(info.SHA256), info.ID)
	return nil
}

func (a *app) packageList() error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	list, err := adm.Packages(context.Background())
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		if list == nil {
			list = []*packages.Info{}
		}
		return a.emit(list)
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tACTION\tPRI\tSIZE\tFRAGS\tCREATED")
	for _, i := range list {
		created := "-"
		var sec int64
		if _, err := fmt.Sscanf(i.ID, "%d", &sec); err == nil {
			created = time.Unix(sec, 0).Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", i.ID, dash(i.Label), strings.ToLower(i.Action), i.Priority, i.Size, i.Frags, created)
	}
	return tw.Flush()
}

func (a *app) packageShow(id string) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	info, err := adm.Package(context.Background(), id)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(info)
	}
	_, err = a.out.Write(info.Marshal())
	return err
}

func (a *app) packageDelete(id string) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	if err := adm.DeletePackage(context.Background(), id); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "package %s deleted\n", id)
	return nil
}

func (a *app) packageAssign(id string, t store.PackageTarget, force bool) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	n, err := adm.AssignPackage(context.Background(), id, t, force)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(map[string]any{"package": id, "target": t, "force": force, "devices": n})
	}
	fmt.Fprintf(a.out, "package %s assigned to %s (%s now); offered at their next contact\n", id, describeTarget(t), plural(n, "device", "devices"))
	return nil
}

func describeTarget(t store.PackageTarget) string {
	if t.Kind == store.TargetAll {
		return "all devices"
	}
	return t.Kind + " " + t.Value
}

func (a *app) packageStatus(id string) error {
	adm, done, err := a.admin()
	if err != nil {
		return err
	}
	defer done()
	states, err := adm.PackageStatus(context.Background(), id)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.emit(states)
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICEID\tNAME\tSTATE\tFORCE\tUPDATED")
	for _, s := range states {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", s.DeviceID, dash(s.Name), s.State, s.Force, s.Updated.Format(time.DateTime))
	}
	return tw.Flush()
}
