package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A bound device moves or unbinds only with its own secret (issue 13:
// rebinding with another client's code, and deactivation by DEVICEID
// alone, were open to anyone).
func testActivationBindsOnce(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	a, _ := s.AddClient(ctx, "ACME", "AAAAAAAAAA")
	b, _ := s.AddClient(ctx, "BETA", "BBBBBBBBBB")
	dev := "pc1-2026-01-01-00-00-00"
	owner := func() string {
		d, err := s.Device(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		return d.Client
	}
	steps := []struct {
		what string
		do   func() error
		want error
		then string
	}{
		{"first activation", func() error { _, err := s.Activate(ctx, a.Code, dev, Binding{Next: "s1"}, now); return err }, nil, "ACME"},
		{"another client's code, no secret", func() error { _, err := s.Activate(ctx, b.Code, dev, Binding{Next: "x"}, now); return err }, ErrBound, "ACME"},
		{"another client's code, a wrong secret", func() error {
			_, err := s.Activate(ctx, b.Code, dev, Binding{Presented: "s0", Next: "x"}, now)
			return err
		}, ErrBound, "ACME"},
		{"its own client's code, no secret", func() error { _, err := s.Activate(ctx, a.Code, dev, Binding{Next: "x"}, now); return err }, ErrBound, "ACME"},
		{"deactivate, no secret", func() error { return s.Deactivate(ctx, dev, "") }, ErrBound, "ACME"},
		{"deactivate, a wrong secret", func() error { return s.Deactivate(ctx, dev, "x") }, ErrBound, "ACME"},
		{"a move with its secret", func() error {
			_, err := s.Activate(ctx, b.Code, dev, Binding{Presented: "s1", Next: "s2"}, now)
			return err
		}, nil, "BETA"},
		{"the old secret is void", func() error { return s.Deactivate(ctx, dev, "s1") }, ErrBound, "BETA"},
		{"deactivate with its secret", func() error { return s.Deactivate(ctx, dev, "s2") }, nil, ""},
		{"unbound: any code binds", func() error { _, err := s.Activate(ctx, a.Code, dev, Binding{Next: "s3"}, now); return err }, nil, "ACME"},
		{"the admin's release", func() error { return s.Release(ctx, dev) }, nil, ""},
	}
	for _, st := range steps {
		if err := st.do(); !errors.Is(err, st.want) {
			t.Fatalf("%s: %v, want %v", st.what, err, st.want)
		}
		if got := owner(); got != st.then {
			t.Fatalf("%s: owner %q, want %q", st.what, got, st.then)
		}
	}
}

// Sixteen activations of one new device at once, each with its own secret
// (agents racing, or replicas answering them): one binds, the others are
// refused, and the device keeps the winner's secret.
func testConcurrentActivationsBindOnce(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	c, err := s.AddClient(ctx, "ACME", "AAAAAAAAAA")
	if err != nil {
		t.Fatal(err)
	}
	dev := "race-2026-01-01-00-00-00"
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Activate(ctx, c.Code, dev, Binding{Next: fmt.Sprintf("secret-%d", i)}, now)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("activations %d and %d both bound the device", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, ErrBound):
			t.Fatalf("activation %d: %v, want success or ErrBound", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no activation bound the device")
	}
	// Only the winner's secret moves it now.
	if err := s.Deactivate(ctx, dev, fmt.Sprintf("secret-%d", (won+1)%n)); !errors.Is(err, ErrBound) {
		t.Fatalf("a loser's secret: %v, want ErrBound", err)
	}
	if err := s.Deactivate(ctx, dev, fmt.Sprintf("secret-%d", won)); err != nil {
		t.Fatalf("the winner's secret: %v", err)
	}
}
