package orgd

import (
	"context"
	"errors"
	"sync"
	"time"
)

// IdempotencyRecord is the stored answer to a request made with an
// idempotency key (docs/idempotency.md). A record exists only once the
// answer and the changes of its request are committed, in one transaction.
type IdempotencyRecord struct {
	UserID      string // the key's scope: keys of different users never meet
	KeyHash     string // SHA-256 of the key; the key itself is not stored
	Fingerprint string // of the request (method, path, query and body), as the surface computes it
	Answer      string // sealed under the server key, bound to the three fields above
	CreatedAt   time.Time
	ExpiresAt   time.Time // from then on the key is unknown again
}

func (r *IdempotencyRecord) sealContext() string {
	return "idempotency\x00" + r.UserID + "\x00" + r.KeyHash + "\x00" + r.Fingerprint
}

// Run is the work of a request made with an idempotency key. It returns
// the answer, opaque to the service, and whether to keep it: a kept answer
// is stored and its changes committed; any other is given to the caller
// once while its changes are rolled back, so that a retry runs again.
type Run func(ctx context.Context) (answer []byte, keep bool)

var (
	errIdempotencyInUse = &Error{Kind: KindConflict, Code: CodeIdempotencyInUse,
		Message: "A request with this idempotency key is still being processed; retry when it has been answered."}
	errIdempotencyReused = &Error{Kind: KindInvalid, Code: CodeIdempotencyReused,
		Message: "This idempotency key was used for another request (another method, path, query or body); use a new key for a new request."}
	// errUndo rolls back a run whose answer is not kept.
	errUndo = errors.New("answer not kept")
)

// DefaultIdempotencyTTL is how long an answer is kept when Limits name no time.
const DefaultIdempotencyTTL = 24 * time.Hour

// sweepEvery bounds how often one instance deletes expired records.
const sweepEvery = time.Minute

// inflight holds the keys whose requests run in this process, so that a
// second request with one of them is refused at once instead of waiting
// for the database.
type inflight struct {
	mu        sync.Mutex
	keys      map[string]bool
	nextSweep time.Time
}

func (f *inflight) claim(slot string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[slot] {
		return false
	}
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	f.keys[slot] = true
	return true
}

func (f *inflight) release(slot string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, slot)
}

// sweepDue reports whether expired records should be deleted now, at most
// once per sweepEvery.
func (f *inflight) sweepDue(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Before(f.nextSweep) {
		return false
	}
	f.nextSweep = now.Add(sweepEvery)
	return true
}

// Idempotent runs a request that carries an idempotency key at most once
// per key of p's user, and returns its answer (replayed reports an answer
// stored by an earlier request):
//
//   - A key p's user has not used, or whose record has expired, runs run in
//     one transaction with the storing of its answer: every store call made
//     with run's ctx joins it. The answer is stored only if run keeps it.
//   - A key used before for the same fingerprint returns the stored answer
//     and changes nothing.
//   - root.idempotency_key_reused: the key was used for another fingerprint.
//   - root.idempotency_key_in_use: a request with the key is still running,
//     in this process or (PostgreSQL) another.
//
// A principal without a user (orgd admin) has no keys: run runs as it is.
// Answers are sealed under the server key: they may hold secrets (a new
// API key, invitation tokens).
func (s *Service) Idempotent(ctx context.Context, p *Principal, key, fingerprint string, run Run) (answer []byte, replayed bool, err error) {
	userID := p.userID()
	if userID == "" {
		answer, _ = run(ctx)
		return answer, false, nil
	}
	keyHash := HashSecret(key)
	slot := userID + "\x00" + keyHash
	if !s.idempotency.claim(slot) {
		return nil, false, errIdempotencyInUse
	}
	defer s.idempotency.release(slot)

	var now time.Time
	err = s.store.Atomic(ctx, func(ctx context.Context, tx Tx) error {
		answer, replayed, now = nil, false, s.clock()
		locked, err := tx.LockIdempotencyKey(ctx, userID, keyHash)
		if err != nil {
			return err
		}
		if !locked {
			return errIdempotencyInUse
		}
		rec, err := tx.IdempotencyRecord(ctx, userID, keyHash)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case rec.ExpiresAt.After(now):
			if rec.Fingerprint != fingerprint {
				return errIdempotencyReused
			}
			plain, err := s.box.Open(rec.Answer, rec.sealContext())
			if err != nil {
				return err
			}
			answer, replayed = []byte(plain), true
			return nil
		}
		var keep bool
		answer, keep = run(ctx)
		if !keep {
			return errUndo
		}
		rec = &IdempotencyRecord{UserID: userID, KeyHash: keyHash, Fingerprint: fingerprint, CreatedAt: now, ExpiresAt: now.Add(s.idempotencyTTL())}
		rec.Answer = s.box.Seal(string(answer), rec.sealContext())
		if err := tx.SaveIdempotencyRecord(ctx, rec); err != nil {
			if errors.Is(err, ErrConflict) {
				return errIdempotencyInUse
			}
			return err
		}
		return nil
	})
	switch {
	case errors.Is(err, errUndo):
		return answer, false, nil
	case err != nil:
		return nil, false, wrapFault("idempotent request", err)
	}
	if !replayed {
		// run's writes were committed just now, not when they returned:
		// forget the API keys any of them may have changed.
		s.keys.clear()
		s.sweepIdempotencyRecords(ctx, now)
	}
	return answer, replayed, nil
}

func (s *Service) idempotencyTTL() time.Duration {
	if s.limits.IdempotencyTTL > 0 {
		return s.limits.IdempotencyTTL
	}
	return DefaultIdempotencyTTL
}

// sweepIdempotencyRecords deletes expired records, at most once a minute
// per process, in a transaction of its own: expired records are ignored
// anyway, so a failure only leaves them for the next sweep.
func (s *Service) sweepIdempotencyRecords(ctx context.Context, now time.Time) {
	if !s.idempotency.sweepDue(now) {
		return
	}
	err := s.store.WriteTx(ctx, func(tx Tx) error {
		_, err := tx.DeleteExpiredIdempotencyRecords(ctx, now)
		return err
	})
	if err != nil {
		s.log.WarnContext(ctx, "deleting expired idempotency keys failed", "err", err)
	}
}
