package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"muster/inventories"
	"muster/server/query"
)

// softwareBatch is how many rows one INSERT of the software index holds.
const softwareBatch = 200

// writeSoftware replaces a device's rows of the software index.
func writeSoftware(ctx context.Context, tx *txn, id int64, sw []inventories.Software) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM software WHERE device_id = ?`, id); err != nil {
		return fmt.Errorf("software index: %w", err)
	}
	insert := func(n int) string {
		return `INSERT INTO software(device_id, name, version, vkey) VALUES (?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?)`, n-1) +
			` ON CONFLICT DO NOTHING`
	}
	// Full batches share one prepared statement: compiling an INSERT of
	// 800 placeholders costs more than running it.
	var full *sql.Stmt
	if len(sw) >= softwareBatch {
		st, err := tx.PrepareContext(ctx, insert(softwareBatch))
		if err != nil {
			return fmt.Errorf("software index: %w", err)
		}
		defer st.Close()
		full = st
	}
	args := make([]any, 0, 4*softwareBatch)
	for i := 0; i < len(sw); i += softwareBatch {
		part := sw[i:min(i+softwareBatch, len(sw))]
		args = args[:0]
		for _, s := range part {
			args = append(args, id, strings.ToLower(s.Name), s.Version, query.VersionKey(s.Version))
		}
		var err error
		if len(part) == softwareBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(len(part)), args...)
		}
		if err != nil {
			return fmt.Errorf("software index: %w", err)
		}
	}
	return nil
}

// backfillSoftware indexes the software of devices stored before the
// index existed, a batch of devices a transaction.
func (s *DB) backfillSoftware(ctx context.Context) error {
	for {
		rows, err := s.w.QueryContext(ctx, `SELECT sec.device_id, sec.data FROM sections sec
			WHERE sec.section = 'SOFTWARES' AND NOT EXISTS (SELECT 1 FROM software sw WHERE sw.device_id = sec.device_id) LIMIT 100`)
		if err != nil {
			return fmt.Errorf("backfill software index: %w", err)
		}
		type dev struct {
			id int64
			sw []inventories.Software
		}
		var batch []dev
		for rows.Next() {
			var d dev
			var data []byte
			if err := rows.Scan(&d.id, &data); err != nil {
				rows.Close()
				return err
			}
			json.Unmarshal(data, &d.sw)
			batch = append(batch, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		indexed := 0
		err = s.inTx(ctx, func(tx *txn) error {
			for _, d := range batch {
				if len(d.sw) == 0 {
					continue // nothing to index (the store drops empty sections)
				}
				if err := writeSoftware(ctx, tx, d.id, d.sw); err != nil {
					return err
				}
				indexed++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if indexed == 0 {
			return nil // only empty sections left
		}
	}
}

// SoftwareDevices returns the devices with a package whose name contains
// name (case-insensitive) and whose version starts with version, from the
// software index: ids only, whatever the fleet's size.
func (s *DB) SoftwareDevices(ctx context.Context, name, version string) (map[int64]bool, error) {
	esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT device_id FROM software WHERE name LIKE ? ESCAPE '\' AND lower(version) LIKE ? ESCAPE '\'`,
		"%"+esc.Replace(strings.ToLower(name))+"%", esc.Replace(strings.ToLower(version))+"%")
	if err != nil {
		return nil, fmt.Errorf("software search: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
