package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Contact implements Store.
func (s *DB) Contact(ctx context.Context, deviceID, userAgent string, now time.Time) (ContactState, error) {
	var lastdate int64
	if v, ok := s.lastInv.Load(deviceID); ok {
		lastdate = v.(int64)
	} else {
		err := s.r.QueryRowContext(ctx, `SELECT lastdate FROM devices WHERE deviceid = ?`, deviceID).Scan(&lastdate)
		if errors.Is(err, sql.ErrNoRows) {
			return ContactState{}, nil
		}
		if err != nil {
			return ContactState{}, fmt.Errorf("look up device %s: %w", deviceID, err)
		}
		s.lastInv.Store(deviceID, lastdate)
	}
	st := ContactState{Known: true}
	if lastdate > 0 {
		st.LastInventory = time.Unix(lastdate, 0)
	}
	// Group commit: the contact joins the batch that the flusher commits
	// next, and the PROLOG is answered once that batch is on disk. While
	// one batch commits, the next fills up: one commit serves every PROLOG
	// that came in meanwhile, and none is answered before it is durable
	// (a replica killed after answering loses nothing).
	c := contact{deviceID: deviceID, ua: userAgent, at: now.Unix()}
	s.mu.Lock()
	if s.next == nil {
		s.next = &contactBatch{done: make(chan struct{})}
	}
	b := s.next
	b.contacts = append(b.contacts, c)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		return ContactState{}, ctx.Err()
	}
	if b.err != nil {
		return ContactState{}, fmt.Errorf("record contact of %s: %w", deviceID, b.err)
	}
	return st, nil
}

// contactBatch is the contacts one commit records, and its outcome.
type contactBatch struct {
	contacts []contact
	done     chan struct{} // closed once committed (or failed: err)
	err      error
}

// maxBatch bounds the contacts of one transaction; a larger batch takes
// several, and its PROLOGs are answered once all are committed.
var maxBatch = 5000

func (s *DB) flusher() {
	defer close(s.stopped)
	for {
		select {
		case <-s.done:
			s.flush()
			return
		case <-s.kick:
		}
		s.flush()
	}
}

// flush commits the batch filled so far, if any: maxBatch contacts per
// transaction, and its waiters are released once all of them are in.
func (s *DB) flush() {
	s.mu.Lock()
	b := s.next
	s.next = nil
	s.mu.Unlock()
	if b == nil {
		return
	}
	for rest := b.contacts; len(rest) > 0 && b.err == nil; {
		chunk := rest[:min(len(rest), maxBatch)]
		rest = rest[len(chunk):]
		b.err = s.applyContacts(context.Background(), chunk)
	}
	if b.err != nil {
		s.log.Error("store: could not record prolog contacts", "count", len(b.contacts), "err", b.err)
	}
	close(b.done)
}

// applyContacts records contacts in one transaction. QUALITY is OCS's
// running mean of days between contacts; FIDELITY counts contacts. A
// contact older than the device's last one (another replica's, committed
// first) counts but moves neither LASTCOME back nor QUALITY.
func (s *DB) applyContacts(ctx context.Context, batch []contact) error {
	// One order for every writer, so concurrent batches of two replicas
	// lock rows alike (a stable sort keeps one device's contacts in order).
	batch = slices.Clone(batch)
	slices.SortStableFunc(batch, func(a, b contact) int { return strings.Compare(a.deviceID, b.deviceID) })
	return s.inTx(ctx, func(tx *txn) error {
		st, err := tx.Prepare(`UPDATE devices SET
			quality = CASE WHEN ?1 <= lastcome THEN quality
				WHEN fidelity > 1 THEN ((?1 - lastcome) / 86400.0 + quality * fidelity) / (fidelity + 1)
				ELSE (?1 - lastcome) / 86400.0 END,
			fidelity = fidelity + 1,
			lastcome = CASE WHEN ?1 > lastcome THEN ?1 ELSE lastcome END,
			useragent = CASE WHEN ?1 >= lastcome THEN ?2 ELSE useragent END
			WHERE deviceid = ?3`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range batch {
			if _, err := st.Exec(c.at, c.ua, c.deviceID); err != nil {
				return err
			}
		}
		return nil
	})
}
