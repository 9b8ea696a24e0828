package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AddClient implements Store.
func (s *DB) AddClient(ctx context.Context, name, code string) (Client, error) {
	now := time.Now()
	var id int64
	err := s.w.QueryRowContext(ctx, `INSERT INTO clients(name, code, created) VALUES (?, ?, ?) RETURNING id`, name, code, now.Unix()).Scan(&id)
	if err != nil {
		if isUnique(err) {
			return Client{}, fmt.Errorf("client %q or code %s: %w", name, code, ErrExists)
		}
		return Client{}, fmt.Errorf("add client %q: %w", name, err)
	}
	return Client{ID: id, Name: name, Code: code, Created: unix(now.Unix())}, nil
}

// Clients implements Store.
func (s *DB) Clients(ctx context.Context) ([]Client, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.name, c.code, c.created,
		(SELECT COUNT(*) FROM devices d WHERE d.client_id = c.id) FROM clients c ORDER BY c.name`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	out := []Client{}
	for rows.Next() {
		var c Client
		var created int64
		if err := rows.Scan(&c.ID, &c.Name, &c.Code, &created, &c.Devices); err != nil {
			return nil, err
		}
		c.Created = unix(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Activate implements Store.
func (s *DB) Activate(ctx context.Context, code, deviceID string, b Binding, now time.Time) (Client, error) {
	var c Client
	err := s.inTx(ctx, func(tx *txn) error {
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT id, name, code, created FROM clients WHERE code = ?`, code).Scan(&c.ID, &c.Name, &c.Code, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUnknownCode
		}
		if err != nil {
			return err
		}
		c.Created = unix(created)
		var owner sql.NullInt64
		var secret sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT client_id, secret_hash FROM devices WHERE deviceid = ?`, deviceID).Scan(&owner, &secret)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if owner.Valid && !secretMatches(secret, b.Presented) && !(owner.Int64 == c.ID && !secret.Valid) {
			// Bound, and no proof: neither a move nor taking its secret.
			// A device bound before secrets gets one from its own client.
			return ErrBound
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO devices(deviceid, first_seen, client_id, activated, secret_hash) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(deviceid) DO UPDATE SET client_id = excluded.client_id, activated = excluded.activated, secret_hash = excluded.secret_hash`,
			deviceID, now.Unix(), c.ID, now.Unix(), b.Next)
		return err
	})
	return c, err
}

// secretMatches compares a presented secret hash with the stored one in
// constant time.
func secretMatches(stored sql.NullString, presented string) bool {
	return stored.Valid && presented != "" && subtle.ConstantTimeCompare([]byte(stored.String), []byte(presented)) == 1
}

// Deactivate implements Store.
func (s *DB) Deactivate(ctx context.Context, deviceID, presented string) error {
	return s.inTx(ctx, func(tx *txn) error {
		var owner sql.NullInt64
		var secret sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT client_id, secret_hash FROM devices WHERE deviceid = ?`, deviceID).Scan(&owner, &secret)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("device %s: %w", deviceID, ErrNotFound)
		}
		if err != nil || !owner.Valid {
			return err
		}
		if !secretMatches(secret, presented) {
			return ErrBound
		}
		_, err = tx.ExecContext(ctx, `UPDATE devices SET client_id = NULL, activated = 0, secret_hash = NULL WHERE deviceid = ?`, deviceID)
		return err
	})
}

// Release implements Store.
func (s *DB) Release(ctx context.Context, deviceID string) error {
	r, err := s.w.ExecContext(ctx, `UPDATE devices SET client_id = NULL, activated = 0, secret_hash = NULL WHERE deviceid = ?`, deviceID)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("device %s: %w", deviceID, ErrNotFound)
	}
	return nil
}

// API tokens: the SHA-256 of each, never the token.

// RotateAPIToken implements Store.
func (s *DB) RotateAPIToken(ctx context.Context, hash string) error {
	return s.inTx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_tokens`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens(hash, created) VALUES (?, ?)`, hash, time.Now().Unix())
		return err
	})
}

// HasAPIToken implements Store.
func (s *DB) HasAPIToken(ctx context.Context) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens`).Scan(&n)
	return n > 0, err
}

// APITokenValid implements Store.
func (s *DB) APITokenValid(ctx context.Context, hash string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens WHERE hash = ?`, hash).Scan(&n)
	return n > 0, err
}
