package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// dialect is what differs between the SQL engines: parameter markers, the
// migrations, how write transactions are isolated, and the few queries
// that need an engine's own functions.
type dialect struct {
	name string
	// dollar rewrites ? and ?N markers into $N (PostgreSQL).
	dollar        bool
	txOptions     *sql.TxOptions
	migrationLock string // run first in each migration's transaction
	// knownMACs selects every MAC of an inventoried machine's NETWORKS.
	knownMACs string
}

var sqliteDialect = &dialect{
	name: "sqlite",
	// One writer connection with BEGIN IMMEDIATE: writes are serial.
	knownMACs: `SELECT lower(json_extract(j.value, '$.macaddr')) FROM sections s, json_each(s.data) j
		WHERE s.section = 'NETWORKS' AND json_extract(j.value, '$.macaddr') IS NOT NULL`,
}

var postgresDialect = &dialect{
	name:          "postgres",
	dollar:        true,
	txOptions:     &sql.TxOptions{Isolation: sql.LevelSerializable},
	migrationLock: `SELECT pg_advisory_xact_lock(7306211)`,
	knownMACs: `SELECT lower(j->>'macaddr') FROM sections s, jsonb_array_elements(s.data::jsonb) j
		WHERE s.section = 'NETWORKS' AND jsonb_typeof(s.data::jsonb) = 'array' AND j->>'macaddr' IS NOT NULL`,
}

// rebind rewrites a query's parameter markers for the dialect: "?" is the
// next parameter, "?N" the Nth; markers inside quotes are left alone.
func (d *dialect) rebind(q string) string {
	if !d.dollar || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
			} else {
				n++
				b.WriteString(itoa(n))
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// handle is a connection pool that speaks the dialect.
type handle struct {
	*sql.DB
	d *dialect
}

func (h *handle) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return h.DB.ExecContext(ctx, h.d.rebind(q), args...)
}

func (h *handle) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return h.DB.QueryContext(ctx, h.d.rebind(q), args...)
}

func (h *handle) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return h.DB.QueryRowContext(ctx, h.d.rebind(q), args...)
}

// txn is a transaction that speaks the dialect.
type txn struct {
	*sql.Tx
	d *dialect
}

func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.d.rebind(q), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

func (t *txn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.Tx.PrepareContext(ctx, t.d.rebind(q))
}

func (t *txn) Prepare(q string) (*sql.Stmt, error) { return t.Tx.Prepare(t.d.rebind(q)) }

// isUnique reports a unique-constraint violation on either engine.
func isUnique(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE")
}
