package orgd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Identity is who an OpenID Connect issuer says the bearer of a token is.
type Identity struct {
	Issuer        string
	Subject       string
	Email         string // as the token gives it; "" when it gives none
	EmailVerified bool   // the token says email_verified: true
	Name          string
}

// TokenVerifier checks the bearer tokens (JWTs) of an OpenID Connect issuer.
type TokenVerifier interface {
	// VerifyToken returns the identity a token proves. Its error says why a
	// token proves nothing, for logs; it never contains the token.
	VerifyToken(ctx context.Context, token string) (*Identity, error)
}

// maxTokenLength bounds the JWTs orgd reads; real ones are a few kilobytes.
const maxTokenLength = 16 << 10

// LooksLikeJWT reports whether a credential has the shape of a JWT, three
// dot-separated parts, rather than that of an API key.
func LooksLikeJWT(credential string) bool {
	return !strings.HasPrefix(credential, APIKeyPrefix) && strings.Count(credential, ".") == 2
}

// AuthenticateBearer resolves the credential of `Authorization: Bearer`: an
// API key (see Authenticate), or a JWT of the configured OpenID Connect
// issuer, whose user is found by the token's subject, or linked or created
// (see userOfIdentity).
// Errors: root.unauthorized for any credential that does not work, with the
// reason as the error's cause for the log; for a valid token that can be no
// user: user.email_missing, user.email_unverified, user.identity_conflict.
func (s *Service) AuthenticateBearer(ctx context.Context, credential string) (*Principal, error) {
	if !LooksLikeJWT(credential) {
		return s.Authenticate(ctx, credential)
	}
	if s.tokens == nil {
		return nil, badCredentials(errors.New("a JWT, but no OpenID Connect issuer is configured"))
	}
	if len(credential) > maxTokenLength {
		return nil, badCredentials(fmt.Errorf("a JWT longer than %d bytes", maxTokenLength))
	}
	id, err := s.tokens.VerifyToken(ctx, credential)
	if err != nil {
		return nil, badCredentials(err)
	}
	return s.SignIn(ctx, id)
}

// SignIn returns the principal of an identity that a verified token of
// the issuer proves (a bearer JWT, or the ID token of a sign-in): its user
// is found by the subject, or linked or created (see userOfIdentity).
// Errors: user.email_missing, user.email_unverified, user.identity_conflict.
func (s *Service) SignIn(ctx context.Context, id *Identity) (*Principal, error) {
	u, err := s.userOfIdentity(ctx, id)
	if err != nil {
		return nil, err
	}
	return &Principal{User: u}, nil
}

// badCredentials is errBadCredentials with the reason kept for the log.
func badCredentials(reason error) *Error {
	e := *errBadCredentials
	e.Err = reason
	return &e
}

var errEmailMissing = &Error{Kind: KindForbidden, Code: CodeEmailMissing,
	Message: "Your identity provider's token carries no valid email address, and orgd needs one to create your user; ask for the email scope."}

// userOfIdentity returns the user of a verified identity:
//
//   - A subject that is linked to a user is that user. Its address follows
//     the tokens: a token with another address or another email_verified
//     changes the stored one; a verified address that another user holds is
//     stored as unverified (an administrator settles whose it is); a token
//     without an address changes nothing.
//   - Otherwise the token must carry an address. A user who holds it as a
//     verified address is linked to the subject only if the token says the
//     address is verified too (as Auth0 and Keycloak link accounts), and only
//     if no other subject of the issuer is linked to that user.
//   - Otherwise a new user is created with the token's address, verified as
//     the token says, and linked.
//
// Most calls read one row; the first call and address changes write.
func (s *Service) userOfIdentity(ctx context.Context, id *Identity) (*User, error) {
	email, err := ParseEmail(id.Email)
	hasEmail := id.Email != "" && err == nil
	for attempt := 1; ; attempt++ {
		var u *User
		err := s.store.ReadTx(ctx, func(tx Tx) error {
			var err error
			u, err = tx.UserByIdentity(ctx, id.Issuer, id.Subject)
			return err
		})
		if err == nil && (!hasEmail || u.Email == email.Address && u.EmailVerified == id.EmailVerified) {
			return u, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, wrapFault("sign in", err)
		}
		err = s.store.WriteTx(ctx, func(tx Tx) error {
			var err error
			u, err = s.linkIdentity(ctx, tx, id, email, hasEmail)
			return err
		})
		s.keys.clear() // after the commit: the cache holds users, and an address may have changed
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue // a concurrent request linked the subject or took the address first
		}
		if err != nil {
			return nil, wrapFault("sign in", err)
		}
		return u, nil
	}
}

// linkIdentity is the writing half of userOfIdentity.
func (s *Service) linkIdentity(ctx context.Context, tx Tx, id *Identity, email Email, hasEmail bool) (*User, error) {
	u, err := tx.UserByIdentity(ctx, id.Issuer, id.Subject)
	if err == nil {
		if hasEmail {
			err = s.followEmail(ctx, tx, u, email, id.EmailVerified)
		}
		return u, err
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if !hasEmail {
		return nil, errEmailMissing
	}
	u, err = tx.UserByEmail(ctx, email.Norm)
	switch {
	case err == nil:
		if !id.EmailVerified {
			return nil, Errorf(KindForbidden, CodeEmailUnverified,
				"A user with the address %s exists; orgd links your sign-in to it only once your identity provider has verified the address.", email.Address)
		}
		switch subject, err := tx.SubjectOf(ctx, u.ID, id.Issuer); {
		case err == nil && subject == id.Subject:
			return nil, ErrConflict // a concurrent request linked this subject after the look-up above
		case err == nil:
			return nil, Errorf(KindForbidden, CodeIdentityConflict,
				"The user with the address %s signs in with another account of your identity provider.", email.Address)
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
		s.log.InfoContext(ctx, "linked an OpenID Connect subject to the user with its verified address", "user_id", u.ID, "issuer", id.Issuer)
	case errors.Is(err, ErrNotFound):
		name, ok := cleanUserName(id.Name)
		if !ok {
			name = ""
		}
		u = &User{ID: uuid.Must(uuid.NewV7()).String(), Email: email.Address, EmailNorm: email.Norm,
			EmailVerified: id.EmailVerified, Name: name, CreatedAt: s.clock()}
		if err := tx.InsertUser(ctx, u); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return u, tx.InsertIdentity(ctx, id.Issuer, id.Subject, u.ID, s.clock())
}

// followEmail stores the address a linked user's token gives, unless it is
// already stored. A verified address revokes the open invitations to it of
// the organizations the user is a member of (see revokeInvitationToMember),
// as the user who signed in.
func (s *Service) followEmail(ctx context.Context, tx Tx, u *User, email Email, verified bool) error {
	if verified {
		holder, err := tx.UserByEmail(ctx, email.Norm)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err == nil && holder.ID != u.ID {
			verified = false
			s.log.WarnContext(ctx, "the verified address of an OpenID Connect user belongs to another user; it is stored as unverified",
				"user_id", u.ID, "other_user_id", holder.ID)
		}
	}
	if u.Email == email.Address && u.EmailVerified == verified {
		return nil
	}
	if err := tx.SetUserEmail(ctx, u.ID, email, verified); err != nil {
		return err
	}
	newlyVerified := verified && (!u.EmailVerified || u.EmailNorm != email.Norm)
	u.Email, u.EmailNorm, u.EmailVerified = email.Address, email.Norm, verified
	if !newlyVerified {
		return nil
	}
	// The address is now a member's wherever the user is one: an open
	// invitation to it there could only be refused. Rare (an address
	// changes or becomes verified): one look-up per organization.
	orgs, err := tx.ListUserOrganizations(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		revoked, err := s.revokeInvitationToMember(ctx, tx, u, org.ID)
		if err != nil {
			return err
		}
		if err := s.record(ctx, tx, &Principal{User: u}, org.ID, revoked...); err != nil {
			return err
		}
	}
	return nil
}
