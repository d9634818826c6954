package orgd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// rateWindow is the sliding window of the per-organization invitation limit.
const rateWindow = time.Hour

// InviteRequest asks for invitations to one organization.
type InviteRequest struct {
	Emails    []string
	ExpiresIn string // a duration such as "72h" or "3d"; "" means the default
	Roles     RoleAssignments
	// RefreshExisting refreshes an open invitation to the same address (the
	// create-or-refresh of the Elastic API); otherwise such an address is a
	// conflict and the caller must resend.
	RefreshExisting bool
	SendEmail       bool
}

// IssuedInvitation is an invitation as created or refreshed, with its token
// in clear: the only moment the token exists outside the database.
type IssuedInvitation struct {
	*Invitation
	Token     string
	Refreshed bool
}

// issuePlan is one invitation to write: a new one (Invitation.ID empty) or
// the refresh of an open one.
type issuePlan struct {
	email    Email
	existing *Invitation
}

// CreateInvitations creates or refreshes invitations, all or none. Addresses
// are trimmed, validated strictly and de-duplicated case-insensitively.
// Organization owners and admins (and platform administrators) may; only
// owners may invite owners or refresh invitations for owners.
//
// Errors, one per bad address where that applies: organization.invitation_invalid_email,
// organization.user_organization_already_belongs, organization.invitation_already_exists
// (an open invitation within the refresh cooldown, or any open one without
// RefreshExisting), organization.invitation_domain_not_allowed,
// role_assignments.unauthorized_role_assignments (refreshing an owner's
// invitation without being an owner); and for the request:
// organization.user_organization_does_not_belong (the sender is
// outside the organization), organization.invalid_access,
// role_assignments.unauthorized_role_assignments, organization.invitation_invalid_expiry,
// organization.member_limit_exceeded, organization.invitations_rate_limit_exceeded.
func (s *Service) CreateInvitations(ctx context.Context, p *Principal, orgRef string, req InviteRequest) (*Organization, []*IssuedInvitation, error) {
	if len(req.Emails) == 0 {
		return nil, nil, FieldError(CodeInviteInvalidMail, "emails", "At least one email address is required.")
	}
	if max := s.limits.MaxEmailsPerRequest; max > 0 && len(req.Emails) > max {
		return nil, nil, &Error{Kind: KindRateLimited, Code: CodeInviteRateLimit, Field: "emails",
			Message: fmt.Sprintf("Request exceeds organization invitation creation rate limits: at most %d addresses per request.", max)}
	}
	ttl, err := s.expiry(req.ExpiresIn)
	if err != nil {
		return nil, nil, err
	}
	var org *Organization
	var out []*IssuedInvitation
	err = s.write(ctx, "create invitations", func(tx Tx) error {
		var m *Membership
		var err error
		org, m, err = s.accessToIssue(ctx, tx, p, orgRef)
		if e, ok := err.(*Error); ok && e.Code == CodeOrgNotFound && !p.PlatformAdmin() {
			return &Error{Kind: KindNotFound, Code: CodeSenderNotMember, Message: "Invitation sender does not belong to organization."}
		}
		if err != nil {
			return err
		}
		roles, err := s.invitationRoles(req.Roles, org.ID, callerRole(p, m))
		if err != nil {
			return err
		}
		now := s.clock()
		errs := make([]*Error, len(req.Emails)) // by position in the request
		var addrs []Email
		var at []int // the position of each of addrs
		seen := map[string]bool{}
		for i, raw := range req.Emails {
			addr, err := ParseEmail(raw)
			if err != nil {
				errs[i] = &Error{Kind: KindInvalid, Code: CodeInviteInvalidMail, Message: fmt.Sprintf("Invitation email was not valid: %v.", err)}
				continue
			}
			if seen[addr.Norm] {
				continue
			}
			seen[addr.Norm] = true
			addrs, at = append(addrs, addr), append(at, i)
		}
		known, err := lookupInvitees(ctx, tx, org.ID, addrs)
		if err != nil {
			return err
		}
		var plans []issuePlan
		for k, addr := range addrs {
			plan, err := s.planInvitation(org, callerRole(p, m), addr, known, req.RefreshExisting, now)
			if e, ok := err.(*Error); ok {
				errs[at[k]] = e
				continue
			}
			if err != nil {
				return err
			}
			plans = append(plans, plan)
		}
		var bad []*Error
		for i, e := range errs {
			if e != nil {
				e.Field, e.Value = fmt.Sprintf("emails[%d]", i), req.Emails[i]
				bad = append(bad, e)
			}
		}
		if len(bad) > 0 {
			return joinErrors(bad)
		}
		out, err = s.issue(ctx, tx, org, p, plans, roles, ttl, req.SendEmail, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return org, out, nil
}

// ResendInvitation re-issues an open invitation by id: a new token and a new
// expiry (expiresIn, or the invitation's previous lifetime), delivered again
// if sendEmail, under the same
// cooldown and limits as create-or-refresh. The old token stops working.
// Errors: organization.invitation_not_found, organization.invitation_already_used,
// organization.invitation_already_exists (cooldown), the limits of CreateInvitations.
func (s *Service) ResendInvitation(ctx context.Context, p *Principal, orgRef, id, expiresIn string, sendEmail bool) (*IssuedInvitation, error) {
	var out *IssuedInvitation
	err := s.write(ctx, "resend invitation", func(tx Tx) error {
		org, m, err := s.accessToIssue(ctx, tx, p, orgRef)
		if err != nil {
			return err
		}
		inv, err := invitationInOrg(ctx, tx, org.ID, id)
		if err != nil {
			return err
		}
		if !mayHandle(callerRole(p, m), inv) {
			return errRolesForbidden("Only owners may manage invitations for owners.")
		}
		if inv.Status != InvitationOpen {
			return invitationClosedError(inv)
		}
		ttl := inv.ExpiresAt.Sub(inv.IssuedAt)
		if expiresIn != "" {
			if ttl, err = s.expiry(expiresIn); err != nil {
				return err
			}
		}
		addr := Email{Address: inv.Email, Norm: inv.EmailNorm}
		// The organization may have narrowed its allowed domains since.
		if err := checkInviteDomain(org, addr); err != nil {
			return err
		}
		now := s.clock()
		if err := s.checkCooldown(inv, now); err != nil {
			return err
		}
		issued, err := s.issue(ctx, tx, org, p, []issuePlan{{email: addr, existing: inv}}, inv.Roles, ttl, sendEmail, now)
		if err != nil {
			return err
		}
		out = issued[0]
		return nil
	})
	return out, err
}

func (s *Service) expiry(text string) (time.Duration, error) {
	if text == "" {
		return s.limits.DefaultExpiry, nil
	}
	d, err := ParseDuration(text)
	if err != nil {
		return 0, FieldError(CodeInviteExpiry, "expires_in", "expires_in is not valid: %v.", err)
	}
	if d < s.limits.MinExpiry || d > s.limits.MaxExpiry {
		return 0, FieldError(CodeInviteExpiry, "expires_in", "expires_in must be between %s and %s.", FormatDuration(s.limits.MinExpiry), FormatDuration(s.limits.MaxExpiry))
	}
	return d, nil
}

// invitationRoles checks the roles an invitation promises: scoped to the
// organization, no platform roles, and owner only from an owner.
func (s *Service) invitationRoles(ra RoleAssignments, orgID string, caller Role) (RoleAssignments, error) {
	if len(ra.Platform) > 0 {
		return RoleAssignments{}, &Error{Kind: KindForbidden, Code: CodeRolesForbidden, Field: "role_assignments.platform",
			Message: "Invitations cannot grant platform roles; platform administrators grant them to existing users."}
	}
	roles, err := ra.ForOrganization(orgID)
	if err != nil {
		return RoleAssignments{}, err
	}
	for _, r := range roles.OrgRoles(orgID) {
		if !mayGrant(caller, r) {
			return RoleAssignments{}, errRolesForbidden(fmt.Sprintf("You are not authorised to grant the role %s.", r))
		}
	}
	return roles, nil
}

func errRolesForbidden(msg string) *Error {
	return &Error{Kind: KindForbidden, Code: CodeRolesForbidden, Message: msg}
}

// lookupInvitees finds the members and open invitations among addrs.
func lookupInvitees(ctx context.Context, tx Tx, orgID string, addrs []Email) (Invitees, error) {
	norms := make([]string, len(addrs))
	for i, a := range addrs {
		norms[i] = a.Norm
	}
	return tx.Invitees(ctx, orgID, norms)
}

// planInvitation decides what inviting one address means for a caller
// with role: a new invitation, the refresh of an open one, or an error.
func (s *Service) planInvitation(org *Organization, role Role, addr Email, known Invitees, refresh bool, now time.Time) (issuePlan, error) {
	if err := checkInviteDomain(org, addr); err != nil {
		return issuePlan{}, err
	}
	if known.Members[addr.Norm] {
		return issuePlan{}, &Error{Kind: KindConflict, Code: CodeAlreadyMember, Message: "User already belongs to organization."}
	}
	inv := known.Open[addr.Norm]
	if inv == nil {
		return issuePlan{email: addr}, nil
	}
	if !refresh {
		return issuePlan{}, &Error{Kind: KindConflict, Code: CodeInviteExists,
			Message: "Invitation already sent: an open invitation exists for this address; resend it instead."}
	}
	if !mayHandle(role, inv) {
		// A refresh replaces the invitation's roles and token: like a
		// resend or a revoke, only an owner may do that to an owner's.
		return issuePlan{}, errRolesForbidden("Only owners may refresh invitations for owners.")
	}
	if err := s.checkCooldown(inv, now); err != nil {
		return issuePlan{}, err
	}
	return issuePlan{email: addr, existing: inv}, nil
}

func (s *Service) checkCooldown(inv *Invitation, now time.Time) error {
	if wait := inv.IssuedAt.Add(s.limits.RefreshCooldown).Sub(now); wait > 0 {
		return &Error{Kind: KindConflict, Code: CodeInviteExists, RetryAfter: wait,
			Message: fmt.Sprintf("Invitation already sent: it can be refreshed again in %s.", humanDuration(wait))}
	}
	return nil
}

func checkInviteDomain(org *Organization, addr Email) error {
	if org.AllowExternalInvites {
		return nil
	}
	domain := EmailDomain(addr.Norm)
	if slices.Contains(org.AllowedEmailDomains, domain) {
		return nil
	}
	if len(org.AllowedEmailDomains) == 0 {
		return &Error{Kind: KindInvalid, Code: CodeInviteDomain, Message: "The organization does not allow external invitations and lists no allowed email domains."}
	}
	return &Error{Kind: KindInvalid, Code: CodeInviteDomain,
		Message: fmt.Sprintf("The organization only invites addresses at %v; %s is not one of them.", org.AllowedEmailDomains, domain)}
}

// issue checks the organization's limits for plans and writes them. The
// organization must be locked (see accessToIssue).
func (s *Service) issue(ctx context.Context, tx Tx, org *Organization, p *Principal, plans []issuePlan, roles RoleAssignments, ttl time.Duration, sendEmail bool, now time.Time) ([]*IssuedInvitation, error) {
	if err := s.checkLimits(ctx, tx, org, plans, now); err != nil {
		return nil, err
	}
	out := make([]*IssuedInvitation, 0, len(plans))
	var fresh []*Invitation
	var jobs []Job
	changes := make([]change, 0, len(plans))
	for _, plan := range plans {
		token := newSecret("")
		inv := plan.existing
		refreshed := inv != nil
		if !refreshed {
			inv = &Invitation{
				ID: uuid.Must(uuid.NewV7()).String(), OrgID: org.ID, Email: plan.email.Address, EmailNorm: plan.email.Norm,
				InviterID: p.userID(), Status: InvitationOpen, CreatedAt: now,
			}
		}
		inv.Roles, inv.Role = roles, roles.TopRole(org.ID)
		inv.EmailStatus, inv.EmailError = EmailNotRequested, ""
		if sendEmail {
			inv.EmailStatus = EmailQueued
		}
		inv.IssuedAt = now
		inv.ExpiresAt = now.Add(ttl)
		inv.TokenHash = HashSecret(token)
		inv.TokenSealed = s.box.Seal(token, inv.TokenHash)
		inv.OrgSlug, inv.OrgName = org.Slug, org.Name
		if !refreshed && p.User != nil {
			inv.InviterEmail = p.User.Email
		}
		action := AuditInvitationCreated
		if refreshed {
			action = AuditInvitationRefreshed
			if err := tx.ReissueInvitation(ctx, inv); err != nil {
				return nil, err
			}
		} else {
			fresh = append(fresh, inv)
		}
		if sendEmail {
			jobs = append(jobs, InvitationEmailJob{InvitationID: inv.ID, TokenHash: inv.TokenHash})
		}
		changes = append(changes, change{action: action, targetType: "invitation", targetID: inv.ID, subject: inv,
			details: map[string]any{"email": inv.Email, "role": inv.Roles.TopRole(org.ID), "expires_at": inv.ExpiresAt, "send_email": sendEmail}})
		out = append(out, &IssuedInvitation{Invitation: inv, Token: token, Refreshed: refreshed})
	}
	if err := tx.InsertInvitations(ctx, fresh...); errors.Is(err, ErrConflict) {
		// A concurrent request invited one of the addresses first.
		e := &Error{Kind: KindConflict, Code: CodeInviteExists, Field: "emails",
			Message: "Invitation already sent: another request invited this address at the same moment."}
		if len(fresh) == 1 {
			e.Value = fresh[0].Email
		} else {
			e.Message = "Invitation already sent: another request invited one of these addresses at the same moment."
		}
		return nil, e
	} else if err != nil {
		return nil, err
	}
	if err := tx.Enqueue(ctx, jobs...); err != nil {
		return nil, fmt.Errorf("enqueue invitation email: %w", err)
	}
	if err := s.record(ctx, tx, p, org.ID, changes...); err != nil {
		return nil, err
	}
	return out, nil
}

// accessToIssue is access for the writers of invitations (create, resend):
// it also serialises the writers of the organization while a limit counted
// in the database applies to it (the hourly invitation limit, max_members),
// so that the counts hold across instances. The hourly limit applies to
// every organization, so then the lock comes with the query that reads the
// organization; max_members is known only once it is read. Without such a
// limit nothing needs counting: the unique index on open invitations keeps
// concurrent creates for one address apart, and creates in one
// organization run side by side.
func (s *Service) accessToIssue(ctx context.Context, tx Tx, p *Principal, orgRef string) (*Organization, *Membership, error) {
	lockNow := s.limits.InvitesPerHour > 0
	org, m, err := accessLocking(ctx, tx, p, orgRef, ActManageInvitations, lockNow)
	if err != nil || lockNow || org.MaxMembers <= 0 {
		return org, m, err
	}
	return org, m, tx.LockOrganization(ctx, org.ID)
}

// checkLimits enforces, with one count, the limits issuing plans meets:
// max_members (members plus pending invitations) and the organization's
// hourly issue limit over a sliding window, counted in the database so that
// they hold across instances.
func (s *Service) checkLimits(ctx context.Context, tx Tx, org *Organization, plans []issuePlan, now time.Time) error {
	limit, since := s.limits.InvitesPerHour, now.Add(-rateWindow)
	added, need := 0, 0
	for _, plan := range plans {
		if plan.existing == nil || plan.existing.State(now) == StateExpired {
			added++
		}
		// A refresh moves its row's issue time to now: it takes a new slot
		// only if its previous issue has left the window.
		if plan.existing == nil || !plan.existing.IssuedAt.After(since) {
			need++
		}
	}
	q := LimitQuery{Seats: org.MaxMembers > 0 && added > 0, Now: now}
	if limit > 0 && need > 0 {
		q.IssuedAfter = since
	}
	c, err := tx.CountForLimits(ctx, org.ID, q)
	if err != nil {
		return err
	}
	if q.Seats {
		if err := checkSeats(org, c, added); err != nil {
			return err
		}
	}
	if q.IssuedAfter.IsZero() {
		return nil
	}
	excess := c.Issued + need - limit
	if excess <= 0 {
		return nil
	}
	wait := rateWindow
	if excess <= c.Issued {
		oldest, err := tx.NthIssuedAfter(ctx, org.ID, since, excess-1)
		if err != nil {
			return err
		}
		wait = oldest.Add(rateWindow).Sub(now)
	}
	return &Error{Kind: KindRateLimited, Code: CodeInviteRateLimit, RetryAfter: wait,
		Message: fmt.Sprintf("Request exceeds organization invitation creation rate limits: %d invitations per hour; retry in %s.", limit, humanDuration(wait))}
}

// checkSeats enforces max_members on a change that takes added seats, from
// the counts of a LimitQuery with Seats.
func checkSeats(org *Organization, c LimitCounts, added int) error {
	if c.Members+c.Pending+added <= org.MaxMembers {
		return nil
	}
	return &Error{Kind: KindConflict, Code: CodeMemberLimit,
		Message: fmt.Sprintf("The organization allows at most %d members and pending invitations; it has %d members and %d pending invitations, and this request adds %d.",
			org.MaxMembers, c.Members, c.Pending, added)}
}

// humanDuration writes a wait for people: "45 seconds", "12 minutes".
func humanDuration(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	switch {
	case secs <= 1:
		return "1 second"
	case secs < 120:
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}

// joinErrors returns the one error of a batch, or an error that carries
// every one as Details. When every one says when to retry (cooldowns), so
// does the batch: after the longest wait.
func joinErrors(errs []*Error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	kind, retry, waits := errs[0].Kind, time.Duration(0), true
	for _, e := range errs {
		if e.Kind != kind {
			kind = KindInvalid
		}
		waits = waits && e.RetryAfter > 0
		retry = max(retry, e.RetryAfter)
	}
	if !waits {
		retry = 0
	}
	return &Error{Kind: kind, Code: errs[0].Code, RetryAfter: retry,
		Message: fmt.Sprintf("%d of the addresses could not be invited.", len(errs)), Details: errs}
}

func invitationInOrg(ctx context.Context, tx Tx, orgID, id string) (*Invitation, error) {
	id, isID := parseID(id)
	if !isID {
		return nil, errInviteNotFound
	}
	inv, err := tx.InvitationByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && inv.OrgID != orgID) {
		return nil, errInviteNotFound
	}
	return inv, err
}

// invitationClosedError explains why a closed invitation cannot be used.
// Revoked invitations look like unknown ones.
func invitationClosedError(inv *Invitation) error {
	switch inv.Status {
	case InvitationAccepted:
		return &Error{Kind: KindConflict, Code: CodeInviteUsed, Message: "Invitation was already accepted."}
	case InvitationDeclined:
		return &Error{Kind: KindConflict, Code: CodeInviteUsed, Message: "Invitation was declined."}
	}
	return errInviteNotFound
}

// closedMeanwhile explains the refusal of a request that found an
// invitation open but lost the race to close it to a concurrent accept,
// decline or revoke: the answer it would have had a moment later, as
// invitationClosedError gives it.
func closedMeanwhile(ctx context.Context, tx Tx, id string) error {
	inv, err := rereadClosed(ctx, tx, id)
	if err != nil {
		return err
	}
	return invitationClosedError(inv)
}

// rereadClosed reads again an invitation that another request closed.
func rereadClosed(ctx context.Context, tx Tx, id string) (*Invitation, error) {
	inv, err := tx.InvitationByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errInviteNotFound
	}
	return inv, err
}

// ListInvitations lists an organization's invitations in the given states,
// oldest first. Organization owners and admins may.
// Errors: organization.not_found, organization.invalid_access.
func (s *Service) ListInvitations(ctx context.Context, p *Principal, orgRef string, states []InvitationState) (*Organization, []*Invitation, error) {
	org, out, _, err := s.FilterInvitations(ctx, p, orgRef, InvitationFilter{States: states}, Page{})
	return org, out, err
}

// FilterInvitations lists one page of an organization's invitations that
// match f (its Now is set by the service), oldest first, and the cursor of
// the next page ("" at the end). The time of a page does not grow with the
// organization: pages follow the (created_at, id) index. Organization
// owners and admins may; an invitation promising a role the caller may not
// grant (owner, to an admin) comes without its sealed token, which only
// those who may revoke it see (see InvitationToken). Errors: as
// ListInvitations, and root.invalid_data for a bad limit or cursor.
func (s *Service) FilterInvitations(ctx context.Context, p *Principal, orgRef string, f InvitationFilter, page Page) (*Organization, []*Invitation, string, error) {
	after, err := page.check()
	if err != nil {
		return nil, nil, "", err
	}
	f.after, f.limit = after, page.Limit
	var org *Organization
	var m *Membership
	var out []*Invitation
	err = s.read(ctx, "list invitations", func(tx Tx) error {
		var err error
		if org, m, err = access(ctx, tx, p, orgRef, ActManageInvitations); err != nil {
			return err
		}
		if f.Inviter != "" {
			f.inviterID = "-"
			if u, err := findUser(ctx, tx, f.Inviter); err == nil {
				f.inviterID = u.ID
			} else if ErrorKind(err) != KindNotFound {
				return err
			}
		}
		f.Now = s.clock()
		out, err = tx.ListInvitations(ctx, org.ID, f)
		return err
	})
	if err != nil {
		return nil, nil, "", err
	}
	out, next := nextCursor(out, page.Limit, func(inv *Invitation) position { return position{inv.CreatedAt, inv.ID} })
	role := callerRole(p, m)
	for _, inv := range out {
		if !mayHandle(role, inv) {
			inv.TokenSealed = ""
		}
	}
	return org, out, next, nil
}

// EmailStatuses lists every state an invitation's email can be in.
var EmailStatuses = []EmailStatus{EmailNotRequested, EmailQueued, EmailSent, EmailFailed, EmailLogged}

// OpenStates are the states of invitations that are neither used nor revoked.
var OpenStates = []InvitationState{StatePending, StateExpired}

// InvitationToken returns the token of an invitation from its sealed copy,
// or "" when the copy was withheld from the caller (see FilterInvitations).
func (s *Service) InvitationToken(inv *Invitation) (string, error) {
	if inv.TokenSealed == "" {
		return "", nil
	}
	t, err := s.box.Open(inv.TokenSealed, inv.TokenHash)
	if err != nil {
		return "", Internal("open invitation token", err)
	}
	return t, nil
}

// tokenHash is the look-up key of a token, or "" for text that cannot be one.
func tokenHash(token string) string {
	if token == "" || len(token) > 128 {
		return ""
	}
	return HashSecret(token)
}

// GetInvitationByToken returns the invitation a token belongs to. Any
// authenticated caller holding the token may read it, with its organization.
// Errors: organization.invitation_not_found (unknown, superseded or revoked).
func (s *Service) GetInvitationByToken(ctx context.Context, p *Principal, token string) (*Invitation, *Organization, error) {
	var inv *Invitation
	var org *Organization
	err := s.read(ctx, "get invitation", func(tx Tx) error {
		var err error
		if inv, err = invitationByToken(ctx, tx, token); err != nil {
			return err
		}
		org, err = tx.OrganizationByID(ctx, inv.OrgID)
		return err
	})
	return inv, org, err
}

// invitationByToken returns the invitation a token belongs to, unless it
// was revoked: to the holder of the token, a revoked invitation is none.
func invitationByToken(ctx context.Context, tx Tx, token string) (*Invitation, error) {
	inv, err := anyInvitationByToken(ctx, tx, token)
	if err == nil && inv.Status == InvitationRevoked {
		return nil, errInviteNotFound
	}
	return inv, err
}

// anyInvitationByToken returns the invitation a token belongs to, revoked
// or not.
func anyInvitationByToken(ctx context.Context, tx Tx, token string) (*Invitation, error) {
	hash := tokenHash(token)
	if hash == "" {
		return nil, errInviteNotFound
	}
	inv, err := tx.InvitationByTokenHash(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return nil, errInviteNotFound
	}
	return inv, err
}

// AcceptInvitationByToken makes the caller a member with the invitation's
// roles. The caller's address must be verified, and match the invitation's
// unless the server accepts any address for token holders; accepting another
// address's invitation revokes the organization's open invitation to the
// caller's own (see revokeInvitationToMember). A revoked token is
// organization.invitation_not_found, but to a member when its invitation
// was revoked because its address became a member's (see refuseRevoked).
// Errors: user.email_unverified, organization.invitation_not_found, organization.invitation_email_mismatch,
// organization.invitation_expired, organization.invitation_already_used,
// organization.user_organization_already_belongs.
func (s *Service) AcceptInvitationByToken(ctx context.Context, p *Principal, token string) (*Membership, error) {
	if err := requireInvitee(p); err != nil {
		return nil, err
	}
	var m *Membership
	err := s.write(ctx, "accept invitation", func(tx Tx) error {
		inv, err := anyInvitationByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		m, err = s.accept(ctx, tx, p, inv, !s.limits.AcceptAnyEmail)
		return err
	})
	return m, err
}

// RespondToInvitation accepts or declines an invitation by id for its
// invitee: only a caller whose verified address is the invited one may
// respond (an unverified caller gets user.email_unverified), and to anyone
// else the invitation does not exist. Accepting returns the new
// membership; declining returns the declined invitation.
// Errors: as AcceptInvitationByToken.
func (s *Service) RespondToInvitation(ctx context.Context, p *Principal, id string, accept bool) (*Membership, *Invitation, error) {
	if p != nil && p.User != nil && !p.User.EmailVerified {
		return nil, nil, errEmailUnverified
	}
	var m *Membership
	var inv *Invitation
	err := s.write(ctx, "respond to invitation", func(tx Tx) error {
		var err error
		id, isID := parseID(id)
		if !isID || p.User == nil {
			return errInviteNotFound
		}
		inv, err = tx.InvitationByID(ctx, id)
		if errors.Is(err, ErrNotFound) || (err == nil && (inv.EmailNorm != p.User.EmailNorm || (inv.Status == InvitationRevoked && !accept))) {
			return errInviteNotFound
		}
		if err != nil {
			return err
		}
		if accept {
			m, err = s.accept(ctx, tx, p, inv, true)
			return err
		}
		return s.decline(ctx, tx, p, inv)
	})
	return m, inv, err
}

// DeclineInvitationByToken declines an invitation for the holder of its
// token. Errors: as AcceptInvitationByToken.
func (s *Service) DeclineInvitationByToken(ctx context.Context, p *Principal, token string) (*Invitation, error) {
	if err := requireInvitee(p); err != nil {
		return nil, err
	}
	var inv *Invitation
	err := s.write(ctx, "decline invitation", func(tx Tx) error {
		var err error
		if inv, err = invitationByToken(ctx, tx, token); err != nil {
			return err
		}
		if err := s.checkInvitee(p, inv, !s.limits.AcceptAnyEmail); err != nil {
			return err
		}
		return s.decline(ctx, tx, p, inv)
	})
	return inv, err
}

// errEmailUnverified refuses invitations to a user whose address is not verified.
var errEmailUnverified = &Error{Kind: KindForbidden, Code: CodeEmailUnverified,
	Message: "Your email address is not verified: invitations are listed and answered only for an address your identity provider has verified."}

// requireInvitee refuses callers that cannot answer invitations: orgd itself,
// and users whose address is not verified.
func requireInvitee(p *Principal) error {
	if p == nil || p.User == nil {
		return Errorf(KindForbidden, CodeInvalidAuth, "Only a signed-in user can respond to an invitation.")
	}
	if !p.User.EmailVerified {
		return errEmailUnverified
	}
	return nil
}

func (s *Service) checkInvitee(p *Principal, inv *Invitation, matchEmail bool) error {
	if err := requireInvitee(p); err != nil {
		return err
	}
	if matchEmail && p.User.EmailNorm != inv.EmailNorm {
		return &Error{Kind: KindForbidden, Code: CodeInviteMismatch, Message: "This invitation was sent to another email address than yours."}
	}
	return nil
}

// accept makes p a member by inv, which may be closed, or refuses with the
// reason: for a revoked invitation, the refusal of refuseRevoked.
func (s *Service) accept(ctx context.Context, tx Tx, p *Principal, inv *Invitation, matchEmail bool) (*Membership, error) {
	if inv.Status == InvitationRevoked {
		return nil, s.refuseRevoked(ctx, tx, p, inv, matchEmail)
	}
	if err := s.checkInvitee(p, inv, matchEmail); err != nil {
		return nil, err
	}
	now := s.clock()
	if err := usable(inv, now); err != nil {
		// A member hears that first, whatever became of the invitation.
		if _, merr := tx.Membership(ctx, inv.OrgID, p.User.ID); merr == nil {
			return nil, errAlreadyMember
		} else if !errors.Is(merr, ErrNotFound) {
			return nil, merr
		}
		return nil, err
	}
	// A member accepting a usable invitation is told so by the membership
	// insert below, which then rolls back the close: no look-up first.
	won, err := tx.CloseInvitation(ctx, inv.ID, InvitationAccepted, now, p.User.ID, "")
	if err != nil {
		return nil, err
	}
	if !won {
		// Closed by another request since the read (a revoke because p
		// was made a member, say): the answer of a moment later.
		cur, err := rereadClosed(ctx, tx, inv.ID)
		if err != nil {
			return nil, err
		}
		if cur.Status == InvitationRevoked {
			return nil, s.refuseRevoked(ctx, tx, p, cur, matchEmail)
		}
		return nil, invitationClosedError(cur)
	}
	var revoked []change
	if inv.EmailNorm != p.User.EmailNorm {
		// Another address's invitation (ORGD_ACCEPT_ANY_EMAIL): the
		// caller's own may be open too.
		if revoked, err = s.revokeInvitationToMember(ctx, tx, p.User, inv.OrgID); err != nil {
			return nil, err
		}
	}
	m := &Membership{OrgID: inv.OrgID, UserID: p.User.ID, Roles: inv.Roles, Role: inv.Roles.TopRole(inv.OrgID), MemberSince: now,
		Email: p.User.Email, Name: p.User.Name}
	if err := tx.InsertMembership(ctx, m); errors.Is(err, ErrConflict) {
		return nil, errAlreadyMember
	} else if err != nil {
		return nil, err
	}
	inv.Status, inv.RespondedAt, inv.AcceptedUserID = InvitationAccepted, now, p.User.ID
	changes := append([]change{
		{action: AuditInvitationAccepted, targetType: "invitation", targetID: inv.ID, subject: inv,
			details: map[string]any{"email": inv.Email, "user_id": p.User.ID}},
		{action: AuditMemberAdded, targetType: "member", targetID: p.User.ID, subject: memberChange{Membership: m, invitationID: inv.ID},
			details: map[string]any{"email": p.User.Email, "role": m.Role, "invitation_id": inv.ID}},
	}, revoked...)
	if err := s.record(ctx, tx, p, inv.OrgID, changes...); err != nil {
		return nil, err
	}
	return m, nil
}

// reasonMemberAddress is why revokeInvitationToMember revokes, in the
// details of its audit event.
const reasonMemberAddress = "the address is a member's"

// revokeInvitationToMember revokes the open invitation (expired or not) of
// organization orgID to the verified address of u, who is a member of it or
// becomes one in the transaction: an organization never lists an open
// invitation to a member's verified address. Such an invitation could only
// be refused (organization.user_organization_already_belongs), as inviting
// the address is, yet it would hold a seat and Elastic's clients read every
// listed invitation as a member to come (the ec Terraform provider showed
// the member as pending, then deleted the invitation and failed to change
// the member's role). An unverified address proves nothing: its invitation
// stays for whoever controls the address. The invitation keeps the reason
// (RevokedToMember), so that its link can tell its holder that the address
// is a member's (see ViewInvitation). Every path that makes u a member of
// orgID otherwise than by accepting the invitation to u's own address
// calls it, and so does a change of u's address (followEmail).
//
// It returns the revoke's change (none when there is no such invitation or
// another request closed it first), which the caller records with its own,
// by whoever made the change and with the reason in its details. A caller
// that writes u's membership calls it before that write, as an accept
// closes its invitation before writing the membership: every writer then
// takes an invitation's row before a membership's key, so an add racing
// the accept of the address's invitation waits for it and hears that the
// user belongs already, where the other order deadlocked (which PostgreSQL
// breaks only after deadlock_timeout, a second, for the store to run the
// loser again).
func (s *Service) revokeInvitationToMember(ctx context.Context, tx Tx, u *User, orgID string) ([]change, error) {
	if !u.EmailVerified {
		return nil, nil
	}
	known, err := tx.Invitees(ctx, orgID, []string{u.EmailNorm})
	if err != nil {
		return nil, err
	}
	inv := known.Open[u.EmailNorm]
	if inv == nil {
		return nil, nil
	}
	c, err := s.revoking(ctx, tx, inv, RevokedToMember,
		map[string]any{"email": inv.Email, "user_id": u.ID, "reason": reasonMemberAddress})
	if err != nil || c == nil {
		return nil, err
	}
	return []change{*c}, nil
}

// revoking is the one way an invitation is revoked: it closes inv, open
// when read, as revoked for reason ("" for a revoke by hand), and returns
// the change, with details, that the caller records (and so announces) in
// the same transaction. It returns nil, having written nothing, when
// another request closed the invitation first.
func (s *Service) revoking(ctx context.Context, tx Tx, inv *Invitation, reason RevokeReason, details map[string]any) (*change, error) {
	now := s.clock()
	won, err := tx.CloseInvitation(ctx, inv.ID, InvitationRevoked, now, "", reason)
	if err != nil || !won {
		return nil, err
	}
	inv.Status, inv.RespondedAt, inv.RevokeReason = InvitationRevoked, now, reason
	return &change{action: AuditInvitationRevoked, targetType: "invitation", targetID: inv.ID, details: details, subject: inv}, nil
}

// refuseRevoked is the answer to p's accepting revoked invitation inv:
// organization.user_organization_already_belongs when p is a member of its
// organization, could have accepted it (p's address is the invited one, if
// matchEmail), and the invitation is one whose link still says that its
// address is a member's (revokedToCurrentMember, the page's rule); else
// organization.invitation_not_found, as for an unknown token. So a member
// who accepts the invitation that making them a member revoked hears what
// they would have heard had it been accepted, expired or declined, and a
// revoked token still tells no one else anything, nor more than its page.
// An invitation an administrator revoked stays unknown to everyone.
func (s *Service) refuseRevoked(ctx context.Context, tx Tx, p *Principal, inv *Invitation, matchEmail bool) error {
	if p == nil || p.User == nil || (matchEmail && p.User.EmailNorm != inv.EmailNorm) {
		return errInviteNotFound
	}
	member, err := revokedToCurrentMember(ctx, tx, inv, s.clock())
	if err != nil {
		return err
	}
	if !member {
		return errInviteNotFound
	}
	_, err = tx.Membership(ctx, inv.OrgID, p.User.ID)
	if errors.Is(err, ErrNotFound) {
		return errInviteNotFound
	}
	if err != nil {
		return err
	}
	return errAlreadyMember
}

// revokedToCurrentMember reports whether inv was revoked because its
// address became a member's (revokeInvitationToMember), still is one, and
// was not due to expire by now: the organization has a member with that
// verified address, as the revoke decided. A member who has left since, or
// whose address has changed, is not; nor is one whose invitation would
// have expired (its link then says no more than any other old link).
func revokedToCurrentMember(ctx context.Context, tx Tx, inv *Invitation, now time.Time) (bool, error) {
	if inv.Status != InvitationRevoked || inv.RevokeReason != RevokedToMember || !now.Before(inv.ExpiresAt) {
		return false, nil
	}
	known, err := tx.Invitees(ctx, inv.OrgID, []string{inv.EmailNorm})
	return known.Members[inv.EmailNorm], err
}

func (s *Service) decline(ctx context.Context, tx Tx, p *Principal, inv *Invitation) error {
	now := s.clock()
	if err := usable(inv, now); err != nil {
		return err
	}
	won, err := tx.CloseInvitation(ctx, inv.ID, InvitationDeclined, now, "", "")
	if err != nil {
		return err
	}
	if !won {
		return closedMeanwhile(ctx, tx, inv.ID)
	}
	inv.Status, inv.RespondedAt = InvitationDeclined, now
	return s.audit(ctx, tx, p, inv.OrgID, AuditInvitationDeclined, "invitation", inv.ID, map[string]any{"email": inv.Email}, inv)
}

// usable reports why an invitation cannot be answered now, if it cannot.
func usable(inv *Invitation, now time.Time) error {
	switch inv.State(now) {
	case StatePending:
		return nil
	case StateExpired:
		return &Error{Kind: KindInvalid, Code: CodeInviteExpired,
			Message: fmt.Sprintf("Invitation expired at %s; ask an organization admin to resend it.", inv.ExpiresAt.Format(time.RFC3339))}
	}
	return invitationClosedError(inv)
}

// RevokeInvitationsByToken revokes open invitations of an organization by
// token, all or none. Organization owners and admins may; only owners may
// revoke invitations that promise the owner role.
// Errors: root.invalid_data (no token), organization.not_found,
// organization.invalid_access, organization.invitation_not_found.
func (s *Service) RevokeInvitationsByToken(ctx context.Context, p *Principal, orgRef string, tokens []string) error {
	tokens = slices.DeleteFunc(slices.Clone(tokens), func(t string) bool { return t == "" })
	// A token named twice is revoked once: all or none is about the set.
	slices.Sort(tokens)
	tokens = slices.Compact(tokens)
	if len(tokens) == 0 {
		return FieldError(CodeInvalidData, "invitation_tokens", "No valid invitation token was supplied.")
	}
	return s.write(ctx, "revoke invitations", func(tx Tx) error {
		org, m, err := access(ctx, tx, p, orgRef, ActManageInvitations)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			inv, err := invitationByToken(ctx, tx, t)
			if err == nil && (inv.OrgID != org.ID || inv.Status != InvitationOpen) {
				err = errInviteNotFound
			}
			if err != nil {
				return err
			}
			// Closed by another request since the read: not an open
			// invitation, as it would have been a moment later.
			if err := s.revoke(ctx, tx, p, m, inv); errors.Is(err, errClosedMeanwhile) {
				return errInviteNotFound
			} else if err != nil {
				return err
			}
		}
		return nil
	})
}

// RevokeInvitation revokes one invitation by id. It returns the revoked
// invitation. Errors: as RevokeInvitationsByToken, and
// organization.invitation_already_used for an accepted or declined one.
func (s *Service) RevokeInvitation(ctx context.Context, p *Principal, orgRef, id string) (*Invitation, error) {
	var inv *Invitation
	err := s.write(ctx, "revoke invitation", func(tx Tx) error {
		org, m, err := access(ctx, tx, p, orgRef, ActManageInvitations)
		if err != nil {
			return err
		}
		if inv, err = invitationInOrg(ctx, tx, org.ID, id); err != nil {
			return err
		}
		if inv.Status != InvitationOpen {
			return invitationClosedError(inv)
		}
		if err := s.revoke(ctx, tx, p, m, inv); errors.Is(err, errClosedMeanwhile) {
			return closedMeanwhile(ctx, tx, inv.ID)
		} else if err != nil {
			return err
		}
		return nil
	})
	return inv, err
}

// errClosedMeanwhile reports that another request closed an invitation
// between its read and its revoke; each way of revoking answers as it would
// have a moment later.
var errClosedMeanwhile = errors.New("the invitation was closed meanwhile")

func (s *Service) revoke(ctx context.Context, tx Tx, p *Principal, m *Membership, inv *Invitation) error {
	if !mayHandle(callerRole(p, m), inv) {
		return errRolesForbidden("Only owners may revoke invitations for owners.")
	}
	c, err := s.revoking(ctx, tx, inv, "", map[string]any{"email": inv.Email})
	if err != nil {
		return err
	}
	if c == nil {
		return errClosedMeanwhile
	}
	return s.record(ctx, tx, p, inv.OrgID, *c)
}

// ListMyInvitations lists the caller's pending invitations in every
// organization, matched by the caller's address, which must be verified.
// Errors: user.email_unverified.
func (s *Service) ListMyInvitations(ctx context.Context, p *Principal) ([]*Invitation, error) {
	if p.User == nil {
		return nil, nil
	}
	if !p.User.EmailVerified {
		return nil, errEmailUnverified
	}
	var out []*Invitation
	err := s.read(ctx, "list my invitations", func(tx Tx) error {
		var err error
		out, err = tx.ListPendingInvitationsForEmail(ctx, p.User.EmailNorm, s.clock())
		return err
	})
	return out, err
}
