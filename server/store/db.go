package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL through database/sql
	_ "modernc.org/sqlite"             // the pure-Go SQLite driver: no cgo, so Windows cross-builds work
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "muster.db"

// Pseudo-sections stored beside the model's record sections.
const (
	rowDownload = "DOWNLOAD"
	rowIPDisc   = "IPDISCOVER"
	rowExtra    = "EXTRA"
	rowOldID    = "OLD_DEVICEID"
)

// DB is the store on SQL: embedded SQLite (one file in WAL mode, one
// writer connection and a pool of readers) or PostgreSQL (one pool, shared
// by as many server replicas as the fleet needs). The queries are the
// same; a dialect rewrites what differs. Write transactions are
// serializable on both, so the rules that hold on one SQLite writer (an
// activation code binds once, an election never over-elects) hold across
// replicas too. PROLOG contact statistics are group-committed: every
// PROLOG waits for the commit of its batch, and one commit serves all that
// came in while the previous one ran. An inventory is committed before its
// reply.
type DB struct {
	w, r *handle
	d    *dialect
	log  *slog.Logger

	// lastInv maps DEVICEID to the UNIX time of its last inventory, for the
	// devices this process has seen, so that a PROLOG needs no query. Another
	// process (an import, a replica) can only make an entry older than the
	// database, which at worst asks an agent for one inventory too many.
	lastInv sync.Map

	mu      sync.Mutex
	next    *contactBatch // the PROLOG contacts of the next commit
	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
}

type contact struct {
	deviceID, ua string
	at           int64
}

// Backend names a store's database engine.
func (s *DB) Backend() string { return s.d.name }

// Open opens (creating if needed) the SQLite store at path and applies any
// pending schema migrations.
func Open(path string, log *slog.Logger) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	dsn := func(extra string) string {
		return "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(1)" + extra
	}
	w, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r.SetMaxOpenConns(2 * runtime.GOMAXPROCS(0))
	r.SetMaxIdleConns(2 * runtime.GOMAXPROCS(0))
	s, err := newDB(w, r, sqliteDialect, log)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// OpenPostgres opens the PostgreSQL store at dsn (postgres://…) and applies
// any pending schema migrations, once however many replicas start at once.
func OpenPostgres(dsn string, log *slog.Logger) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	db.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
	db.SetMaxIdleConns(4 * runtime.GOMAXPROCS(0))
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	s, err := newDB(db, db, postgresDialect, log)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	return s, nil
}

// OpenURL opens the store a --database value names: postgres://… or
// postgresql://… for PostgreSQL, anything else as a SQLite file path.
func OpenURL(database string, log *slog.Logger) (*DB, error) {
	if strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://") {
		return OpenPostgres(database, log)
	}
	return Open(database, log)
}

// redact hides a DSN's password in messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the database URL"
	}
	return u.Redacted()
}

func newDB(w, r *sql.DB, d *dialect, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &DB{w: &handle{w, d}, r: &handle{r, d}, d: d, log: log,
		kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		if r != w {
			r.Close()
		}
		return nil, err
	}
	if err := s.backfillSoftware(context.Background()); err != nil {
		w.Close()
		if r != w {
			r.Close()
		}
		return nil, err
	}
	go s.flusher()
	return s, nil
}

// migrate applies the dialect's pending migrations, each in its own
// transaction that first takes the migration lock and reads the version
// again: replicas starting together apply each migration once.
func (s *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/"+s.d.name+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		applied, err := s.migrateOne(ctx, v, string(body))
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if applied {
			s.log.Info("store migrated", "backend", s.d.name, "version", v)
		}
	}
	return nil
}

// migrateOne applies one migration unless it already is, in a transaction
// that holds the migration lock. It is read-committed, not serializable:
// after waiting for the lock it must see what the replica before it did.
func (s *DB) migrateOne(ctx context.Context, v int, body string) (bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	t := &txn{tx, s.d}
	if s.d.migrationLock != "" {
		if _, err := t.ExecContext(ctx, s.d.migrationLock); err != nil {
			return false, err
		}
	}
	if _, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return false, err
	}
	var current int
	if err := t.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return false, err
	}
	if v <= current {
		return false, nil
	}
	if _, err := t.ExecContext(ctx, body); err != nil {
		return false, err
	}
	if _, err := t.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied) VALUES (?, ?)`, v, time.Now().Unix()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// maxTxTries bounds the retries of a transaction PostgreSQL aborted for a
// serialization conflict or a deadlock.
const maxTxTries = 20

// inTx runs fn in a write transaction, serializable on both backends, and
// runs it again (up to maxTxTries) when PostgreSQL aborts it for a
// conflict with a concurrent one. fn must not keep state across tries.
func (s *DB) inTx(ctx context.Context, fn func(*txn) error) error {
	var err error
	for try := 0; try < maxTxTries; try++ {
		if err = s.tryTx(ctx, fn); !retryable(err) {
			return err
		}
		select { // a little jitter so the conflicting ones part
		case <-time.After(time.Duration(try+1) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

func (s *DB) tryTx(ctx context.Context, fn func(*txn) error) error {
	tx, err := s.w.BeginTx(ctx, s.d.txOptions)
	if err != nil {
		return err
	}
	if err := fn(&txn{tx, s.d}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// Close implements Store.
func (s *DB) Close() error {
	close(s.done)
	<-s.stopped
	if s.r.DB == s.w.DB {
		return s.w.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}
