package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"muster/internal/pgtest"
)

// The store conformance suite, in the manner of rclone's fstests: every
// test below runs against every backend, SQLite in a temporary file and a
// real PostgreSQL started for the run, each test on a fresh database.
var conformance = []struct {
	name string
	test func(t *testing.T, open func(*testing.T) *DB)
}{
	{"SaveAndReadBack", testSaveAndReadBack},
	{"ChecksumDelta", testChecksumDelta},
	{"AccountInfoRules", testAccountInfoRules},
	{"ContactStatistics", testContactStatistics},
	{"ContactsAreDurableAndMonotonic", testContactsAreDurableAndMonotonic},
	{"ActivationBindsOnce", testActivationBindsOnce},
	{"PackageClientRuleReachesLaterDevices", testPackageClientRuleReachesLaterDevices},
	{"PackageInInventoryHistoryIsNotOffered", testPackageInInventoryHistoryIsNotOffered},
	{"ConcurrentActivationsBindOnce", testConcurrentActivationsBindOnce},
	{"NetmapAndSchedules", testNetmapAndSchedules},
	{"ConcurrentElectionsElectOnce", testConcurrentElectionsElectOnce},
	{"UsersSessionsAudit", testUsersSessionsAudit},
	{"PushRuns", testPushRuns},
	{"IdentifyAndRequestedPush", testIdentifyAndRequestedPush},
	{"SectionContains", testSectionContains},
	{"MergeDevices", testMergeDevices},
	{"Groups", testGroups},
}

func TestConformanceSQLite(t *testing.T) {
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) { c.test(t, openSQLite) })
	}
}

func TestConformancePostgres(t *testing.T) {
	dsn := pgtest.Start(t)
	open := postgresOpener(t, dsn)
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) { c.test(t, open) })
	}
}

var dbSerial atomic.Int64

// postgresOpener returns an opener that makes a fresh database per call on
// the server at dsn.
func postgresOpener(t *testing.T, dsn string) func(*testing.T) *DB {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return func(t *testing.T) *DB {
		t.Helper()
		name := fmt.Sprintf("muster_test_%d", dbSerial.Add(1))
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatal(err)
		}
		s, err := OpenPostgres(strings.Replace(dsn, "/postgres?", "/"+name+"?", 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// Replicas starting at once on an empty database migrate it once, and all
// of them come up.
func TestPostgresReplicasMigrateOnce(t *testing.T) {
	dsn := pgtest.Start(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE replicas"); err != nil {
		t.Fatal(err)
	}
	rdsn := strings.Replace(dsn, "/postgres?", "/replicas?", 1)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenPostgres(rdsn, nil)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	s, err := OpenPostgres(rdsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n, max int
	if err := s.r.QueryRowContext(context.Background(), `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != max || n < 6 {
		t.Fatalf("schema_migrations holds %d rows up to version %d: a migration ran twice or not at all", n, max)
	}
}

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`UPDATE t SET q = ?1, r = ?2 WHERE id = ?3 AND ?1 > 0`, `UPDATE t SET q = $1, r = $2 WHERE id = $3 AND $1 > 0`},
		{`SELECT '?' , "a?b", ? FROM t`, `SELECT '?' , "a?b", $1 FROM t`},
		{`SELECT 1`, `SELECT 1`},
	} {
		if got := postgresDialect.rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := sqliteDialect.rebind(c.in); got != c.in {
			t.Errorf("sqlite rebind changed %q", c.in)
		}
	}
}
