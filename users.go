package orgd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

const maxUserName = 200

// CreateUser creates a user whose address counts as verified: the
// administrator vouches for it. Only platform administrators (and `orgd admin`)
// may. Errors: organization.invitation_invalid_email (a bad address),
// user.already_exists.
func (s *Service) CreateUser(ctx context.Context, p *Principal, email, name string, platformAdmin bool) (*User, error) {
	if !p.PlatformAdmin() {
		return nil, Errorf(KindForbidden, CodeRolesForbidden, "Only platform administrators may create users.")
	}
	addr, err := ParseEmail(email)
	if err != nil {
		return nil, FieldError(CodeInvalidData, "email", "The email address is not valid: %v.", err)
	}
	name, ok := cleanUserName(name)
	if !ok {
		return nil, FieldError(CodeInvalidData, "name", "The name must be at most %d characters, without line breaks or control characters.", maxUserName)
	}
	u := &User{ID: uuid.Must(uuid.NewV7()).String(), Email: addr.Address, EmailNorm: addr.Norm, EmailVerified: true, Name: name, PlatformAdmin: platformAdmin, CreatedAt: s.clock()}
	err = s.write(ctx, "create user", func(tx Tx) error {
		err := tx.InsertUser(ctx, u)
		if errors.Is(err, ErrConflict) {
			return Errorf(KindConflict, CodeUserExists, "A user with the address %s already exists.", addr.Address)
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "", AuditUserCreated, "user", u.ID, map[string]any{"email": u.Email, "platform_admin": u.PlatformAdmin}, nil)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// CountUsers counts every user. Only platform administrators may.
func (s *Service) CountUsers(ctx context.Context, p *Principal) (int, error) {
	if !p.PlatformAdmin() {
		return 0, errInvalidAccess
	}
	var n int
	err := s.read(ctx, "count users", func(tx Tx) error {
		var err error
		n, err = tx.CountUsers(ctx)
		return err
	})
	return n, err
}

// FindUser returns the user with an id or email address.
// Errors: user.not_found.
func (s *Service) FindUser(ctx context.Context, p *Principal, ref string) (*User, error) {
	var u *User
	err := s.read(ctx, "find user", func(tx Tx) error {
		var err error
		u, err = findUser(ctx, tx, ref)
		if err == nil && !p.PlatformAdmin() && p.userID() != u.ID {
			err = errUserNotFound
		}
		return err
	})
	return u, err
}

// cleanUserName trims a user's name and reports whether it is acceptable.
func cleanUserName(name string) (string, bool) {
	name = strings.TrimSpace(name)
	ok := utf8.RuneCountInString(name) <= maxUserName && PlainText(name)
	return name, ok
}

var errUserNotFound = &Error{Kind: KindNotFound, Code: CodeUserNotFound, Message: "User not found."}

func findUser(ctx context.Context, tx Tx, ref string) (*User, error) {
	var u *User
	var err error
	if strings.Contains(ref, "@") {
		u, err = tx.UserByEmail(ctx, NormalizeEmail(ref))
	} else {
		u, err = tx.UserByID(ctx, canonicalID(ref))
	}
	if errors.Is(err, ErrNotFound) {
		return nil, errUserNotFound
	}
	return u, err
}

// SetPlatformAdmin makes a user a platform administrator or takes it away.
// Only platform administrators may.
func (s *Service) SetPlatformAdmin(ctx context.Context, p *Principal, userRef string, admin bool) (*User, error) {
	if !p.PlatformAdmin() {
		return nil, Errorf(KindForbidden, CodeRolesForbidden, "Only platform administrators may change platform roles.")
	}
	defer s.keys.clear() // after the commit: the cache holds users
	var u *User
	err := s.write(ctx, "set platform admin", func(tx Tx) error {
		var err error
		if u, err = findUser(ctx, tx, userRef); err != nil {
			return err
		}
		return s.setPlatformAdmin(ctx, tx, p, u, admin)
	})
	return u, err
}

func (s *Service) setPlatformAdmin(ctx context.Context, tx Tx, p *Principal, u *User, admin bool) error {
	if err := tx.SetPlatformAdmin(ctx, u.ID, admin); err != nil {
		return err
	}
	u.PlatformAdmin = admin
	return s.audit(ctx, tx, p, "", AuditPlatformAdmin, "user", u.ID, map[string]any{"platform_admin": admin}, nil)
}

// NewAPIKey is a key as created: the secret is shown this once.
type NewAPIKey struct {
	*APIKey
	Secret string
}

// ErrKeyNameRequired is CreateAPIKey's answer to a name that is empty or
// only spaces: a key's name is how its user tells it from their other keys
// when one must be revoked, so every key has one.
var ErrKeyNameRequired = &Error{Kind: KindInvalid, Code: CodeInvalidData, Field: "name",
	Message: "The key name is required: give the key a name that is not empty or only spaces."}

// KeyNameRule says what a key's name may be, for the messages of a surface
// that calls the name otherwise (the Elastic API's description).
var KeyNameRule = fmt.Sprintf("at most %d characters, without line breaks or control characters", maxUserName)

// ErrKeyNameInvalid is CreateAPIKey's answer to a name that breaks
// KeyNameRule.
var ErrKeyNameInvalid = &Error{Kind: KindInvalid, Code: CodeInvalidData, Field: "name",
	Message: "The key name must be " + KeyNameRule + "."}

// CreateAPIKey creates an API key for a user. Users may create their own
// keys; platform administrators any user's. name is trimmed and required.
// expiresIn is the key's lifetime as ParseLifetime reads it, counted from
// the service's clock; "" for a key that does not expire.
// Errors: root.invalid_data (ErrKeyNameRequired; ErrKeyNameInvalid; a
// lifetime that is not a duration or not positive, field expires_in),
// user.not_found.
func (s *Service) CreateAPIKey(ctx context.Context, p *Principal, userRef, name, expiresIn string) (*NewAPIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, ErrKeyNameRequired
	}
	if utf8.RuneCountInString(name) > maxUserName || !PlainText(name) {
		return nil, ErrKeyNameInvalid
	}
	var lifetime time.Duration
	if expiresIn != "" {
		var err error
		if lifetime, err = ParseLifetime(expiresIn); err != nil {
			return nil, FieldError(CodeInvalidData, "expires_in", "The expiry is not valid: %v.", err)
		}
	}
	now := s.clock()
	secret := newSecret(APIKeyPrefix)
	k := &APIKey{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Prefix: secret[:apiKeyVisible], Hash: HashSecret(secret), CreatedAt: now}
	if lifetime > 0 {
		k.ExpiresAt = now.Add(lifetime)
	}
	err := s.write(ctx, "create api key", func(tx Tx) error {
		u, err := findUser(ctx, tx, userRef)
		if err != nil {
			return err
		}
		if !p.PlatformAdmin() && p.userID() != u.ID {
			return errUserNotFound
		}
		k.UserID = u.ID
		if err := tx.InsertAPIKey(ctx, k); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "", AuditKeyCreated, "api_key", k.ID, map[string]any{"user_id": u.ID, "prefix": k.Prefix, "name": k.Name}, nil)
	})
	if err != nil {
		return nil, err
	}
	return &NewAPIKey{APIKey: k, Secret: secret}, nil
}

var errKeyNotFound = &Error{Kind: KindNotFound, Code: CodeKeyNotFound, Message: "API key not found."}

// ListAPIKeys lists the keys of a user, revoked ones included, oldest first.
// Users see their own keys; platform administrators any user's.
// Errors: user.not_found.
func (s *Service) ListAPIKeys(ctx context.Context, p *Principal, userRef string) ([]*APIKey, error) {
	var out []*APIKey
	err := s.read(ctx, "list api keys", func(tx Tx) error {
		u, err := findUser(ctx, tx, userRef)
		if err == nil && !p.PlatformAdmin() && p.userID() != u.ID {
			err = errUserNotFound
		}
		if err != nil {
			return err
		}
		out, err = tx.ListAPIKeys(ctx, u.ID)
		return err
	})
	return out, err
}

// GetAPIKey returns one of the caller's keys (any key for a platform
// administrator). Errors: api_keys.key_not_found.
func (s *Service) GetAPIKey(ctx context.Context, p *Principal, id string) (*APIKey, error) {
	var k *APIKey
	err := s.read(ctx, "get api key", func(tx Tx) error {
		var err error
		k, err = ownKey(ctx, tx, p, id)
		return err
	})
	return k, err
}

func ownKey(ctx context.Context, tx Tx, p *Principal, id string) (*APIKey, error) {
	id, isID := parseID(id)
	if !isID {
		return nil, errKeyNotFound
	}
	k, err := tx.APIKeyByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && !p.PlatformAdmin() && k.UserID != p.userID()) {
		return nil, errKeyNotFound
	}
	return k, err
}

// RevokeAPIKeys revokes keys, all or none: the caller's own keys, or any
// key for a platform administrator. A revoked key stops working at once.
// Errors: api_keys.key_not_found, root.invalid_data (no id).
func (s *Service) RevokeAPIKeys(ctx context.Context, p *Principal, ids []string) error {
	if len(ids) == 0 {
		return FieldError(CodeInvalidData, "keys", "No API key id was supplied.")
	}
	defer s.keys.clear() // after the commit: a revoked key stops working at once here
	return s.write(ctx, "revoke api keys", func(tx Tx) error {
		now := s.clock()
		for _, id := range ids {
			k, err := ownKey(ctx, tx, p, id)
			if err != nil {
				return err
			}
			if !k.RevokedAt.IsZero() {
				continue
			}
			if err := tx.RevokeAPIKey(ctx, k.ID, now); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, p, "", AuditKeyRevoked, "api_key", k.ID, map[string]any{"user_id": k.UserID, "prefix": k.Prefix}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// errBadCredentials is the one answer to every credential that does not
// work: unknown, malformed, revoked and expired keys look alike.
var errBadCredentials = &Error{Kind: KindUnauthenticated, Code: CodeUnauthorized, Message: "Credentials were invalid."}

// apiKeyTouchInterval bounds how often last_used_at is written for one key.
const apiKeyTouchInterval = time.Minute

// Authenticate resolves an API key to its principal and records its use.
// Errors: root.unauthorized for any key that does not work.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, APIKeyPrefix) || len(secret) > 128 {
		return nil, errBadCredentials
	}
	hash := HashSecret(secret)
	now := s.clock()
	k, u, cached := s.keys.get(hash, now)
	if !cached {
		err := s.read(ctx, "authenticate", func(tx Tx) error {
			var err error
			k, u, err = tx.APIKeyByHash(ctx, hash)
			if errors.Is(err, ErrNotFound) {
				return errBadCredentials
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		s.keys.put(hash, k, u, now)
	}
	if !k.Usable(now) {
		return nil, errBadCredentials
	}
	p := &Principal{User: u, KeyID: k.ID}
	if k.LastUsedAt.IsZero() || now.Sub(k.LastUsedAt) >= apiKeyTouchInterval {
		// A failed touch must not refuse a valid key; it is logged instead.
		if err := s.store.WriteOne(ctx, func(tx Tx) error {
			return tx.TouchAPIKey(ctx, p.KeyID, now, now.Add(-apiKeyTouchInterval))
		}); err != nil {
			s.log.WarnContext(ctx, "recording API key use failed", "key_id", p.KeyID, "err", err)
		} else {
			s.keys.used(hash, now)
		}
	}
	return p, nil
}
