package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"muster/internal/bench"
	"muster/internal/haproxy"
	"muster/internal/pgtest"
)

// startPostgresSides starts a private PostgreSQL with two databases: one
// for a single muster server (reached directly, and through HAProxy as
// oneLB), one for two replicas behind HAProxy. Two replicas are compared
// with one behind the same balancer, so the ratio is the replicas' own.
func startPostgresSides(bin string) (one, oneLB, two target, stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	pg, err := pgtest.Run()
	if err != nil {
		return one, oneLB, two, stop, fmt.Errorf("PostgreSQL (the scale-out sides need it): %w", err)
	}
	stops = append(stops, pg.Stop)
	admin, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		return one, oneLB, two, stop, err
	}
	for _, db := range []string{"single", "replicas"} {
		if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
			admin.Close()
			return one, oneLB, two, stop, err
		}
	}
	admin.Close()
	dsn := func(db string) string { return strings.Replace(pg.DSN, "/postgres?", "/"+db+"?", 1) }
	pgPIDs := func() []int { return bench.ProcessTree(pg.PID) }

	one, s1, err := startMuster(bin, "muster postgres", "", "", "--database", dsn("single"))
	if err != nil {
		return one, oneLB, two, stop, err
	}
	stops = append(stops, s1)
	one.db = pgPIDs
	one.dsn = dsn("single")
	lb1, err := haproxy.Run(one.addr)
	if err != nil {
		return one, oneLB, two, stop, err
	}
	stops = append(stops, lb1.Stop)
	oneLB = one
	oneLB.name = "muster postgres ×1 LB"
	oneLB.url = lb1.URL + "/ocsinventory"
	shared, err := os.MkdirTemp("", "ingestbench-replicas-")
	if err != nil {
		return one, oneLB, two, stop, err
	}
	stops = append(stops, func() { os.RemoveAll(shared) })
	r1, s2, err := startMuster(bin, "replica 1", shared, "", "--database", dsn("replicas"))
	if err != nil {
		return one, oneLB, two, stop, err
	}
	stops = append(stops, s2)
	r2, s3, err := startMuster(bin, "replica 2", shared, r1.token, "--database", dsn("replicas"))
	if err != nil {
		return one, oneLB, two, stop, err
	}
	stops = append(stops, s3)
	lb, err := haproxy.Run(r1.addr, r2.addr)
	if err != nil {
		return one, oneLB, two, stop, err
	}
	stops = append(stops, lb.Stop)
	two = r1
	two.name = "muster postgres ×2"
	two.url = lb.URL + "/ocsinventory"
	two.pids = func() []int { return append(r1.pids(), r2.pids()...) }
	two.db = pgPIDs
	return one, oneLB, two, stop, nil
}

// cpuCosts holds the CPU per inventory of each side's runs, by workload.
var (
	cpuMu    sync.Mutex
	cpuCosts = map[string]map[string][][2]time.Duration{} // workload → side → [muster, db] per item
)

type cpuAcct struct {
	t      target
	m0, d0 time.Duration
}

func startCPU(t target) *cpuAcct {
	a := &cpuAcct{t: t}
	if t.pids != nil {
		a.m0 = bench.CPU(t.pids())
	}
	if t.db != nil {
		a.d0 = bench.CPU(t.db())
	}
	return a
}

func (a *cpuAcct) stop(workload string, items int) {
	if a.t.pids == nil || items == 0 {
		return
	}
	m := (bench.CPU(a.t.pids()) - a.m0) / time.Duration(items)
	var d time.Duration
	if a.t.db != nil {
		d = (bench.CPU(a.t.db()) - a.d0) / time.Duration(items)
	}
	cpuMu.Lock()
	defer cpuMu.Unlock()
	if cpuCosts[workload] == nil {
		cpuCosts[workload] = map[string][][2]time.Duration{}
	}
	cpuCosts[workload][a.t.name] = append(cpuCosts[workload][a.t.name], [2]time.Duration{m, d})
}

// medianCost is the median CPU per item of a side: muster's, the db's.
func medianCost(workload, side string) (time.Duration, time.Duration, bool) {
	cpuMu.Lock()
	defer cpuMu.Unlock()
	runs := cpuCosts[workload][side]
	if len(runs) == 0 {
		return 0, 0, false
	}
	m := make([]time.Duration, len(runs))
	d := make([]time.Duration, len(runs))
	for i, r := range runs {
		m[i], d[i] = r[0], r[1]
	}
	slices.Sort(m)
	slices.Sort(d)
	return m[len(m)/2], d[len(d)/2], true
}

func printCPU(workload string, all []target) {
	for _, t := range all {
		m, d, ok := medianCost(workload, t.name)
		if !ok {
			continue
		}
		line := fmt.Sprintf("   CPU per inventory, %-20s muster %6.1f ms", t.name, float64(m.Microseconds())/1000)
		if t.db != nil {
			line += fmt.Sprintf("  PostgreSQL %6.1f ms", float64(d.Microseconds())/1000)
		}
		fmt.Println(line)
	}
}

// capacityPlan turns the single PostgreSQL server's CPU per inventory
// into what 100,000 agents each sending one inventory a day would need,
// and the database size per device.
func capacityPlan(pg target, cs []int) {
	workload := fmt.Sprintf("full C=%d", cs[len(cs)-1])
	m, d, ok := medianCost(workload, pg.name)
	if !ok {
		return
	}
	const agents = 100000
	const window = 8 * time.Hour // the inventories of a day arrive within working hours
	rate := float64(agents) / window.Seconds()
	size := int64(0)
	fmt.Printf("== capacity plan (from %s, %s)\n", pg.name, workload)
	fmt.Printf("   100,000 agents, one full inventory each per day, all within %v: %.1f inventories/s\n", window, rate)
	fmt.Printf("   muster: %.1f ms CPU each → %.2f cores busy; PostgreSQL: %.1f ms → %.2f cores busy\n",
		float64(m.Microseconds())/1000, rate*m.Seconds(), float64(d.Microseconds())/1000, rate*d.Seconds())
	if s, n, err := databaseSize(pg); err == nil && n > 0 {
		size = s / int64(n)
		fmt.Printf("   database: %d MB for %d devices → %.1f KB per device → %.1f GB for 100,000 (before history and indexes grow)\n",
			s>>20, n, float64(size)/1024, float64(size)*agents/(1<<30))
	}
}

// databaseSize reads pg_database_size and the devices count of the
// database the target was started on.
func databaseSize(t target) (int64, int, error) {
	if t.dsn == "" {
		return 0, 0, fmt.Errorf("no DSN")
	}
	db, err := sql.Open("pgx", t.dsn)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var size int64
	var n int
	if err := db.QueryRowContext(ctx, `SELECT pg_database_size(current_database()), (SELECT COUNT(*) FROM devices)`).Scan(&size, &n); err != nil {
		return 0, 0, err
	}
	return size, n, nil
}
