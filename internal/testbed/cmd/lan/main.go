//go:build linux

// Command lan builds, lists and tears down muster's test LANs by hand (the
// tests use package testbed directly). Run as root.
//
//	lan up -hosts 50 -prefix 10.77.0.0/24 [-mode ns|rewrite] [-spread] [-ssh]
//	lan list [NAME]
//	lan down NAME... | lan down --all
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"muster/internal/testbed"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "list":
		err = list(os.Args[2:])
	case "down":
		err = down(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lan:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  lan up [-name mtbNAME] [-hosts K] [-prefix CIDR] [-mode ns|rewrite] [-spread] [-ssh] [-lans N] [-json]
      Build a LAN (N LANs: CIDRs 10.77.0.0/24, 10.77.1.0/24, … unless -prefix
      is a comma list). Prints the ground truth: every host's IP, MAC and name.
      Run tools inside with: ip netns exec NAME-op arp-scan -I eth0 CIDR
  lan list [NAME] [-json]   beds on this machine, or the hosts of one
  lan down NAME...          tear beds down
  lan down --all            remove every bed, including crashed runs' leftovers
`)
	os.Exit(2)
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	name := fs.String("name", "", "bed name (must start with "+testbed.Prefix+"; default: random)")
	hosts := fs.Int("hosts", 10, "hosts per LAN")
	prefix := fs.String("prefix", "", "LAN prefix, or a comma-separated list, one per LAN")
	lans := fs.Int("lans", 1, "number of LANs")
	mode := fs.String("mode", "ns", "ns (a namespace per host) or rewrite (one responder, MACs rewritten on the bridge)")
	spread := fs.Bool("spread", false, "spread hosts over the prefix")
	ssh := fs.Bool("ssh", false, "run sshd on every host (mode ns)")
	asJSON := fs.Bool("json", false, "print the ground truth as JSON")
	fs.Parse(args)
	var prefixes []string
	if *prefix != "" {
		prefixes = strings.Split(*prefix, ",")
		if *lans < len(prefixes) {
			*lans = len(prefixes)
		}
	}
	var specs []testbed.LAN
	for i := 0; i < *lans; i++ {
		l := testbed.LAN{Hosts: *hosts, Mode: testbed.Mode(*mode), Spread: *spread, SSH: *ssh}
		if i < len(prefixes) {
			p, err := netip.ParsePrefix(strings.TrimSpace(prefixes[i]))
			if err != nil {
				return fmt.Errorf("-prefix %q: %w", prefixes[i], err)
			}
			l.Prefix = p
		}
		specs = append(specs, l)
	}
	start := time.Now()
	b, err := testbed.Up(context.Background(), testbed.Options{Name: *name, LANs: specs})
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(os.Stderr, "bed %s up in %v (%d hosts, %.0f hosts/s); operator namespace %s\n",
		b.Name, took.Round(time.Millisecond), len(b.Hosts()), float64(len(b.Hosts()))/took.Seconds(), b.Operator)
	if *ssh {
		fmt.Fprintf(os.Stderr, "ssh: ip netns exec %s ssh -i %s %s@HOST (password %s)\n", b.Operator, b.SSHKeyPath(), testbed.SSHUser, testbed.SSHPassword)
	}
	return printHosts(b.Hosts(), *asJSON)
}

func printHosts(hosts []testbed.Host, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(hosts)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LAN\tIP\tMAC\tNAME\tNETNS")
	for _, h := range hosts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", h.LAN, h.IP, h.MAC, h.Name, h.Netns)
	}
	return tw.Flush()
}

// flagsFirst moves flags before positional arguments, so that both
// "list NAME -json" and "list -json NAME" work.
func flagsFirst(args []string) []string {
	var flags, rest []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
		} else {
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

func list(args []string) error {
	fs := flag.NewFlagSet("list", flag.ExitOnError)
	asJSON := fs.Bool("json", false, "JSON output")
	fs.Parse(flagsFirst(args))
	states, err := testbed.States()
	if err != nil {
		return err
	}
	if name := fs.Arg(0); name != "" {
		for _, st := range states {
			if st.Name == name {
				return printHosts(st.Hosts, *asJSON)
			}
		}
		return fmt.Errorf("no bed called %s", name)
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(states)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLANS\tHOSTS\tOPERATOR\tDIR")
	for _, st := range states {
		var lans []string
		for _, l := range st.LANs {
			lans = append(lans, fmt.Sprintf("%s/%s", l.Prefix, l.Mode))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", st.Name, strings.Join(lans, ","), len(st.Hosts), st.Operator, st.Dir)
	}
	return tw.Flush()
}

func down(args []string) error {
	if len(args) == 1 && (args[0] == "--all" || args[0] == "-all") {
		names, err := testbed.DownAll()
		fmt.Fprintf(os.Stderr, "removed %d namespace(s)\n", len(names))
		return err
	}
	if len(args) == 0 {
		usage()
	}
	for _, n := range args {
		if err := testbed.DownByName(n); err != nil {
			return err
		}
	}
	return nil
}
