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

// Job is work written to the outbox in the same transaction as the change
// that asks for it, and done later by a worker. Kind names the worker.
type Job interface {
	Kind() string
}

// InvitationEmailJob asks for the email of an invitation as issued with
// the token whose hash is TokenHash. A job for a token that has since been
// replaced (refreshed, resent) delivers nothing: the newer issue has a job
// of its own.
type InvitationEmailJob struct {
	InvitationID string `json:"invitation_id"`
	TokenHash    string `json:"token_hash"`
}

// Kind implements Job.
func (InvitationEmailJob) Kind() string { return "invitation_email" }

// ErrNothingToDeliver reports that a delivery job is moot: its token was
// replaced, the invitation was answered or revoked, or its email is no
// longer wanted.
var ErrNothingToDeliver = errors.New("nothing to deliver")

// Delivery is what an invitation email says.
type Delivery struct {
	Invitation   *Invitation
	OrgName      string
	InviterName  string // the inviter's name, or "" when unknown
	InviterEmail string
	Role         Role
	Token        string
}

// PrepareDelivery returns the content of an invitation email, or
// ErrNothingToDeliver when the job is moot.
func (s *Service) PrepareDelivery(ctx context.Context, job InvitationEmailJob) (*Delivery, error) {
	var d *Delivery
	err := s.read(ctx, "prepare delivery", func(tx Tx) error {
		inv, err := tx.InvitationByID(ctx, job.InvitationID)
		if errors.Is(err, ErrNotFound) {
			return ErrNothingToDeliver
		}
		if err != nil {
			return err
		}
		if inv.TokenHash != job.TokenHash || inv.Status != InvitationOpen || inv.EmailStatus == EmailNotRequested {
			return ErrNothingToDeliver
		}
		// One query: the invitation comes with its organization's name and
		// its inviter's.
		d = &Delivery{Invitation: inv, OrgName: inv.OrgName, InviterName: inv.InviterName, InviterEmail: inv.InviterEmail,
			Role: orReader(inv.Roles.TopRole(inv.OrgID))}
		return nil
	})
	if errors.Is(err, ErrNothingToDeliver) {
		return nil, ErrNothingToDeliver
	}
	if err != nil {
		return nil, err
	}
	if d.Token, err = s.InvitationToken(d.Invitation); err != nil {
		return nil, err
	}
	return d, nil
}

// maxEmailError bounds the stored reason of a failed delivery.
const maxEmailError = 500

// boundReason makes the reason of a failed delivery fit for storing: valid
// UTF-8, at most maxEmailError characters.
func boundReason(reason string) string {
	reason = strings.ToValidUTF8(reason, "?")
	if utf8.RuneCountInString(reason) > maxEmailError {
		reason = string([]rune(reason)[:maxEmailError])
	}
	return reason
}

// RecordDelivery records the outcome of a delivery attempt on the
// invitation, if it still has the job's token.
func (s *Service) RecordDelivery(ctx context.Context, job InvitationEmailJob, status EmailStatus, reason string) error {
	reason = boundReason(reason)
	return s.writeOne(ctx, "record delivery", func(tx Tx) error {
		return tx.SetEmailStatus(ctx, job.InvitationID, job.TokenHash, status, reason)
	})
}

// InvitationView is an invitation as its page shows it to the holder of the
// token.
type InvitationView struct {
	*Invitation
	Organization *Organization
	Role         Role
	State        InvitationState
	// AddressIsMember: the invitation was revoked because its address
	// became a member's, and the page says so (see ViewInvitation).
	AddressIsMember bool
}

// ViewInvitation returns what the invitation page shows for a token. It
// changes nothing (mail scanners open links). A revoked invitation is shown
// (in the state revoked, with AddressIsMember) only when it was revoked
// because its address became a member's (RevokedToMember), the address
// still is one, and the invitation would not have expired yet: the page
// tells the holder of the link, who was shown the organization and the
// address while it was pending, that the address is a member, for as long
// as the link itself would have been good, and no longer. Errors:
// organization.invitation_not_found for unknown and superseded tokens, and
// every other revoked one, alike.
func (s *Service) ViewInvitation(ctx context.Context, token string) (*InvitationView, error) {
	var v *InvitationView
	err := s.read(ctx, "view invitation", func(tx Tx) error {
		inv, err := anyInvitationByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		now := s.clock()
		member := false
		if inv.Status == InvitationRevoked {
			if member, err = revokedToCurrentMember(ctx, tx, inv, now); err != nil {
				return err
			} else if !member {
				return errInviteNotFound
			}
		}
		org, err := tx.OrganizationByID(ctx, inv.OrgID)
		if err != nil {
			return err
		}
		v = &InvitationView{Invitation: inv, Organization: org,
			Role: orReader(inv.Roles.TopRole(org.ID)), State: inv.State(now), AddressIsMember: member}
		return nil
	})
	return v, err
}

// AcceptInvitationAsInvitee accepts an invitation for the person who holds
// its token: the token proves control of the invited address, so the
// membership goes to the user with that address, who is created if there is
// none. Errors: as AcceptInvitationByToken.
func (s *Service) AcceptInvitationAsInvitee(ctx context.Context, token string) (*Membership, error) {
	var m *Membership
	err := s.write(ctx, "accept invitation as invitee", func(tx Tx) error {
		inv, err := invitationByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		if err := usable(inv, s.clock()); err != nil {
			return err
		}
		u, err := tx.UserByEmail(ctx, inv.EmailNorm)
		if errors.Is(err, ErrNotFound) {
			u = &User{ID: uuid.Must(uuid.NewV7()).String(), Email: inv.Email, EmailNorm: inv.EmailNorm, EmailVerified: true, CreatedAt: s.clock()}
			if err := tx.InsertUser(ctx, u); err != nil {
				return fmt.Errorf("create the invitee's user: %w", err)
			}
			if err := s.audit(ctx, tx, &Principal{User: u}, inv.OrgID, AuditUserCreated, "user", u.ID, map[string]any{"email": u.Email, "invitation_id": inv.ID}, nil); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		m, err = s.accept(ctx, tx, &Principal{User: u}, inv, true)
		return err
	})
	return m, err
}

// DeclineInvitationAsInvitee declines an invitation for the holder of its
// token. Errors: as AcceptInvitationByToken.
func (s *Service) DeclineInvitationAsInvitee(ctx context.Context, token string) (*Invitation, error) {
	var inv *Invitation
	err := s.write(ctx, "decline invitation as invitee", func(tx Tx) error {
		var err error
		if inv, err = invitationByToken(ctx, tx, token); err != nil {
			return err
		}
		return s.decline(ctx, tx, nil, inv)
	})
	return inv, err
}

// TimeInWords writes a moment for people, in UTC: "Friday, 27 November 2026
// at 14:05 UTC".
func TimeInWords(t time.Time) string {
	return t.UTC().Format("Monday, 2 January 2006 at 15:04 UTC")
}

// ExpiresInWords says how long until t from now, for people: "in 3 days",
// "in 5 hours", "in 12 minutes", or "already".
func ExpiresInWords(t, now time.Time) string {
	d := t.Sub(now)
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d <= 0:
		return "already"
	case d >= 48*time.Hour:
		return "in " + unit(int((d+12*time.Hour)/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return "in " + unit(int((d+30*time.Minute)/time.Hour), "hour")
	}
	return "in " + unit(max(1, int((d+30*time.Second)/time.Minute)), "minute")
}
