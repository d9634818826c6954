package orgd

import "time"

// Organization is a tenant: a named group of members.
type Organization struct {
	ID          string
	Slug        string // the URL key of the slug API: lower-case letters, digits and hyphens
	Name        string
	Description string
	IsActive    bool

	// Settings of the Elastic Cloud API.
	DiskUsageAlerts      bool
	NotificationDomains  []string
	BillingContacts      []string
	OperationalContacts  []string
	AllowExternalInvites bool     // when false, invitees must have an address in AllowedEmailDomains
	AllowedEmailDomains  []string // lower-case IDNA domains
	MaxMembers           int      // members plus pending invitations; 0 means no limit
	CreatedAt, UpdatedAt time.Time
}

// User is a person who can hold memberships and API keys.
type User struct {
	ID        string
	Email     string // as given
	EmailNorm string // comparison form; unique among verified addresses
	// EmailVerified: someone vouched that the person controls Email. Users
	// made by `orgd admin` (an administrator vouched) and by the invitation
	// page (the emailed token proved it) are verified; users of an OpenID
	// Connect issuer are verified only while their tokens say
	// email_verified: true. Only verified addresses count for invitations.
	EmailVerified bool
	Name          string
	PlatformAdmin bool
	CreatedAt     time.Time
}

// Membership is a user's place in an organization.
type Membership struct {
	OrgID       string
	UserID      string
	Roles       RoleAssignments // canonical; every assignment is scoped to OrgID
	Role        Role            // the strongest organization role in Roles, "" if none; kept by the store for queries
	MemberSince time.Time

	// Filled on reads from the user row.
	Email         string
	Name          string
	PlatformAdmin bool
}

// EffectiveRole is the organization role that decides what the member may do:
// a member without an organization role is a reader.
func (m *Membership) EffectiveRole() Role {
	if m.Role == "" {
		return RoleReader
	}
	return m.Role
}

// InvitationStatus is the stored state of an invitation. Expiry is not stored:
// an open invitation whose ExpiresAt has passed is expired.
type InvitationStatus string

const (
	InvitationOpen     InvitationStatus = "open"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationDeclined InvitationStatus = "declined"
	InvitationRevoked  InvitationStatus = "revoked"
)

// RevokeReason says why orgd revoked an invitation that no one revoked by
// hand; "" for a revoke by hand, and for invitations that are not revoked.
type RevokeReason string

// RevokedToMember: the invited address, verified, became a member's (see
// revokeInvitationToMember); its audit event and webhook say so in words
// ("reason": "the address is a member's").
const RevokedToMember RevokeReason = "address_is_member"

// InvitationState is what an invitation is at a moment: its status, with
// open split into pending and expired.
type InvitationState string

const (
	StatePending  InvitationState = "pending"
	StateExpired  InvitationState = "expired"
	StateAccepted InvitationState = "accepted"
	StateDeclined InvitationState = "declined"
	StateRevoked  InvitationState = "revoked"
)

// EmailStatus is the state of an invitation's email.
type EmailStatus string

const (
	EmailNotRequested EmailStatus = "not_requested"
	EmailQueued       EmailStatus = "queued"
	EmailSent         EmailStatus = "sent"
	EmailFailed       EmailStatus = "failed"
	// EmailLogged: no SMTP server is configured; the accept link was written
	// to the server log instead.
	EmailLogged EmailStatus = "logged"
)

// Invitation offers an email address a membership with given roles.
type Invitation struct {
	ID        string
	OrgID     string
	Email     string // as given
	EmailNorm string
	InviterID string // "" when the inviter was deleted or orgd itself invited
	Roles     RoleAssignments
	Role      Role // the strongest organization role in Roles, "" if none; kept by the store for filters
	Status    InvitationStatus

	// TokenHash identifies the current token; TokenSealed is the token
	// encrypted under the server key (the Elastic API lists tokens to admins).
	TokenHash   string
	TokenSealed string

	CreatedAt      time.Time // first creation; a refresh keeps it
	IssuedAt       time.Time // creation or latest refresh; the rate limit and cooldown count it
	ExpiresAt      time.Time
	RespondedAt    time.Time // accepted, declined or revoked; zero while open
	AcceptedUserID string
	RevokeReason   RevokeReason // why orgd revoked it, when no one did by hand
	EmailStatus    EmailStatus
	EmailError     string // why the last delivery failed

	// Filled on reads.
	InviterEmail string
	InviterName  string
	OrgSlug      string
	OrgName      string
}

// State reports the invitation's state at now.
func (inv *Invitation) State(now time.Time) InvitationState {
	switch inv.Status {
	case InvitationAccepted:
		return StateAccepted
	case InvitationDeclined:
		return StateDeclined
	case InvitationRevoked:
		return StateRevoked
	}
	if !now.Before(inv.ExpiresAt) {
		return StateExpired
	}
	return StatePending
}

// APIKey is a credential of a user. The secret is never stored: only its
// SHA-256 hash and a short prefix that people can recognise it by.
type APIKey struct {
	ID         string
	UserID     string
	Name       string
	Prefix     string
	Hash       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used
	ExpiresAt  time.Time // zero if it does not expire
	RevokedAt  time.Time // zero while valid
}

// Usable reports whether the key works at now: not revoked, not expired.
func (k *APIKey) Usable(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}
