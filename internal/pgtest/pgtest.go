// Package pgtest starts a private PostgreSQL server for a test: a fresh
// cluster in the test's temporary directory, on a free loopback port and a
// socket directory of its own, stopped when the test ends. It is how the
// store conformance suite and the replica tests get a real PostgreSQL.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"muster/internal/testenv"
)

// binDir finds Debian's PostgreSQL programs (the newest version).
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("no /usr/lib/postgresql/*/bin/pg_ctl (Debian's postgresql; make test installs it)")
}

// Start runs a PostgreSQL server for t and returns a DSN for its
// "postgres" database. It is skipped (failed under CI=true) without root or
// without PostgreSQL: initdb must run as the postgres user.
func Start(t testing.TB) string {
	t.Helper()
	return StartServer(t).DSN
}

// StartServer is Start, returning the whole Server (its socket DSN too).
func StartServer(t testing.TB) *Server {
	t.Helper()
	if _, err := binDir(); err != nil {
		testenv.Missing(t, err.Error())
	}
	testenv.Root(t)
	if _, err := user.Lookup("postgres"); err != nil {
		testenv.Missing(t, "no postgres user (Debian's postgresql package makes it)")
	}
	srv, err := Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// Server is a private PostgreSQL cluster started by Run.
type Server struct {
	DSN string
	// SocketDSN reaches the same database through the Unix socket in Dir:
	// it works from any network namespace (a test bed's hosts), where the
	// loopback port does not.
	SocketDSN string
	Dir       string
	PID       int // the postmaster's
	stop      func()
}

// Stop stops the server and removes its files.
func (s *Server) Stop() { s.stop() }

// Run starts a private PostgreSQL cluster (as root, as the postgres user)
// in a new temporary directory, on a free loopback port. Tests use Start;
// benchmarks use Run and Stop.
func Run() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("no postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	dir, err := os.MkdirTemp("", "muster-pg-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Server, error) { os.RemoveAll(dir); return nil, err }
	if err := os.Chown(dir, uid, gid); err != nil {
		return fail(err)
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	run := func(args ...string) error {
		cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", filepath.Base(args[0]), err, out)
		}
		return nil
	}
	if err := run(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"); err != nil {
		return fail(err)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200", port, dir)
	if err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return fail(fmt.Errorf("%v\n%s", err, log))
	}
	s := &Server{DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), Dir: dir,
		SocketDSN: fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=%d&sslmode=disable", dir, port)}
	if b, err := os.ReadFile(filepath.Join(data, "postmaster.pid")); err == nil {
		s.PID, _ = strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	}
	s.stop = func() {
		run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	}
	return s, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
