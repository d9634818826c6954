package server_test

import (
	"maps"
	"slices"
	"time"

	"github.com/orgd/orgd"
)

// This file is a model of orgd's rules for one organization, as
// docs/elastic-compatibility.md, docs/slug-api.md and docs/errors.md state
// them: members with roles, invitations with states, and the answer each
// request gets. It knows nothing of HTTP or storage; property_test.go
// drives the real server and the model side by side.

// roles are the organization roles of a member or an invitation: a set, in
// catalog order (strongest first).
type roles []orgd.Role

func newRoles(rs ...orgd.Role) roles {
	out := roles{}
	for _, r := range orgd.Roles {
		if slices.Contains(rs, r) {
			out = append(out, r)
		}
	}
	return out
}

func (rs roles) top() orgd.Role {
	if len(rs) == 0 {
		return ""
	}
	return rs[0]
}

// acting is the role a member acts with: one without an organization role
// is a reader.
func (rs roles) acting() orgd.Role {
	if len(rs) == 0 {
		return orgd.RoleReader
	}
	return rs[0]
}

// manages: owners and organization admins manage members and invitations.
func manages(r orgd.Role) bool { return r == orgd.RoleOwner || r == orgd.RoleOrgAdmin }

// mayGrant: only owners give, change or take the owner role; managers the
// rest.
func mayGrant(caller, target orgd.Role) bool {
	if target == orgd.RoleOwner {
		return caller == orgd.RoleOwner
	}
	return manages(caller)
}

// Invitation statuses; open ones are pending or expired by the clock.
const (
	open     = "open"
	accepted = "accepted"
	declined = "declined"
	revoked  = "revoked"
)

type invitation struct {
	id, email, norm string // email as first given
	inviter         string // the user id of the first inviter
	roles           roles
	status          string
	created, issued time.Time
	expires         time.Time
	responded       time.Time // accepted, declined or revoked
	emailStatus     orgd.EmailStatus
	token           string   // the working token; "" until the model has seen it
	stale           []string // tokens replaced by a refresh or resend
	// toMember: revoked because its address became a member's (addMember).
	toMember bool
}

func (inv *invitation) state(now time.Time) string {
	switch {
	case inv.status != open:
		return inv.status
	case now.Before(inv.expires):
		return "pending"
	}
	return "expired"
}

// person is a user (or, with no id, an address without one).
type person struct {
	name, id, norm string
}

// model is one organization.
type model struct {
	now        time.Time
	limits     orgd.Limits
	maxMembers int // members plus pending invitations; 0: no limit
	// allowedDomains are the only domains invited when external
	// invitations are off.
	allowExternal  bool
	allowedDomains []string
	people         []*person
	members        map[string]roles     // by user id
	joined         map[string]time.Time // by user id
	invs           []*invitation
}

// outcome is the answer to a request on each surface: success, or an error
// with its status on the Elastic and the slug surface, its code, and the
// wait its Retry-After names (none when 0; anyWait when the model does not
// say).
type outcome struct {
	elastic, slug int
	code          string
	retry         time.Duration
}

const anyWait = -1

var success outcome

func notFound(code string) outcome  { return outcome{404, 404, code, 0} }
func forbidden(code string) outcome { return outcome{403, 403, code, 0} }
func conflict(code string) outcome  { return outcome{400, 409, code, 0} } // Elastic answers conflicts with 400
func invalid(code string) outcome   { return outcome{400, 400, code, 0} }

// invalidField is invalid input that names a field: 422 on the slug surface.
func invalidField(code string) outcome { return outcome{400, 422, code, 0} }

func (m *model) member(userID string) (roles, bool) {
	rs, ok := m.members[userID]
	return rs, ok
}

// access is the caller's role for reading the organization or, with
// manage, managing it; outsiders cannot tell it exists.
func (m *model) access(caller *person, manage bool) (orgd.Role, outcome) {
	rs, ok := m.member(caller.id)
	if !ok {
		return "", notFound(orgd.CodeOrgNotFound)
	}
	if manage && !manages(rs.acting()) {
		return rs.acting(), forbidden(orgd.CodeOrgInvalidAccess)
	}
	return rs.acting(), success
}

// keepsManagers refuses a change of members that would leave the
// organization without an owner, or without a member able to manage it.
func (m *model) keepsManagers(change func(after map[string]roles)) outcome {
	after := maps.Clone(m.members)
	change(after)
	count := func(ms map[string]roles, is func(orgd.Role) bool) int {
		n := 0
		for _, rs := range ms {
			if is(rs.top()) {
				n++
			}
		}
		return n
	}
	isOwner := func(r orgd.Role) bool { return r == orgd.RoleOwner }
	if count(m.members, isOwner) > 0 && count(after, isOwner) == 0 {
		return conflict(orgd.CodeLastOwner)
	}
	if count(m.members, manages) > 0 && count(after, manages) == 0 {
		return conflict(orgd.CodeLastAdmin)
	}
	return success
}

func (m *model) personByNorm(norm string) *person {
	for _, p := range m.people {
		if p.norm == norm && p.id != "" {
			return p
		}
	}
	return nil
}

func (m *model) openInvitation(norm string) *invitation {
	for _, inv := range m.invs {
		if inv.norm == norm && inv.status == open {
			return inv
		}
	}
	return nil
}

func (m *model) byID(id string) *invitation {
	for _, inv := range m.invs {
		if inv.id == id {
			return inv
		}
	}
	return nil
}

// byToken finds the invitation a token works for: a replaced token works
// for none.
func (m *model) byToken(token string) *invitation {
	for _, inv := range m.invs {
		if inv.token != "" && inv.token == token {
			return inv
		}
	}
	return nil
}

// invite creates or, with refresh (the Elastic create-or-refresh),
// refreshes invitations, all or none. It returns the invitations issued,
// in the order of their first address, and the code of every bad address.
func (m *model) invite(caller *person, emails []string, rs roles, expiresIn string, refresh, sendEmail bool) ([]*invitation, []string, outcome) {
	ttl := m.limits.DefaultExpiry
	if expiresIn != "" {
		d, err := orgd.ParseDuration(expiresIn)
		if err != nil || d < m.limits.MinExpiry || d > m.limits.MaxExpiry {
			return nil, nil, invalidField(orgd.CodeInviteExpiry)
		}
		ttl = d
	}
	role, o := m.access(caller, true)
	if o.code == orgd.CodeOrgNotFound {
		return nil, nil, notFound(orgd.CodeSenderNotMember)
	}
	if o != success {
		return nil, nil, o
	}
	for _, r := range rs {
		if !mayGrant(role, r) {
			return nil, nil, forbidden(orgd.CodeRolesForbidden)
		}
	}
	var issued []*invitation
	var bad []outcome
	seen := map[string]bool{}
	for _, s := range emails {
		e, err := orgd.ParseEmail(s)
		if err != nil {
			bad = append(bad, invalidField(orgd.CodeInviteInvalidMail))
			continue
		}
		if seen[e.Norm] {
			continue
		}
		seen[e.Norm] = true
		if !m.domainAllowed(e.Norm) {
			bad = append(bad, invalidField(orgd.CodeInviteDomain))
			continue
		}
		if p := m.personByNorm(e.Norm); p != nil {
			if _, ok := m.member(p.id); ok {
				bad = append(bad, conflict(orgd.CodeAlreadyMember))
				continue
			}
		}
		inv := m.openInvitation(e.Norm)
		switch {
		case inv == nil:
			issued = append(issued, &invitation{email: e.Address, norm: e.Norm, inviter: caller.id, status: open, created: m.now})
		case !refresh:
			bad = append(bad, conflict(orgd.CodeInviteExists))
		case !mayGrant(role, inv.roles.top()):
			// Refreshing changes the invitation: only owners manage
			// invitations for owners, as with resend and revoke.
			bad = append(bad, forbidden(orgd.CodeRolesForbidden))
		case m.cooling(inv) != success:
			bad = append(bad, m.cooling(inv))
		default:
			issued = append(issued, inv)
		}
	}
	if len(bad) > 0 {
		var codes []string
		for _, b := range bad {
			codes = append(codes, b.code)
		}
		// Several bad addresses: the answer has the status of all of
		// them, or is an invalid request.
		answer := bad[0]
		for _, b := range bad[1:] {
			if b.elastic != answer.elastic {
				answer.elastic = 400
			}
			answer.retry = anyWait
		}
		return nil, codes, answer
	}
	if o := m.limitsAllow(issued); o != success {
		return nil, nil, o
	}
	for _, inv := range issued {
		if !slices.Contains(m.invs, inv) {
			m.invs = append(m.invs, inv)
		}
		m.reissue(inv, ttl, sendEmail)
		inv.roles = rs
	}
	return issued, nil, success
}

// cooling refuses to re-issue an invitation within the cooldown of its
// last issue.
func (m *model) cooling(inv *invitation) outcome {
	if wait := inv.issued.Add(m.limits.RefreshCooldown).Sub(m.now); wait > 0 {
		o := conflict(orgd.CodeInviteExists)
		o.retry = wait
		return o
	}
	return success
}

// limitsAllow checks the organization's limits for issuing invitations
// (new ones and re-issues of the model's): max_members counts members
// and pending invitations, the hourly limit the invitations issued in the
// past hour, each once however often it was re-issued.
func (m *model) limitsAllow(issue []*invitation) outcome {
	added, need := 0, 0
	since := m.now.Add(-time.Hour)
	for _, inv := range issue {
		isNew := !slices.Contains(m.invs, inv)
		if isNew || inv.state(m.now) == "expired" {
			added++
		}
		if isNew || !inv.issued.After(since) {
			need++
		}
	}
	if m.maxMembers > 0 && added > 0 {
		pending := 0
		for _, inv := range m.invs {
			if inv.state(m.now) == "pending" {
				pending++
			}
		}
		if len(m.members)+pending+added > m.maxMembers {
			return conflict(orgd.CodeMemberLimit)
		}
	}
	var window []time.Time
	for _, inv := range m.invs {
		if inv.issued.After(since) {
			window = append(window, inv.issued)
		}
	}
	excess := len(window) + need - m.limits.InvitesPerHour
	if m.limits.InvitesPerHour <= 0 || need == 0 || excess <= 0 {
		return success
	}
	// Retry when enough of the past hour's invitations have left it.
	wait := time.Hour
	if excess <= len(window) {
		slices.SortFunc(window, time.Time.Compare)
		wait = window[excess-1].Add(time.Hour).Sub(m.now)
	}
	return outcome{429, 429, orgd.CodeInviteRateLimit, wait}
}

// reissue gives an invitation a new token (not yet seen) and expiry, and
// queues its email if sendEmail (nobody sends it in these tests).
func (m *model) reissue(inv *invitation, ttl time.Duration, sendEmail bool) {
	if inv.token != "" {
		inv.stale = append(inv.stale, inv.token)
	}
	inv.token, inv.issued, inv.expires = "", m.now, m.now.Add(ttl)
	inv.emailStatus = orgd.EmailNotRequested
	if sendEmail {
		inv.emailStatus = orgd.EmailQueued
	}
}

// close answers or revokes an invitation.
func (m *model) close(inv *invitation, status string) {
	inv.status, inv.responded = status, m.now
}

// usable says why an invitation cannot be answered now, if it cannot.
func (m *model) usable(inv *invitation) outcome {
	switch inv.state(m.now) {
	case "expired":
		return invalid(orgd.CodeInviteExpired)
	case accepted, declined:
		return conflict(orgd.CodeInviteUsed)
	case revoked:
		return notFound(orgd.CodeInviteNotFound)
	}
	return success
}

func (m *model) join(p *person, inv *invitation) {
	m.close(inv, accepted)
	m.members[p.id], m.joined[p.id] = inv.roles, m.now
}

// revokedToMember answers p's accepting revoked invitation inv: p, the
// invitee, hears that they belong already while they are a member, when
// adding them revoked it, until it would have expired; to anyone else it
// does not exist.
func (m *model) revokedToMember(p *person, inv *invitation) outcome {
	if _, ok := m.member(p.id); ok && inv.toMember && p.norm == inv.norm && m.now.Before(inv.expires) {
		return conflict(orgd.CodeAlreadyMember)
	}
	return notFound(orgd.CodeInviteNotFound)
}

// acceptByToken: the holder of a token whose address is the invited one
// becomes a member.
func (m *model) acceptByToken(p *person, token string) outcome {
	inv := m.byToken(token)
	if inv == nil {
		return notFound(orgd.CodeInviteNotFound)
	}
	if inv.status == revoked {
		return m.revokedToMember(p, inv)
	}
	if p.norm != inv.norm {
		return forbidden(orgd.CodeInviteMismatch)
	}
	if _, ok := m.member(p.id); ok {
		return conflict(orgd.CodeAlreadyMember)
	}
	if o := m.usable(inv); o != success {
		return o
	}
	m.join(p, inv)
	return success
}

// respond: only the invitee may accept or decline by id; to anyone else
// the invitation does not exist.
func (m *model) respond(p *person, id string, accept bool) outcome {
	inv := m.byID(id)
	if inv == nil || inv.norm != p.norm || (inv.status == revoked && !accept) {
		return notFound(orgd.CodeInviteNotFound)
	}
	if inv.status == revoked {
		return m.revokedToMember(p, inv)
	}
	if _, ok := m.member(p.id); ok && accept {
		return conflict(orgd.CodeAlreadyMember)
	}
	if o := m.usable(inv); o != success {
		return o
	}
	if accept {
		m.join(p, inv)
	} else {
		m.close(inv, declined)
	}
	return success
}

// addMember is orgd admin member add: the user becomes a member with one
// organization role, and the open invitation to its address (every user
// here has a verified one) is revoked, so that it holds no seat besides
// the membership; max_members counts members and pending invitations.
func (m *model) addMember(p *person, role orgd.Role) outcome {
	if p.id == "" {
		return notFound(orgd.CodeUserNotFound)
	}
	if _, ok := m.member(p.id); ok {
		return conflict(orgd.CodeAlreadyMember)
	}
	inv := m.openInvitation(p.norm)
	if m.maxMembers > 0 {
		pending := 0
		for _, other := range m.invs {
			if other != inv && other.state(m.now) == "pending" {
				pending++
			}
		}
		if len(m.members)+pending+1 > m.maxMembers {
			return conflict(orgd.CodeMemberLimit)
		}
	}
	if inv != nil {
		m.close(inv, revoked)
		inv.toMember = true
	}
	m.members[p.id], m.joined[p.id] = newRoles(role), m.now
	return success
}

// closed says why a closed invitation cannot be revoked or resent:
// revoked ones look unknown.
func closed(inv *invitation) outcome {
	if inv.status == revoked {
		return notFound(orgd.CodeInviteNotFound)
	}
	return conflict(orgd.CodeInviteUsed)
}

// revokeByID revokes one open invitation; only owners revoke invitations
// for owners.
func (m *model) revokeByID(caller *person, id string) outcome {
	role, o := m.access(caller, true)
	if o != success {
		return o
	}
	inv := m.byID(id)
	switch {
	case inv == nil:
		return notFound(orgd.CodeInviteNotFound)
	case inv.status != open:
		return closed(inv)
	case !mayGrant(role, inv.roles.top()):
		return forbidden(orgd.CodeRolesForbidden)
	}
	m.close(inv, revoked)
	return success
}

// revokeByTokens revokes open invitations by token, all or none. It
// returns every answer the rules allow: any refused token may be the one
// reported.
func (m *model) revokeByTokens(caller *person, tokens []string) []outcome {
	role, o := m.access(caller, true)
	if o != success {
		return []outcome{o}
	}
	var refused []outcome
	for _, t := range tokens {
		inv := m.byToken(t)
		switch {
		case inv == nil || inv.status != open:
			refused = append(refused, notFound(orgd.CodeInviteNotFound))
		case !mayGrant(role, inv.roles.top()):
			refused = append(refused, forbidden(orgd.CodeRolesForbidden))
		}
	}
	if len(refused) > 0 {
		return refused
	}
	for _, t := range tokens {
		m.close(m.byToken(t), revoked)
	}
	return []outcome{success}
}

// domainAllowed reports whether the organization invites an address.
func (m *model) domainAllowed(norm string) bool {
	return m.allowExternal || slices.Contains(m.allowedDomains, orgd.EmailDomain(norm))
}

// resend re-issues an open invitation with its previous lifetime, outside
// the cooldown.
func (m *model) resend(caller *person, id string, sendEmail bool) (*invitation, outcome) {
	role, o := m.access(caller, true)
	if o != success {
		return nil, o
	}
	inv := m.byID(id)
	switch {
	case inv == nil:
		return nil, notFound(orgd.CodeInviteNotFound)
	case !mayGrant(role, inv.roles.top()):
		return nil, forbidden(orgd.CodeRolesForbidden)
	case inv.status != open:
		return nil, closed(inv)
	case !m.domainAllowed(inv.norm):
		return nil, invalid(orgd.CodeInviteDomain)
	case m.cooling(inv) != success:
		return nil, m.cooling(inv)
	}
	if o := m.limitsAllow([]*invitation{inv}); o != success {
		return nil, o
	}
	m.reissue(inv, inv.expires.Sub(inv.issued), sendEmail)
	return inv, success
}

// setRoles replaces a member's organization roles with next, within the
// owner and last-manager rules. denied is the answer when the caller may
// not manage members.
func (m *model) setRoles(caller *person, targetID string, next func(roles) roles, denied, notMember outcome) outcome {
	role, o := m.access(caller, true)
	if o != success {
		return denied
	}
	cur, ok := m.member(targetID)
	if !ok {
		return notMember
	}
	n := next(cur)
	if !mayGrant(role, cur.top()) || !mayGrant(role, n.top()) {
		return forbidden(orgd.CodeRolesForbidden)
	}
	if o := m.keepsManagers(func(after map[string]roles) { after[targetID] = n }); o != success {
		return o
	}
	m.members[targetID] = n
	return success
}

// setRole is the slug PUT: the member's organization roles become role.
func (m *model) setRole(caller *person, targetID string, role orgd.Role) outcome {
	_, denied := m.access(caller, true)
	return m.setRoles(caller, targetID, func(roles) roles { return newRoles(role) }, denied, notFound(orgd.CodeMembershipMissing))
}

// changeRole is the Elastic role_assignments: add (or remove) one
// organization role, in the organization or (without organization_id) in
// the target's only organization among the caller's. Callers are members;
// a target outside the organization shares none with them, and is
// invalid whoever asks.
func (m *model) changeRole(caller *person, targetID string, role orgd.Role, remove bool) outcome {
	if _, ok := m.member(targetID); !ok {
		return invalid(orgd.CodeInvalidTarget)
	}
	return m.setRoles(caller, targetID, func(cur roles) roles {
		if remove {
			return slices.DeleteFunc(slices.Clone(cur), func(r orgd.Role) bool { return r == role })
		}
		return newRoles(append(slices.Clone(cur), role)...)
	}, forbidden(orgd.CodeRolesForbidden), invalid(orgd.CodeInvalidTarget))
}

// removeMembers removes members, all or none: members may leave;
// managers remove others, owners owners. A user named twice is removed
// once.
func (m *model) removeMembers(caller *person, targets []*person) outcome {
	role, o := m.access(caller, false)
	if o != success {
		return o
	}
	var gone []string
	for _, target := range targets {
		if slices.Contains(gone, target.id) {
			continue
		}
		if target.id == "" {
			return notFound(orgd.CodeUserNotFound)
		}
		cur, ok := m.member(target.id)
		if !ok {
			return notFound(orgd.CodeMembershipMissing)
		}
		if target.id != caller.id {
			if !manages(role) {
				return forbidden(orgd.CodeOrgInvalidAccess)
			}
			if !mayGrant(role, cur.top()) {
				return forbidden(orgd.CodeRolesForbidden)
			}
		}
		gone = append(gone, target.id)
	}
	remove := func(ms map[string]roles) {
		for _, id := range gone {
			delete(ms, id)
		}
	}
	if o := m.keepsManagers(remove); o != success {
		return o
	}
	remove(m.members)
	return success
}

// updateInvitePolicy sets whether anyone may be invited or only addresses
// at domains. Managers may.
func (m *model) updateInvitePolicy(caller *person, allowExternal bool, domains []string) outcome {
	if _, o := m.access(caller, true); o != success {
		return o
	}
	m.allowExternal, m.allowedDomains = allowExternal, domains
	return success
}

// pendingFor lists the ids of the pending invitations to p's address.
func (m *model) pendingFor(p *person) []string {
	ids := []string{}
	for _, inv := range m.invs {
		if inv.norm == p.norm && inv.state(m.now) == "pending" {
			ids = append(ids, inv.id)
		}
	}
	return ids
}
