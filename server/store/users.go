package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Roles a console user can have.
const (
	RoleAdmin  = "admin"  // every action
	RoleViewer = "viewer" // reads only: the server refuses every change
)

// User is a console user. Hash is the bcrypt hash of the password.
type User struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Hash    string    `json:"-"`
	Created time.Time `json:"created"`
}

// Session is a console login. Hash is the SHA-256 (hex) of the cookie's
// value; CSRF is the token a change must carry.
type Session struct {
	Hash    string
	Name    string
	Role    string
	CSRF    string
	Expires time.Time
}

// AuditEntry is one change: who made it (a user, or "api-token"), what
// (METHOD path) and its detail.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}

// PutUser creates a user, or with replace sets an existing one's role and
// password (ErrExists when it exists and replace is false).
func (s *DB) PutUser(ctx context.Context, u User, replace bool) error {
	if u.Role != RoleAdmin && u.Role != RoleViewer {
		return fmt.Errorf("user %q: role %q: want admin or viewer", u.Name, u.Role)
	}
	q := `INSERT INTO users(name, role, hash, created) VALUES (?, ?, ?, ?)`
	if replace {
		q += ` ON CONFLICT(name) DO UPDATE SET role = excluded.role, hash = excluded.hash`
	}
	if _, err := s.w.ExecContext(ctx, q, u.Name, u.Role, u.Hash, time.Now().Unix()); err != nil {
		if isUnique(err) {
			return fmt.Errorf("user %q: %w", u.Name, ErrExists)
		}
		return fmt.Errorf("add user %q: %w", u.Name, err)
	}
	if replace {
		// A new password or role ends the user's sessions.
		if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE name = ?`, u.Name); err != nil {
			return fmt.Errorf("end sessions of %q: %w", u.Name, err)
		}
	}
	return nil
}

// UserByName returns one user (ErrNotFound when there is none).
func (s *DB) UserByName(ctx context.Context, name string) (User, error) {
	var u User
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT name, role, hash, created FROM users WHERE name = ?`, name).Scan(&u.Name, &u.Role, &u.Hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	u.Created = unix(created)
	return u, err
}

// Users lists the users by name.
func (s *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, role, created FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.Name, &u.Role, &created); err != nil {
			return nil, err
		}
		u.Created = unix(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateSession stores a login, and drops the sessions expired by now.
func (s *DB) CreateSession(ctx context.Context, se Session, now time.Time) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, now.Unix()); err != nil {
		return fmt.Errorf("drop expired sessions: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO sessions(hash, name, csrf, expires) VALUES (?, ?, ?, ?)`,
		se.Hash, se.Name, se.CSRF, se.Expires.Unix()); err != nil {
		return fmt.Errorf("create session of %q: %w", se.Name, err)
	}
	return nil
}

// SessionByHash returns the live session of hash with its user's current
// role (ErrNotFound when there is none, or it expired by now).
func (s *DB) SessionByHash(ctx context.Context, hash string, now time.Time) (Session, error) {
	se := Session{Hash: hash}
	var expires int64
	err := s.r.QueryRowContext(ctx, `SELECT s.name, u.role, s.csrf, s.expires FROM sessions s JOIN users u ON u.name = s.name
		WHERE s.hash = ? AND s.expires > ?`, hash, now.Unix()).Scan(&se.Name, &se.Role, &se.CSRF, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return se, fmt.Errorf("session: %w", ErrNotFound)
	}
	se.Expires = unix(expires)
	return se, err
}

// DeleteSession ends a login.
func (s *DB) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}

// Audit records one change.
func (s *DB) Audit(ctx context.Context, e AuditEntry) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO audit(at, who, action, detail) VALUES (?, ?, ?, ?)`,
		e.At.Unix(), e.Who, e.Action, e.Detail); err != nil {
		return fmt.Errorf("audit %s by %s: %w", e.Action, e.Who, err)
	}
	return nil
}

// AuditLog returns the newest limit changes, newest first.
func (s *DB) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, who, action, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Who, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.At = unix(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
