package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ElectionChange is what an election decided for one device.
type ElectionChange struct {
	// Action is ElectionKeep, ElectionElect, ElectionReplace or
	// ElectionUnelect.
	Action int
	Subnet string
	// Victim is the device whose automatic election moves (Replace).
	Victim string
}

// Election actions.
const (
	ElectionKeep = iota
	ElectionElect
	ElectionReplace
	ElectionUnelect
)

// Elect decides a device's IPDISCOVER election and applies it in one
// transaction: decide sees the device's standing and every elected device
// as they are inside it, so agents of one subnet reporting at once (to one
// server or to several replicas) never elect more than decide allows; on
// PostgreSQL a concurrent election that changed what decide read makes
// this one run again.
func (s *DB) Elect(ctx context.Context, deviceID string, now time.Time, decide func(self Election, elected map[string][]Election) ElectionChange) (ElectionChange, error) {
	var ch ElectionChange
	err := s.inTx(ctx, func(tx *txn) error {
		self, err := scanElection(tx.QueryRowContext(ctx, `SELECT `+electionColumns+` FROM devices d LEFT JOIN ipdiscover i ON i.device_id = d.id WHERE d.deviceid = ?`, deviceID))
		if err != nil {
			return fmt.Errorf("device %s: %w", deviceID, errors.Join(ErrNotFound, err))
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+electionColumns+` FROM devices d JOIN ipdiscover i ON i.device_id = d.id WHERE i.mode IN (1, 2) ORDER BY i.since, d.id`)
		if err != nil {
			return err
		}
		elected := map[string][]Election{}
		for rows.Next() {
			e, err := scanElection(rows)
			if err != nil {
				rows.Close()
				return err
			}
			elected[e.Subnet] = append(elected[e.Subnet], e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ch = decide(self, elected)
		switch ch.Action {
		case ElectionElect:
			_, err = tx.ExecContext(ctx, `INSERT INTO ipdiscover(device_id, mode, subnet, since) SELECT id, 1, ?, ? FROM devices WHERE deviceid = ?
				ON CONFLICT(device_id) DO UPDATE SET mode = 1, subnet = excluded.subnet, since = excluded.since`, ch.Subnet, now.Unix(), deviceID)
		case ElectionReplace:
			if _, err = tx.ExecContext(ctx, `DELETE FROM ipdiscover WHERE device_id = (SELECT id FROM devices WHERE deviceid = ?) AND mode = 1`, ch.Victim); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO ipdiscover(device_id, mode, subnet, since) SELECT id, 1, ?, ? FROM devices WHERE deviceid = ?
				ON CONFLICT(device_id) DO UPDATE SET mode = 1, subnet = excluded.subnet, since = excluded.since`, ch.Subnet, now.Unix(), deviceID)
		case ElectionUnelect:
			_, err = tx.ExecContext(ctx, `DELETE FROM ipdiscover WHERE device_id = (SELECT id FROM devices WHERE deviceid = ?)`, deviceID)
		}
		return err
	})
	return ch, err
}
