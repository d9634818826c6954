package orgd

import (
	"context"
	"time"
)

// Store runs functions in database transactions. The store owns the
// mechanics (pools, locking, retries, driver errors); the Service owns the
// rules and calls Tx methods inside one transaction per operation.
type Store interface {
	// ReadTx runs fn with a view that must not write.
	ReadTx(ctx context.Context, fn func(Tx) error) error
	// WriteTx runs fn in one transaction and commits it if fn returns nil.
	WriteTx(ctx context.Context, fn func(Tx) error) error
	// WriteOne runs fn, which writes with one statement and reads nothing,
	// without a transaction around it: the statement commits on its own,
	// with no BEGIN and COMMIT round trips. A second statement fails, after
	// the first has committed: fn must not use writes made of several
	// statements (multi-row inserts of more than a few hundred rows).
	// Within Atomic, fn joins its transaction as WriteTx does.
	WriteOne(ctx context.Context, fn func(Tx) error) error
	// Atomic runs fn in one write transaction and commits it if fn returns
	// nil. Every ReadTx and WriteTx made with fn's ctx (or a context made
	// from it) joins that transaction, a WriteTx as a savepoint that is
	// rolled back alone if its function fails; so fn can run whole
	// operations of the Service and still commit or roll back all of them
	// at once. fn's ctx must not be used by several goroutines at once. A
	// transaction aborted for a transient reason is run again from the
	// start, fn included.
	Atomic(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is the set of queries the rules need. Methods return ErrNotFound for a
// missing row and ErrConflict when a uniqueness rule refused a write; any
// other error is a fault.
type Tx interface {
	InsertOrganization(ctx context.Context, org *Organization) error
	UpdateOrganization(ctx context.Context, org *Organization) error
	OrganizationByID(ctx context.Context, id string) (*Organization, error)
	OrganizationBySlug(ctx context.Context, slug string) (*Organization, error)
	// LockOrganization serialises writers of one organization until the
	// transaction ends, so that limits counted in the database are exact.
	LockOrganization(ctx context.Context, id string) error
	// OrganizationForUser returns an organization by id or slug with the
	// membership of userID in it (nil if none), in one query; with lock,
	// that query also locks the organization as LockOrganization does.
	OrganizationForUser(ctx context.Context, bySlug bool, ref, userID string, lock bool) (*Organization, *Membership, error)
	ListOrganizations(ctx context.Context) ([]*Organization, error)
	ListUserOrganizations(ctx context.Context, userID string) ([]*Organization, error)

	InsertUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id string) (*User, error)
	// UserByEmail returns the user whose verified address is emailNorm;
	// unverified addresses are never found.
	UserByEmail(ctx context.Context, emailNorm string) (*User, error)
	// SetUserEmail changes a user's address and whether it is verified.
	SetUserEmail(ctx context.Context, userID string, email Email, verified bool) error
	SetPlatformAdmin(ctx context.Context, userID string, admin bool) error
	CountUsers(ctx context.Context) (int, error)

	// InsertIdentity links the subject of an OpenID Connect issuer to a
	// user: ErrConflict if the subject is linked, or the user is linked to
	// another subject of the issuer.
	InsertIdentity(ctx context.Context, issuer, subject, userID string, at time.Time) error
	// UserByIdentity returns the user a subject of an issuer is linked to.
	UserByIdentity(ctx context.Context, issuer, subject string) (*User, error)
	// SubjectOf returns the subject of issuer a user is linked to.
	SubjectOf(ctx context.Context, userID, issuer string) (string, error)

	InsertAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByID(ctx context.Context, id string) (*APIKey, error)
	ListAPIKeys(ctx context.Context, userID string) ([]*APIKey, error)
	// RevokeAPIKey marks a key revoked at at; revoking twice is not an error.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// APIKeyByHash returns a key and its user.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, *User, error)
	// TouchAPIKey records a use at now unless one was recorded after staleBefore.
	TouchAPIKey(ctx context.Context, id string, now, staleBefore time.Time) error

	InsertMembership(ctx context.Context, m *Membership) error
	Membership(ctx context.Context, orgID, userID string) (*Membership, error)
	// SharedMemberships returns userID's memberships in the organizations
	// otherID is a member of, in one query.
	SharedMemberships(ctx context.Context, userID, otherID string) ([]*Membership, error)
	UpdateMembershipRoles(ctx context.Context, m *Membership) error
	DeleteMembership(ctx context.Context, orgID, userID string) error
	// ListMembers lists the members that match f, in the order they joined.
	ListMembers(ctx context.Context, orgID string, f MemberFilter) ([]*Membership, error)
	ListMembersWithRole(ctx context.Context, orgID string, role Role) ([]*Membership, error)
	CountMembers(ctx context.Context, orgID string) (int, error)
	// CountMembersWithRole counts members whose strongest role is one of roles.
	CountMembersWithRole(ctx context.Context, orgID string, roles ...Role) (int, error)

	InsertInvitations(ctx context.Context, invs ...*Invitation) error
	// SetEmailStatus records the delivery state of an invitation's email if
	// the invitation is open and still has the token hash.
	SetEmailStatus(ctx context.Context, id, tokenHash string, status EmailStatus, reason string) error
	// Enqueue writes jobs to the outbox in the transaction.
	Enqueue(ctx context.Context, jobs ...Job) error
	// ReissueInvitation stores a refreshed open invitation: its token,
	// roles, issue and expiry times and email status.
	ReissueInvitation(ctx context.Context, inv *Invitation) error
	// CloseInvitation moves an open invitation to a final status and reports
	// whether it was still open: of two concurrent closes only one wins.
	// acceptedUserID is the accepting user's, reason why orgd revoked it.
	CloseInvitation(ctx context.Context, id string, status InvitationStatus, at time.Time, acceptedUserID string, reason RevokeReason) (bool, error)
	InvitationByID(ctx context.Context, id string) (*Invitation, error)
	InvitationByTokenHash(ctx context.Context, hash string) (*Invitation, error)
	// Invitees finds, among normalized addresses, those of members with a
	// verified address and those with an open invitation of an
	// organization, in one query per few hundred addresses.
	Invitees(ctx context.Context, orgID string, emailNorms []string) (Invitees, error)
	ListInvitations(ctx context.Context, orgID string, f InvitationFilter) ([]*Invitation, error)
	// ListPendingInvitationsForEmail lists open, unexpired invitations to an
	// address in every organization.
	ListPendingInvitationsForEmail(ctx context.Context, emailNorm string, now time.Time) ([]*Invitation, error)
	// CountForLimits counts, in one query, what the limits of an
	// organization weigh (see LimitQuery).
	CountForLimits(ctx context.Context, orgID string, q LimitQuery) (LimitCounts, error)
	// NthIssuedAfter returns the issue time of the n-th (0-based) oldest
	// invitation issued after since.
	NthIssuedAfter(ctx context.Context, orgID string, since time.Time, n int) (time.Time, error)

	// ListUnannouncedExpiredInvitations lists up to limit open invitations
	// that expired at or before now and whose expiry was not announced,
	// earliest expiry first.
	ListUnannouncedExpiredInvitations(ctx context.Context, now time.Time, limit int) ([]*Invitation, error)
	// MarkExpiryAnnounced records that the expiry of an invitation issued to
	// expire at expiresAt was announced, and reports whether it was still
	// open, expired at expiresAt and unannounced: of two concurrent marks only
	// one wins.
	MarkExpiryAnnounced(ctx context.Context, id string, expiresAt, at time.Time) (bool, error)

	InsertWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	WebhookEndpointByID(ctx context.Context, id string) (*WebhookEndpoint, error)
	DeleteWebhookEndpoint(ctx context.Context, id string) error
	// CountWebhookEndpoints counts the endpoints of an organization; with
	// orgID "", the server-wide ones.
	CountWebhookEndpoints(ctx context.Context, orgID string) (int, error)
	// ListWebhookEndpoints lists the endpoints of an organization (orgID ""
	// for the server-wide ones), or with all every endpoint, oldest first.
	ListWebhookEndpoints(ctx context.Context, orgID string, all bool) ([]*WebhookEndpoint, error)
	// RecordWebhookAttempt records the outcome of a delivery attempt made at
	// at on an endpoint; a missing endpoint is not an error.
	RecordWebhookAttempt(ctx context.Context, id string, at time.Time, a WebhookAttempt) error

	// LockIdempotencyKey locks a user's idempotency key until the
	// transaction ends and reports whether it got the lock: false if
	// another transaction holds it. Where a write transaction already
	// excludes all others (SQLite), it always gets it.
	LockIdempotencyKey(ctx context.Context, userID, keyHash string) (bool, error)
	// IdempotencyRecord returns the record of a user's key, expired or not.
	IdempotencyRecord(ctx context.Context, userID, keyHash string) (*IdempotencyRecord, error)
	// SaveIdempotencyRecord stores a record, replacing an expired record of
	// the same key; ErrConflict if one that has not expired exists.
	SaveIdempotencyRecord(ctx context.Context, rec *IdempotencyRecord) error
	// DeleteExpiredIdempotencyRecords deletes the records expired at now.
	DeleteExpiredIdempotencyRecords(ctx context.Context, now time.Time) (int, error)

	// InsertAuditEvents writes audit events of one organization. With
	// endpoints, it also returns, read in the same round trip, the webhook
	// endpoints that receive that organization's events: its own and the
	// server-wide ones, oldest first.
	InsertAuditEvents(ctx context.Context, evs []*AuditEvent, endpoints bool) ([]*WebhookEndpoint, error)
	// ListAuditEvents returns events newest first; ErrNotFound if q.Before
	// names no event (with q.OrgID, no event of that organization).
	ListAuditEvents(ctx context.Context, q AuditQuery) ([]*AuditEvent, error)
}

// Invitees is what an organization knows of addresses about to be invited.
type Invitees struct {
	Members map[string]bool        // normalized addresses of members
	Open    map[string]*Invitation // open invitations by normalized address
}

// LimitQuery says what CountForLimits counts.
type LimitQuery struct {
	// Seats counts members, and invitations open and unexpired at Now.
	Seats bool
	Now   time.Time
	// IssuedAfter, unless zero, counts invitations created or refreshed
	// after it.
	IssuedAfter time.Time
}

// LimitCounts are the counts of a LimitQuery; those it did not ask for are 0.
type LimitCounts struct {
	Members, Pending, Issued int
}

// InvitationFilter selects invitations of an organization. Empty lists and
// zero fields select everything.
type InvitationFilter struct {
	States        []InvitationState // at Now
	EmailStatuses []EmailStatus
	Email         string // normalized address
	Role          Role   // the strongest organization role promised; reader includes invitations without one
	Inviter       string // user id or address of the inviter
	CreatedAfter  time.Time
	CreatedBefore time.Time
	Now           time.Time

	inviterID string // Inviter resolved by the service; "-" when it names nobody
	after     *position
	limit     int // 0: every invitation; else at most limit+1
}

// InviterID is the inviter's user id to match, "" for any inviter; ok is
// false when the filter names an inviter who does not exist (nothing matches).
func (f InvitationFilter) InviterID() (id string, ok bool) { return f.inviterID, f.inviterID != "-" }
