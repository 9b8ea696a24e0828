package store

import (
	"context"
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
	for i := 0; i < len(sw); i += softwareBatch {
		part := sw[i:min(i+softwareBatch, len(sw))]
		q := `INSERT INTO software(device_id, name, version, vkey) VALUES (?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?)`, len(part)-1)
		args := make([]any, 0, 4*len(part))
		for _, s := range part {
			args = append(args, id, strings.ToLower(s.Name), s.Version, query.VersionKey(s.Version))
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
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
					// An empty section: index a placeholder-free marker
					// so the device is not picked again.
					continue
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
