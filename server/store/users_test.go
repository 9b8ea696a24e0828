package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// testUsersSessionsAudit: users are unique and role-checked, a session
// lives until it expires or its user's password changes, the audit log
// reads back newest first.
func testUsersSessionsAudit(t *testing.T, open func(*testing.T) *DB) {
	db := open(t)
	ctx := context.Background()
	if err := db.PutUser(ctx, User{Name: "ann", Role: RoleAdmin, Hash: "h1"}, false); err != nil {
		t.Fatal(err)
	}
	if err := db.PutUser(ctx, User{Name: "ann", Role: RoleViewer, Hash: "h2"}, false); !errors.Is(err, ErrExists) {
		t.Errorf("second ann: %v, want ErrExists", err)
	}
	if err := db.PutUser(ctx, User{Name: "bob", Role: "root", Hash: "h"}, false); err == nil {
		t.Error("role root accepted")
	}
	if err := db.PutUser(ctx, User{Name: "vic", Role: RoleViewer, Hash: "h3"}, false); err != nil {
		t.Fatal(err)
	}
	if u, err := db.UserByName(ctx, "ann"); err != nil || u.Role != RoleAdmin || u.Hash != "h1" {
		t.Errorf("ann: %+v %v", u, err)
	}
	if _, err := db.UserByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("nobody: %v", err)
	}
	if us, err := db.Users(ctx); err != nil || len(us) != 2 || us[0].Name != "ann" || us[1].Role != RoleViewer {
		t.Errorf("users %+v %v", us, err)
	}

	now := time.Unix(1_800_000_000, 0)
	if err := db.CreateSession(ctx, Session{Hash: "s1", Name: "ann", CSRF: "c1", Expires: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, Session{Hash: "s2", Name: "vic", CSRF: "c2", Expires: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	if se, err := db.SessionByHash(ctx, "s1", now); err != nil || se.Name != "ann" || se.Role != RoleAdmin || se.CSRF != "c1" {
		t.Errorf("session s1: %+v %v", se, err)
	}
	if _, err := db.SessionByHash(ctx, "s1", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}
	// A new password ends ann's sessions, not vic's.
	if err := db.PutUser(ctx, User{Name: "ann", Role: RoleViewer, Hash: "h4"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, "s1", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after a password change: %v", err)
	}
	if u, _ := db.UserByName(ctx, "ann"); u.Role != RoleViewer || u.Hash != "h4" {
		t.Errorf("ann replaced: %+v", u)
	}
	if err := db.DeleteSession(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionByHash(ctx, "s2", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after logout: %v", err)
	}

	for i, a := range []string{"POST /api/v1/clients", "PUT /api/v1/options/IPDISCOVER"} {
		if err := db.Audit(ctx, AuditEntry{At: now.Add(time.Duration(i) * time.Second), Who: "ann", Action: a, Detail: "200"}); err != nil {
			t.Fatal(err)
		}
	}
	log, err := db.AuditLog(ctx, 10)
	if err != nil || len(log) != 2 || log[0].Action != "PUT /api/v1/options/IPDISCOVER" || !log[1].At.Equal(now) || log[1].Who != "ann" {
		t.Errorf("audit log %+v %v", log, err)
	}
	if log, _ := db.AuditLog(ctx, 1); len(log) != 1 {
		t.Errorf("audit log limit 1: %d entries", len(log))
	}
}
