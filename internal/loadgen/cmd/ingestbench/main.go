// Command ingestbench measures muster server's ingest against the real OCS
// Inventory NG server on the same machine: K distinct full inventories
// (shaped like the Debian agent's, 843 packages) and PROLOGs of registered
// machines, at concurrency 1, 4 and 16, a new connection per request as
// agents do. It prints both figures and the ratio. The OCS server is the one
// scripts/ocs-reference.sh stands up on 127.0.0.1:8081; without it, only
// muster's figures are printed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"muster/internal/fleet"
	"muster/internal/loadgen"
)

func main() {
	var (
		bin      = flag.String("muster", "bin/muster", "muster binary")
		template = flag.String("template", "inventories/testdata/inventory.xml", "inventory to clone (a real agent's)")
		k        = flag.Int("k", 200, "distinct full inventories per run against muster")
		ocsK     = flag.Int("ocs-k", 24, "distinct full inventories per run against OCS (it does about 1-3 per second)")
		prologs  = flag.Int("prologs", 3000, "PROLOGs per run")
		ocsURL   = flag.String("ocs", "http://127.0.0.1:8081/ocsinventory", "the reference OCS server")
		levels   = flag.String("c", "1,4,16", "concurrency levels")
		noop     = flag.Bool("noop-server", false, "internal: serve a no-op HTTP handler on a free port and print it")
	)
	flag.Parse()
	if *noop {
		serveNoop()
		return
	}
	if err := run(*bin, *template, *k, *ocsK, *prologs, *ocsURL, *levels); err != nil {
		fmt.Fprintln(os.Stderr, "ingestbench:", err)
		os.Exit(1)
	}
}

type target struct {
	name string
	url  string
	k    int
	// count returns how many devices with the prefix were stored, or -1.
	count func(prefix string) int
}

type row struct {
	workload string
	c        int
	res      map[string]loadgen.Result
}

func run(bin, tmplPath string, k, ocsK, prologs int, ocsURL, levels string) error {
	tmpl, err := fleet.Load(tmplPath)
	if err != nil {
		return err
	}
	var cs []int
	for _, s := range strings.Split(levels, ",") {
		var c int
		if _, err := fmt.Sscan(s, &c); err != nil || c < 1 {
			return fmt.Errorf("-c %q: want a list of positive numbers", levels)
		}
		cs = append(cs, c)
	}
	data, err := os.MkdirTemp("", "ingestbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	mu, stop, err := startMuster(bin, data)
	if err != nil {
		return err
	}
	defer stop()
	mu.k = k
	targets := []target{mu}
	if reachable(ocsURL) {
		targets = append(targets, target{name: "ocs", url: ocsURL, k: ocsK, count: ocsCount})
	} else {
		fmt.Printf("OCS reference server not answering at %s: run 'sudo scripts/ocs-reference.sh up' for the ratio.\n\n", ocsURL)
	}
	ctx := context.Background()
	floorURL, stopFloor, err := startNoop()
	if err != nil {
		return err
	}
	defer stopFloor()
	targets = append(targets, target{name: "floor", url: floorURL})
	run := time.Now().Unix() % 100000
	var rows []row
	stored := map[string]int{}
	for _, t := range targets {
		if t.name == "floor" {
			// The wire's own cost: the same PROLOG load against a handler
			// that does nothing, in its own process. No server can beat it.
			for _, c := range cs {
				pb := make([][]byte, prologs)
				for i := range pb {
					pb[i] = fleet.Prolog("floor", i%200)
				}
				rows = addRow(rows, "prolog", c, t.name, loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: c}, pb))
			}
			continue
		}
		// Warm up: one seed machine (software dictionaries), and 200
		// registered machines for the PROLOG runs.
		seedPrefix := fmt.Sprintf("seed%05d-", run)
		loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: 1}, [][]byte{tmpl.Body(seedPrefix, 0)})
		light, err := fleet.Load("inventories/testdata/inventory-nosoftware.xml")
		if err != nil {
			return err
		}
		regPrefix := fmt.Sprintf("reg%05d-", run)
		var reg [][]byte
		for i := 0; i < 200; i++ {
			reg = append(reg, light.Body(regPrefix, i))
		}
		if r := loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: 4}, reg); r.Failed > 0 {
			return fmt.Errorf("%s: registering machines: %s", t.name, r.FirstError)
		}
		for _, c := range cs {
			fmt.Fprintf(os.Stderr, "%s: full inventories at C=%d...\n", t.name, c)
			prefix := fmt.Sprintf("b%05d%s%02d-", run, t.name[:1], c)
			bodies := make([][]byte, t.k)
			for i := range bodies {
				bodies[i] = tmpl.Body(prefix, i)
			}
			warm := make([][]byte, 4*c)
			for i := range warm {
				warm[i] = fleet.Prolog(regPrefix, i%200)
			}
			loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: c}, warm)
			r := loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: c}, bodies)
			stored[t.name+fmt.Sprint(c)] = t.count(prefix)
			rows = addRow(rows, "full", c, t.name, r)

			fmt.Fprintf(os.Stderr, "%s: prologs at C=%d...\n", t.name, c)
			pb := make([][]byte, prologs)
			for i := range pb {
				pb[i] = fleet.Prolog(regPrefix, i%200)
			}
			rows = addRow(rows, "prolog", c, t.name, loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: c}, pb))
		}
	}
	print(rows, len(targets) > 2)
	// Acknowledged is not stored: say what each server really kept.
	fmt.Println()
	for _, r := range rows {
		if r.workload != "full" {
			continue
		}
		for _, name := range []string{"muster", "ocs"} {
			if name == "ocs" && len(targets) < 3 {
				continue
			}
			res, ok := r.res[name]
			if !ok {
				continue
			}
			n := stored[name+fmt.Sprint(r.c)]
			switch {
			case n < 0:
				fmt.Printf("%s C=%d: %d acknowledged, stored count unavailable\n", name, r.c, res.OK)
			case n != res.OK:
				fmt.Printf("%s C=%d: %d acknowledged but %d stored: DATA LOSS\n", name, r.c, res.OK, n)
			default:
				fmt.Printf("%s C=%d: %d acknowledged, %d stored\n", name, r.c, res.OK, n)
			}
		}
	}
	return nil
}

// ocsCount counts the OCS server's hardware rows for a prefix, through the
// mysql client as root (the reference script's set-up), or -1.
func ocsCount(prefix string) int {
	out, err := exec.Command("mysql", "-N", "-B", "ocsweb", "-e",
		fmt.Sprintf("SELECT COUNT(*) FROM hardware WHERE DEVICEID LIKE '%s%%'", prefix)).Output()
	if err != nil {
		return -1
	}
	var n int
	if _, err := fmt.Sscan(string(out), &n); err != nil {
		return -1
	}
	return n
}

func addRow(rows []row, w string, c int, name string, r loadgen.Result) []row {
	for i := range rows {
		if rows[i].workload == w && rows[i].c == c {
			rows[i].res[name] = r
			return rows
		}
	}
	return append(rows, row{workload: w, c: c, res: map[string]loadgen.Result{name: r}})
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func print(rows []row, withOCS bool) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	if withOCS {
		fmt.Fprintln(tw, "workload\tC\tmuster/s\tp50 ms\tp99 ms\tfailed\tOCS/s\tp50 ms\tp99 ms\tfailed\tratio\ttarget\tno-op floor/s\t")
	} else {
		fmt.Fprintln(tw, "workload\tC\tmuster/s\tp50 ms\tp99 ms\tfailed\t")
	}
	for _, r := range rows {
		m := r.res["muster"]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%d\t", r.workload, r.c, m.Rate(), ms(m.P50), ms(m.P99), m.Failed)
		if o, ok := r.res["ocs"]; ok {
			want := 10.0
			if r.workload == "prolog" {
				want = 20
			}
			ratio := m.Rate() / o.Rate()
			verdict := "met"
			if ratio < want {
				verdict = "MISSED"
			}
			fmt.Fprintf(tw, "%.2f\t%s\t%s\t%d\t%.1f×\t≥%.0f× %s\t", o.Rate(), ms(o.P50), ms(o.P99), o.Failed, ratio, want, verdict)
			if f, ok := r.res["floor"]; ok {
				fmt.Fprintf(tw, "%.0f (%.1f× OCS)\t", f.Rate(), f.Rate()/o.Rate())
			} else {
				fmt.Fprint(tw, "\t")
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, r := range rows {
		for name, res := range r.res {
			if res.FirstError != "" {
				fmt.Printf("%s %s C=%d first error: %s\n", name, r.workload, r.c, res.FirstError)
			}
		}
	}
}

func reachable(url string) bool {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func startMuster(bin, data string) (target, func(), error) {
	cmd := exec.Command(bin, "-o", "json", "--log-level", "warn", "server", "--listen", "127.0.0.1:0", "--data-dir", data)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return target{}, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return target{}, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	sc := bufio.NewScanner(out)
	var js strings.Builder
	for sc.Scan() {
		js.WriteString(sc.Text())
		if sc.Text() == "}" {
			break
		}
	}
	var ready struct{ URL, Listen, API_Token string }
	if err := json.Unmarshal([]byte(js.String()), &ready); err != nil {
		stop()
		return target{}, nil, fmt.Errorf("muster server did not start: %q", js.String())
	}
	base := "http://" + ready.Listen
	count := func(prefix string) int {
		req, _ := http.NewRequest("GET", base+"/api/v1/devices", nil)
		req.Header.Set("Authorization", "Bearer "+ready.API_Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -2
		}
		defer resp.Body.Close()
		var devs []struct{ DeviceID string }
		json.NewDecoder(resp.Body).Decode(&devs)
		n := 0
		for _, d := range devs {
			if strings.HasPrefix(d.DeviceID, prefix) {
				n++
			}
		}
		return n
	}
	return target{name: "muster", url: ready.URL, count: count}, stop, nil
}

func serveNoop() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	}))
}

func startNoop() (string, func(), error) {
	cmd := exec.Command(os.Args[0], "-noop-server")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		stop()
		return "", nil, fmt.Errorf("no-op server did not start")
	}
	return "http://" + sc.Text() + "/", stop, nil
}
