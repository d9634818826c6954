package orgd

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Limits are the configurable bounds of the rules.
type Limits struct {
	MaxEmailsPerRequest int           // emails in one create request
	InvitesPerHour      int           // invitations an organization may issue per sliding hour; 0: no limit
	RefreshCooldown     time.Duration // an invitation is not re-issued within this time of its last issue
	DefaultExpiry       time.Duration // expiry when the request names none
	MinExpiry           time.Duration
	MaxExpiry           time.Duration
	DefaultMaxMembers   int           // max_members of new organizations; 0: no limit
	AcceptAnyEmail      bool          // accept by token whatever the caller's address
	KeyCacheTTL         time.Duration // how long a resolved API key is trusted without asking the database; 0: always ask
	IdempotencyTTL      time.Duration // how long the answer to a request with an idempotency key is kept
	// WebhookAllowPrivate lets webhook endpoints be on loopback, private
	// and link-local addresses (see CheckWebhookURL and PublicAddress).
	WebhookAllowPrivate bool
}

// DefaultLimits are the limits of a server started without options.
func DefaultLimits() Limits {
	return Limits{
		MaxEmailsPerRequest: 100,
		InvitesPerHour:      1000,
		RefreshCooldown:     60 * time.Second,
		DefaultExpiry:       72 * time.Hour,
		MinExpiry:           time.Hour,
		MaxExpiry:           30 * 24 * time.Hour,
		DefaultMaxMembers:   500,
		KeyCacheTTL:         5 * time.Second,
		IdempotencyTTL:      DefaultIdempotencyTTL,
	}
}

// Service holds the business rules. Every method takes the acting Principal
// and checks what it may do before anything else.
type Service struct {
	store  Store
	box    *Box
	limits Limits
	tokens TokenVerifier
	now    func() time.Time
	log    *slog.Logger

	idempotency inflight
	keys        keyCache
}

// Options configure a Service. Now and Log have defaults.
type Options struct {
	Limits Limits
	// Tokens verifies bearer JWTs; nil when no OpenID Connect issuer is
	// configured, and then every JWT is refused.
	Tokens TokenVerifier
	Now    func() time.Time
	Log    *slog.Logger
}

// NewService returns a Service over store that seals tokens with box.
func NewService(store Store, box *Box, opts Options) *Service {
	s := &Service{store: store, box: box, limits: opts.Limits, tokens: opts.Tokens, now: opts.Now, log: opts.Log,
		keys: keyCache{ttl: opts.Limits.KeyCacheTTL}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Limits returns the limits the service enforces.
func (s *Service) Limits() Limits { return s.limits }

// DeriveKey returns a key for one purpose derived from the server key (see
// Box.DeriveKey), such as the key of the invitation page's form tokens.
func (s *Service) DeriveKey(purpose string) []byte { return s.box.DeriveKey(purpose) }

// clock returns the current time at the precision the store keeps.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Service) read(ctx context.Context, op string, fn func(Tx) error) error {
	return wrapFault(op, s.store.ReadTx(ctx, fn))
}

func (s *Service) write(ctx context.Context, op string, fn func(Tx) error) error {
	return wrapFault(op, s.store.WriteTx(ctx, fn))
}

// writeOne is write for a change made with one statement (see
// Store.WriteOne).
func (s *Service) writeOne(ctx context.Context, op string, fn func(Tx) error) error {
	return wrapFault(op, s.store.WriteOne(ctx, fn))
}

// wrapFault turns anything that is not a domain error into an internal one
// that names the operation.
func wrapFault(op string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e
	}
	if e := AsError(err); e.Kind != KindInternal {
		return e
	}
	if errors.Is(err, ErrUnstorableText) {
		e := *errUnstorableText
		e.Err = err
		return &e
	}
	return Internal(op, err)
}
