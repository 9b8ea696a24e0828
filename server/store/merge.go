package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MergeDevices folds the record of oldID into keepID, as the OCS server
// does for OLD_DEVICEID and for duplicates, in one transaction: keepID
// takes oldID's package states (its own win where both have one), its
// admin-owned account info (TAG and custom fields), its activation (client
// and secret) when keepID has none, its IPDISCOVER standing when keepID
// has none, its contact statistics, its first-seen date, its events and
// the network map rows it saw; then oldID is deleted. ErrNotFound when
// either is unknown; merging a device into itself is an error.
func (s *DB) MergeDevices(ctx context.Context, keepID, oldID string) error {
	if keepID == oldID {
		return fmt.Errorf("merge %s into itself", keepID)
	}
	return s.inTx(ctx, func(tx *txn) error {
		ids := map[string]int64{}
		for _, d := range []string{keepID, oldID} {
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM devices WHERE deviceid = ?`, d).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("device %s: %w", d, ErrNotFound)
			}
			if err != nil {
				return err
			}
			ids[d] = id
		}
		keep, old := ids[keepID], ids[oldID]
		steps := []struct {
			q    string
			args []any
		}{
			// Package states: the old record's, unless the kept one has
			// a state for the same package.
			{`DELETE FROM package_states WHERE deviceid = ? AND package_id IN (SELECT package_id FROM package_states WHERE deviceid = ?)`, []any{oldID, keepID}},
			{`UPDATE package_states SET deviceid = ? WHERE deviceid = ?`, []any{keepID, oldID}},
			// Account info is the server's: the old record's values win.
			{`DELETE FROM accountinfo WHERE device_id = ? AND keyname IN (SELECT keyname FROM accountinfo WHERE device_id = ?)`, []any{keep, old}},
			{`UPDATE accountinfo SET device_id = ? WHERE device_id = ?`, []any{keep, old}},
			// The IPDISCOVER standing, when the kept record has none.
			{`DELETE FROM ipdiscover WHERE device_id = ? AND EXISTS (SELECT 1 FROM ipdiscover WHERE device_id = ?)`, []any{old, keep}},
			{`UPDATE ipdiscover SET device_id = ? WHERE device_id = ?`, []any{keep, old}},
			{`UPDATE netmap SET seen_by = ? WHERE seen_by = ?`, []any{keep, old}},
			{`UPDATE events SET deviceid = ? WHERE deviceid = ?`, []any{keepID, oldID}},
			// Activation, statistics and history of contact.
			{`UPDATE devices SET
				client_id = COALESCE(client_id, (SELECT o.client_id FROM devices o WHERE o.id = ?)),
				activated = CASE WHEN client_id IS NULL THEN (SELECT o.activated FROM devices o WHERE o.id = ?) ELSE activated END,
				secret_hash = CASE WHEN client_id IS NULL THEN (SELECT o.secret_hash FROM devices o WHERE o.id = ?) ELSE secret_hash END,
				first_seen = CASE WHEN first_seen < (SELECT o.first_seen FROM devices o WHERE o.id = ?) THEN first_seen
					ELSE (SELECT o.first_seen FROM devices o WHERE o.id = ?) END,
				quality = (SELECT o.quality FROM devices o WHERE o.id = ?),
				fidelity = fidelity + (SELECT o.fidelity FROM devices o WHERE o.id = ?)
				WHERE id = ?`, []any{old, old, old, old, old, old, old, keep}},
			// What is left of the old record (its own inventory).
			{`DELETE FROM sections WHERE device_id = ?`, []any{old}},
			{`DELETE FROM accountinfo WHERE device_id = ?`, []any{old}},
			{`DELETE FROM ipdiscover WHERE device_id = ?`, []any{old}},
			{`DELETE FROM devices WHERE id = ?`, []any{old}},
		}
		for _, st := range steps {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return fmt.Errorf("merge %s into %s: %w", oldID, keepID, err)
			}
		}
		return nil
	})
}
