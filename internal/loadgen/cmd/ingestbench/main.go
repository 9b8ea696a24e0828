// Command ingestbench measures muster server's ingest beside the real OCS
// Inventory NG server on the same machine, through internal/bench: the same
// K full inventories (clones of the Debian agent's, 843 packages) and the
// same P PROLOGs of registered machines go to each side at concurrency 1, 4
// and 16, a new connection per request as agents do, the sides taking
// turns. Before a ratio is printed, what each side stored is counted: the
// devices and their software rows, and for PROLOGs the contacts recorded
// (FIDELITY). Both sides answer a PROLOG only once its contact is
// committed (OCS: a commit per request; muster: group commit). muster
// runs three ways: on SQLite, on a private PostgreSQL, and as two replicas
// on one PostgreSQL behind HAProxy, compared with one server behind the
// same balancer as well as with one reached directly; the CPU each inventory costs muster and
// PostgreSQL is printed, and a capacity plan for 100,000 agents. The OCS
// server is the one scripts/ocs-reference.sh stands up on
// 127.0.0.1:8081; without it, the comparison is refused.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"muster/internal/bench"
	"muster/internal/fleet"
	"muster/internal/loadgen"
)

func main() {
	var (
		bin      = flag.String("muster", "bin/muster", "muster binary")
		template = flag.String("template", "inventories/testdata/inventory.xml", "inventory to clone (a real agent's)")
		k        = flag.Int("k", 32, "distinct full inventories per run, the same on both sides (OCS takes 1-3 per second)")
		prologs  = flag.Int("prologs", 600, "PROLOGs per run, the same on every side")
		runs     = flag.Int("runs", 3, "runs of each side per comparison")
		ocsURL   = flag.String("ocs", "http://127.0.0.1:8081/ocsinventory", "the reference OCS server")
		levels   = flag.String("c", "1,4,16", "concurrency levels")
		work     = flag.String("workloads", "full,prolog", "workloads to run")
	)
	flag.Parse()
	if err := run(*bin, *template, *k, *prologs, *runs, *ocsURL, *levels, *work); err != nil {
		fmt.Fprintln(os.Stderr, "ingestbench:", err)
		os.Exit(1)
	}
}

// target is one server under load, and how to read what it stored.
type target struct {
	name string
	url  string
	// stored returns the devices whose DEVICEID starts with prefix, and
	// the software rows they hold.
	stored func(prefix string) (devices, software int, err error)
	// contacts returns the sum of FIDELITY over those devices.
	contacts func(prefix string) (int, error)
	// muster servers only: the API address and token, and the processes
	// whose CPU one inventory costs (db: the database's, if its own).
	addr, token, dsn string
	pids, db         func() []int
}

func run(bin, tmplPath string, k, prologs, runs int, ocsURL, levels, work string) error {
	tmpl, err := fleet.Load(tmplPath)
	if err != nil {
		return err
	}
	light, err := fleet.Load("inventories/testdata/inventory-nosoftware.xml")
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
	if !reachable(ocsURL) {
		return fmt.Errorf("the OCS reference server does not answer at %s: run 'sudo scripts/ocs-reference.sh up' (no ratio without its anchor)", ocsURL)
	}
	ocs := target{name: "ocs", url: ocsURL, stored: ocsStored, contacts: ocsContacts}
	mu, stop, err := startMuster(bin, "muster sqlite", "", "")
	if err != nil {
		return err
	}
	defer stop()
	pg1, pg1lb, pg2, stopPG, err := startPostgresSides(bin)
	if err != nil {
		return err
	}
	defer stopPG()
	ctx := context.Background()
	runID := time.Now().Unix() % 100000
	regPrefix := fmt.Sprintf("reg%05d-", runID)
	all := []target{mu, ocs, pg1, pg2, pg1lb}
	for _, t := range all {
		// Warm up as a live server is: one seed machine (OCS's software
		// dictionaries), and 200 registered machines for the PROLOGs.
		loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: 1}, [][]byte{tmpl.Body(fmt.Sprintf("seed%05d-", runID), 0)})
		var reg [][]byte
		for i := 0; i < 200; i++ {
			reg = append(reg, light.Body(regPrefix, i))
		}
		if r := loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: 4}, reg); r.Failed > 0 {
			return fmt.Errorf("%s: registering machines: %s", t.name, r.FirstError)
		}
	}
	failed := 0
	serial := 0
	for _, c := range cs {
		full := func(t target) bench.Side {
			return bench.Side{Name: t.name, Run: func(ctx context.Context) (bench.Result, error) {
				serial++
				prefix := fmt.Sprintf("b%05d-%d-", runID, serial)
				bodies := make([][]byte, k)
				for i := range bodies {
					bodies[i] = tmpl.Body(prefix, i)
				}
				acct := startCPU(t)
				r := loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: c}, bodies)
				acct.stop(fmt.Sprintf("full C=%d", c), k)
				devs, soft, err := t.stored(prefix)
				if err != nil {
					return bench.Result{}, err
				}
				return bench.Result{Elapsed: r.Wall, Output: fmt.Sprintf("%d of %d acknowledged; %d devices stored with %d software rows%s", r.OK, k, devs, soft, firstError(r))}, nil
			}}
		}
		if strings.Contains(work, "full") {
			fmt.Fprintf(os.Stderr, "ingestbench: full inventories at C=%d...\n", c)
			rep, err := bench.Run(ctx, bench.Comparison{
				Name:   fmt.Sprintf("ingest, full inventories, C=%d", c),
				Same:   fmt.Sprintf("the same %d new machines' full inventories (337 KB XML, 843 packages each) per run, C=%d clients, a connection per request; every side commits each inventory before answering (SQLite synchronous=FULL; PostgreSQL fsync on; MariaDB InnoDB flush at commit); output: acknowledged, devices and software rows stored", k, c),
				Sides:  []bench.Side{full(mu), full(ocs), full(pg1), full(pg2), full(pg1lb)},
				Ratios: [][2]int{{0, 1}, {2, 1}, {3, 1}, {3, 2}, {3, 4}},
				Runs:   runs, Work: float64(k), Unit: "inventories",
			}, os.Stderr)
			rep.Print(os.Stdout)
			printCPU(fmt.Sprintf("full C=%d", c), all)
			if err != nil {
				fmt.Println("   FAILED:", err)
				failed++
			}
			fmt.Println()
		}
		if !strings.Contains(work, "prolog") {
			continue
		}

		prolog := func(t target) bench.Side {
			return bench.Side{Name: t.name, Run: func(ctx context.Context) (bench.Result, error) {
				before, err := t.contacts(regPrefix)
				if err != nil {
					return bench.Result{}, err
				}
				pb := make([][]byte, prologs)
				for i := range pb {
					pb[i] = fleet.Prolog(regPrefix, i%200)
				}
				r := loadgen.Run(ctx, loadgen.Options{URL: t.url, Concurrency: c}, pb)
				// Both sides commit a contact before answering: what
				// was acknowledged is there now.
				after, err := t.contacts(regPrefix)
				if err != nil {
					return bench.Result{}, err
				}
				return bench.Result{Elapsed: r.Wall, Output: fmt.Sprintf("%d of %d acknowledged; %d contacts recorded%s", r.OK, prologs, after-before, firstError(r))}, nil
			}}
		}
		fmt.Fprintf(os.Stderr, "ingestbench: PROLOGs at C=%d...\n", c)
		rep, err := bench.Run(ctx, bench.Comparison{
			Name:   fmt.Sprintf("ingest, PROLOG, C=%d", c),
			Same:   fmt.Sprintf("the same %d PROLOGs of 200 known machines per run, C=%d clients, a connection per request; output: acknowledged and contacts (FIDELITY) recorded, read right after the run; both commit each contact before answering (OCS a commit per request, muster a group commit shared by the PROLOGs that arrive during the previous one)", prologs, c),
			Sides:  []bench.Side{prolog(mu), prolog(ocs), prolog(pg1), prolog(pg2), prolog(pg1lb)},
			Ratios: [][2]int{{0, 1}, {2, 1}, {3, 1}, {3, 2}, {3, 4}},
			Runs:   runs, Work: float64(prologs), Unit: "PROLOGs",
		}, os.Stderr)
		rep.Print(os.Stdout)
		if err != nil {
			fmt.Println("   FAILED:", err)
			failed++
		}
		fmt.Println()
	}
	capacityPlan(pg1, cs)
	if failed > 0 {
		return fmt.Errorf("%d comparisons failed", failed)
	}
	return nil
}

func firstError(r loadgen.Result) string {
	if r.FirstError == "" {
		return ""
	}
	return "; first error: " + r.FirstError
}

// mysql runs one query against the OCS database as root (the reference
// script's set-up) and reads one number.
func mysql(query string) (int, error) {
	out, err := exec.Command("mysql", "-N", "-B", "ocsweb", "-e", query).Output()
	if err != nil {
		return 0, fmt.Errorf("mysql %q: %w", query, err)
	}
	var n int
	s := strings.TrimSpace(string(out))
	if s == "NULL" {
		return 0, nil
	}
	if _, err := fmt.Sscan(s, &n); err != nil {
		return 0, fmt.Errorf("mysql %q: %q", query, out)
	}
	return n, nil
}

func ocsStored(prefix string) (int, int, error) {
	devs, err := mysql(fmt.Sprintf("SELECT COUNT(*) FROM hardware WHERE DEVICEID LIKE '%s%%'", prefix))
	if err != nil {
		return 0, 0, err
	}
	soft, err := mysql(fmt.Sprintf("SELECT COUNT(*) FROM software s JOIN hardware h ON s.HARDWARE_ID = h.ID WHERE h.DEVICEID LIKE '%s%%'", prefix))
	return devs, soft, err
}

func ocsContacts(prefix string) (int, error) {
	return mysql(fmt.Sprintf("SELECT COALESCE(SUM(FIDELITY), 0) FROM hardware WHERE DEVICEID LIKE '%s%%'", prefix))
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

func startMuster(bin, name, data, token string, extra ...string) (target, func(), error) {
	own := data == ""
	if own {
		var err error
		if data, err = os.MkdirTemp("", "ingestbench-"); err != nil {
			return target{}, nil, err
		}
	}
	args := append([]string{"-o", "json", "--log-level", "warn", "server", "--listen", "127.0.0.1:0", "--data-dir", data}, extra...)
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return target{}, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return target{}, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
		if own {
			os.RemoveAll(data)
		}
	}
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
	if ready.API_Token == "" {
		ready.API_Token = token // a replica of a server that made it
	}
	base := "http://" + ready.Listen
	get := func(path string, v any) error {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+ready.API_Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	type device struct {
		ID       int64
		DeviceID string
		Fidelity int
	}
	devices := func(prefix string) ([]device, error) {
		var all []device
		if err := get("/api/v1/devices", &all); err != nil {
			return nil, err
		}
		var mine []device
		for _, d := range all {
			if strings.HasPrefix(d.DeviceID, prefix) {
				mine = append(mine, d)
			}
		}
		return mine, nil
	}
	stored := func(prefix string) (int, int, error) {
		devs, err := devices(prefix)
		if err != nil {
			return 0, 0, err
		}
		soft := 0
		for _, d := range devs {
			var detail struct {
				Inventory struct{ Softwares []json.RawMessage }
			}
			if err := get(fmt.Sprintf("/api/v1/devices/%d", d.ID), &detail); err != nil {
				return 0, 0, err
			}
			soft += len(detail.Inventory.Softwares)
		}
		return len(devs), soft, nil
	}
	contacts := func(prefix string) (int, error) {
		devs, err := devices(prefix)
		sum := 0
		for _, d := range devs {
			sum += d.Fidelity
		}
		return sum, err
	}
	pid := cmd.Process.Pid
	return target{name: name, url: ready.URL, stored: stored, contacts: contacts, addr: ready.Listen, token: ready.API_Token,
		pids: func() []int { return []int{pid} }}, stop, nil
}
