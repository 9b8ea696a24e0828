package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"muster/discover"
	"muster/internal/apiclient"
	"muster/inventories"
)

func (a *app) discoverCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "discover TARGET...",
		Short: "Find every live device on a subnet by ARP (IPDISCOVER)",
		Long: `Find every live device on the local subnet by ARP: IP, MAC, vendor and name.

TARGET is an address, a CIDR (10.0.0.0/24), a range (10.0.0.10-50 or
10.0.0.10-10.0.0.50) or a comma-separated list. ARP only reaches the local
link, so targets must be on a subnet of one interface (chosen by the
subnet, or named with --iface). More than a /16 needs --force.

By default requests go out one every --latency (100 ms, OCS's
IPDISCOVER_LATENCY): gentle on the network, a /24 takes about 26 s.
--fast sends as fast as the link takes, optionally capped with --rate.
Addresses that stay silent are asked again (--retries), then the scan waits
for the last replies as long as the replies seen say it must: 2 × the slowest reply
seen, at least 10 ms, and longer while replies still come in, at most --timeout
(the whole --timeout only when nothing answered). Replies are taken while sending.

Results print as they come: a table, JSON lines (-o json) or CSV (-o csv).
Needs root or the CAP_NET_RAW capability.`,
		Example: `  muster discover 192.168.1.0/24
  muster discover --fast --timeout 100ms 10.0.0.0/22 --exclude 10.0.0.1
  muster discover --latency 20ms -o json 10.0.0.0/24 | jq .mac`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runDiscover(args) },
	}
	f := cmd.Flags()
	f.String("iface", "", "interface to scan from (default: the one whose subnet holds the targets)")
	f.Duration("latency", 100*time.Millisecond, "gap between two requests")
	f.Bool("fast", false, "no gap between requests (cap with --rate)")
	f.Int("rate", 0, "with --fast, at most this many requests per second (0: as fast as the link takes)")
	f.Int("retries", 1, "how many more times a silent address is asked")
	f.Duration("timeout", 500*time.Millisecond, "longest final wait for replies after the last request (the wait follows the reply times seen)")
	f.StringSlice("exclude", nil, "addresses, ranges or CIDRs not to ask")
	f.Bool("force", false, "allow more than a /16")
	f.Bool("names", true, "look names up by reverse DNS")
	f.Duration("name-timeout", time.Second, "deadline of one name lookup")
	f.String("vendors", "", "read vendors from this ieee-data directory (default: the table built in)")
	f.String("report", "", "also report the scan to this muster server's network map (http(s)://host:port)")
	f.String("token", "", "API token of the --report server (https://, or http:// on loopback: a token never crosses plain HTTP)")
	for _, n := range []string{"iface", "latency", "fast", "rate", "retries", "timeout", "exclude", "force", "names", "name-timeout", "vendors", "report", "token"} {
		a.bind(f, "discover."+n, n)
	}
	return cmd
}

func (a *app) runDiscover(args []string) error {
	v := a.v
	out := v.GetString("output")
	if out != "text" && out != "json" && out != "csv" {
		return fmt.Errorf("-o %q: discover prints text, json or csv", out)
	}
	targets, err := discover.ParseTargets(args, v.GetStringSlice("discover.exclude"), v.GetBool("discover.force"))
	if err != nil {
		return err
	}
	latency := v.GetDuration("discover.latency")
	if v.GetBool("discover.fast") {
		latency = 0
	} else if v.GetInt("discover.rate") != 0 {
		return fmt.Errorf("--rate goes with --fast (without it, --latency sets the pace)")
	}
	if latency < 0 || v.GetInt("discover.rate") < 0 || v.GetInt("discover.retries") < 0 || v.GetDuration("discover.timeout") < 0 {
		return fmt.Errorf("--latency, --rate, --retries and --timeout must not be negative")
	}
	var vendors *discover.Vendors // nil: the built-in table, loaded while the scan starts
	go discover.BuiltinVendors()
	if dir := v.GetString("discover.vendors"); dir != "" {
		if vendors, err = discover.LoadIEEEDir(dir); err != nil {
			return fmt.Errorf("--vendors: %w", err)
		}
	}
	ifc, err := discover.ChooseInterface(v.GetString("discover.iface"), targets)
	if err != nil {
		return err
	}
	link, err := discover.OpenLink(ifc)
	if err != nil {
		return err
	}
	defer link.Close()
	sc := discover.NewScanner(link, ifc.MAC, ifc.Addr.Addr(), discover.Options{
		Targets: targets, Latency: latency, Rate: v.GetInt("discover.rate"),
		Retries: v.GetInt("discover.retries"), Timeout: v.GetDuration("discover.timeout"),
		Names: v.GetBool("discover.names"), NameTimeout: v.GetDuration("discover.name-timeout"),
		Vendors: vendors,
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a.log.Debug("discover", "iface", ifc.Name, "from", ifc.Addr, "targets", len(targets), "latency", latency)

	results := make(chan discover.Result, 64)
	done := make(chan struct{})
	var st discover.Stats
	var runErr error
	go func() {
		defer close(done)
		st, runErr = sc.Run(ctx, results)
	}()
	stopBar := startBar(sc, len(targets), latency)
	pr := newPrinter(a, out)
	var found []inventories.DiscoveredHost
	for r := range results {
		stopBar.clear()
		pr.print(r)
		found = append(found, inventories.DiscoveredHost{IP: r.IP.String(), MAC: r.MAC.String(), Name: r.Name})
	}
	<-done
	stopBar.finish()
	pr.flush()
	fmt.Fprintf(os.Stderr, "discover: %d of %d addresses answered on %s (%s) in %v, %d requests, final wait %v\n",
		st.Found, st.Requested, ifc.Name, ifc.Addr, st.Elapsed.Round(time.Millisecond), st.Sent, st.FinalWait.Round(100*time.Microsecond))
	for _, c := range st.Conflicts {
		fmt.Fprintf(os.Stderr, "discover: conflict: %s answered with %s\n", c.IP, strings.Join(c.MACs, " and "))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted")
	}
	if runErr != nil {
		return runErr
	}
	if u := v.GetString("discover.report"); u != "" {
		subnet := ifc.Addr.Masked().Addr().String()
		n, err := reportScan(u, v.GetString("discover.token"), subnet, net.IP(net.CIDRMask(ifc.Addr.Bits(), 32)).String(), found)
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		fmt.Fprintf(os.Stderr, "discover: %d hosts reported to %s\n", n, u)
	}
	return nil
}

// reportScan posts a one-off scan to a muster server's network map.
func reportScan(server, token, subnet, mask string, hosts []inventories.DiscoveredHost) (int, error) {
	c, err := apiclient.New(server, token)
	if err != nil {
		return 0, err
	}
	var out struct{ Stored int }
	err = c.Do(context.Background(), "POST", "/api/v1/network/report", map[string]any{"subnet": subnet, "mask": mask, "hosts": hosts}, &out)
	return out.Stored, err
}

// bar is the progress bar on stderr, present only on a terminal.
type bar struct {
	pb   *progressbar.ProgressBar
	stop chan struct{}
}

func startBar(sc *discover.Scanner, total int, latency time.Duration) *bar {
	b := &bar{stop: make(chan struct{})}
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return b
	}
	b.pb = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("requests"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond))
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				sent, found := sc.Progress()
				b.pb.Describe(fmt.Sprintf("sent %d, found %d", sent, found))
				b.pb.Set(min(sent, total))
			}
		}
	}()
	return b
}

func (b *bar) clear() {
	if b.pb != nil {
		b.pb.Clear()
	}
}

func (b *bar) finish() {
	close(b.stop)
	if b.pb != nil {
		b.pb.Finish()
	}
}

// printer writes results as they arrive.
type printer struct {
	a      *app
	format string
	csv    *csv.Writer
	n      int
}

func newPrinter(a *app, format string) *printer {
	p := &printer{a: a, format: format}
	switch format {
	case "csv":
		p.csv = csv.NewWriter(a.out)
		p.csv.Write([]string{"ip", "mac", "vendor", "name", "rtt_ms", "first_seen", "requests", "first_rtt_ms"})
	case "text":
		fmt.Fprintf(a.out, "%-15s  %-17s  %-30s  %s\n", "IP", "MAC", "VENDOR", "NAME")
	}
	return p
}

func (p *printer) print(r discover.Result) {
	p.n++
	switch p.format {
	case "json":
		b, _ := json.Marshal(r)
		fmt.Fprintf(p.a.out, "%s\n", b)
	case "csv":
		p.csv.Write([]string{r.IP.String(), r.MAC.String(), r.Vendor, r.Name,
			fmt.Sprintf("%.3f", float64(r.RTT.Microseconds())/1000), r.FirstSeen.UTC().Format(time.RFC3339Nano), strconv.Itoa(r.Requests),
			fmt.Sprintf("%.3f", float64(r.FirstRTT.Microseconds())/1000)})
		p.csv.Flush()
	default:
		vendor := r.Vendor
		if len(vendor) > 30 {
			vendor = vendor[:29] + "…"
		}
		fmt.Fprintf(p.a.out, "%-15s  %-17s  %-30s  %s\n", r.IP, r.MAC, dash(vendor), dash(r.Name))
	}
}

func (p *printer) flush() {
	if p.csv != nil {
		p.csv.Flush()
	}
}
