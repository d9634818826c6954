package orgd

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// WebhookEventTypes lists every event a webhook endpoint can receive: the
// audit actions of invitations and members.
var WebhookEventTypes = []string{
	AuditInvitationCreated, AuditInvitationRefreshed, AuditInvitationAccepted, AuditInvitationDeclined,
	AuditInvitationRevoked, AuditInvitationExpired, AuditMemberAdded, AuditMemberRemoved, AuditMemberRolesChanged,
}

// WebhookSecretPrefix starts every signing secret, as the Standard Webhooks
// specification writes them: whsec_ and the base64 of the key's bytes.
const WebhookSecretPrefix = "whsec_"

const (
	maxWebhookURL         = 2000
	maxWebhookDescription = 200
	// MaxWebhookEndpoints bounds the endpoints of one organization, and the
	// server-wide ones.
	MaxWebhookEndpoints = 20
)

// WebhookEndpoint is a URL that receives an organization's events (OrgID
// set) or every organization's (OrgID empty: registered by the server's
// operator), with the outcome of its latest delivery attempt.
type WebhookEndpoint struct {
	ID           string
	OrgID        string
	URL          string
	Events       []string // the event types it receives; empty for all
	Description  string
	SecretSealed string // the signing secret sealed under the server key
	CreatedAt    time.Time

	LastAttemptAt       time.Time // zero before the first attempt
	LastSuccessAt       time.Time
	LastStatus          int    // HTTP status of the last attempt; 0 if it got no answer
	LastError           string // why the last attempt failed; "" after a success
	ConsecutiveFailures int    // failed attempts since the last success
}

// Receives reports whether the endpoint subscribes to an event type.
func (e *WebhookEndpoint) Receives(eventType string) bool {
	return len(e.Events) == 0 || slices.Contains(e.Events, eventType)
}

// WebhookEndpointRequest asks for a new endpoint.
type WebhookEndpointRequest struct {
	URL         string
	Events      []string // empty: every event type
	Description string
}

// CreatedWebhookEndpoint is a new endpoint with its signing secret in
// clear: the only moment it exists outside the database.
type CreatedWebhookEndpoint struct {
	*WebhookEndpoint
	Secret string
}

var errWebhookNotFound = &Error{Kind: KindNotFound, Code: CodeWebhookNotFound, Message: "Webhook endpoint not found."}

// CreateWebhookEndpoint registers an endpoint for the events of an
// organization, or with orgRef "" for those of every organization (platform
// administrators only). Owners and organization admins may register their
// organization's. The answer carries the signing secret, shown once.
// Errors: organization.not_found, organization.invalid_access,
// webhook.invalid_url, webhook.invalid_event, root.invalid_data (description),
// webhook.limit_exceeded.
func (s *Service) CreateWebhookEndpoint(ctx context.Context, p *Principal, orgRef string, req WebhookEndpointRequest) (*CreatedWebhookEndpoint, error) {
	rawURL, err := CheckWebhookURL(req.URL, s.limits.WebhookAllowPrivate)
	if err != nil {
		return nil, err
	}
	events, err := checkWebhookEvents(req.Events)
	if err != nil {
		return nil, err
	}
	desc := strings.TrimSpace(req.Description)
	if utf8.RuneCountInString(desc) > maxWebhookDescription || !PlainText(desc) {
		return nil, FieldError(CodeInvalidData, "description", "The description must be at most %d characters, without line breaks or control characters.", maxWebhookDescription)
	}
	secret := newWebhookSecret()
	e := &WebhookEndpoint{ID: uuid.Must(uuid.NewV7()).String(), URL: rawURL, Events: events, Description: desc, CreatedAt: s.clock()}
	e.SecretSealed = s.box.Seal(secret, webhookSealContext(e.ID))
	err = s.write(ctx, "create webhook endpoint", func(tx Tx) error {
		if err := webhookScope(ctx, tx, p, orgRef, &e.OrgID); err != nil {
			return err
		}
		if orgRef != "" {
			if err := tx.LockOrganization(ctx, e.OrgID); err != nil {
				return err
			}
		}
		n, err := tx.CountWebhookEndpoints(ctx, e.OrgID)
		if err != nil {
			return err
		}
		if n >= MaxWebhookEndpoints {
			return &Error{Kind: KindConflict, Code: CodeWebhookLimit,
				Message: fmt.Sprintf("At most %d webhook endpoints can be registered here; delete one first.", MaxWebhookEndpoints)}
		}
		if err := tx.InsertWebhookEndpoint(ctx, e); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, e.OrgID, AuditWebhookCreated, "webhook_endpoint", e.ID, map[string]any{"url": e.URL, "events": e.Events}, nil)
	})
	if err != nil {
		return nil, err
	}
	return &CreatedWebhookEndpoint{WebhookEndpoint: e, Secret: secret}, nil
}

// webhookScope checks that p may manage the endpoints of orgRef and sets
// orgID to the organization's id ("" for the server-wide endpoints, which
// only platform administrators manage).
func webhookScope(ctx context.Context, tx Tx, p *Principal, orgRef string, orgID *string) error {
	if orgRef == "" {
		if !p.PlatformAdmin() {
			return errInvalidAccess
		}
		*orgID = ""
		return nil
	}
	org, _, err := access(ctx, tx, p, orgRef, ActManageWebhooks)
	if err != nil {
		return err
	}
	*orgID = org.ID
	return nil
}

// ListWebhookEndpoints lists an organization's endpoints, oldest first, to
// its owners and admins and to platform administrators; with orgRef "",
// every endpoint of the server (server-wide and organizations') to platform
// administrators. Secrets are not part of it.
// Errors: organization.not_found, organization.invalid_access.
func (s *Service) ListWebhookEndpoints(ctx context.Context, p *Principal, orgRef string) ([]*WebhookEndpoint, error) {
	var out []*WebhookEndpoint
	err := s.read(ctx, "list webhook endpoints", func(tx Tx) error {
		var orgID string
		if err := webhookScope(ctx, tx, p, orgRef, &orgID); err != nil {
			return err
		}
		var err error
		out, err = tx.ListWebhookEndpoints(ctx, orgID, orgRef == "")
		return err
	})
	return out, err
}

// DeleteWebhookEndpoint deletes an endpoint of an organization, or with
// orgRef "" any endpoint (platform administrators only). Deliveries still
// queued for it are dropped. Errors: organization.not_found,
// organization.invalid_access, webhook.not_found.
func (s *Service) DeleteWebhookEndpoint(ctx context.Context, p *Principal, orgRef, id string) (*WebhookEndpoint, error) {
	var e *WebhookEndpoint
	err := s.write(ctx, "delete webhook endpoint", func(tx Tx) error {
		var orgID string
		if err := webhookScope(ctx, tx, p, orgRef, &orgID); err != nil {
			return err
		}
		id, isID := parseID(id)
		if !isID {
			return errWebhookNotFound
		}
		var err error
		e, err = tx.WebhookEndpointByID(ctx, id)
		if errors.Is(err, ErrNotFound) || (err == nil && orgRef != "" && e.OrgID != orgID) {
			return errWebhookNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, e.OrgID, AuditWebhookDeleted, "webhook_endpoint", e.ID, map[string]any{"url": e.URL}, nil)
	})
	return e, err
}

func newWebhookSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("orgd: no randomness: %v", err)) // crypto/rand never fails on supported platforms
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// webhookSealContext binds a sealed secret to its endpoint's row.
func webhookSealContext(id string) string { return "webhook_endpoint:" + id }

// CheckWebhookURL returns the URL an endpoint may be registered with: an
// absolute http or https URL without credentials or fragment, whose port,
// if it names one, is from 1 to 65535. Unless
// allowPrivate, a host that names this machine or a private network by
// itself (localhost, a loopback, private, link-local or otherwise
// non-public address) is refused; names that resolve to such addresses are
// refused when a delivery connects (see PublicAddress).
// Errors: webhook.invalid_url.
func CheckWebhookURL(raw string, allowPrivate bool) (string, error) {
	bad := func(why string) (string, error) {
		return "", FieldError(CodeWebhookURL, "url", "The webhook URL %s.", why)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("is required")
	}
	if len(raw) > maxWebhookURL {
		return bad(fmt.Sprintf("must be at most %d characters", maxWebhookURL))
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return bad("is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		return bad("must name a host")
	case !validPort(u.Port()):
		return bad("must have a port from 1 to 65535, or none")
	case u.User != nil:
		return bad("must not carry a user name or password; authenticate the requests by their signature")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("must not have a fragment (#...)")
	}
	if !allowPrivate {
		host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return bad("must not name this machine (private addresses are not allowed on this server)")
		}
		if ip, err := netip.ParseAddr(host); err == nil && !PublicAddress(ip) {
			return bad("must not name a loopback, private or link-local address (private addresses are not allowed on this server)")
		}
	}
	return u.String(), nil
}

// validPort reports whether port, as url.URL.Port gives it, is none or one a
// connection can be made to.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n > 0
}

// nonPublic lists the ranges, beyond those netip classifies, that a webhook
// must not reach on a server that refuses private addresses.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// PublicAddress reports whether ip is an address on the public internet:
// not loopback, private, link-local, multicast, unspecified or reserved.
// It is the one rule for private addresses, applied to URLs at
// registration and to every connection a delivery makes.
func PublicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

func checkWebhookEvents(events []string) ([]string, error) {
	out := []string{}
	for i, ev := range events {
		if !slices.Contains(WebhookEventTypes, ev) {
			return nil, FieldError(CodeWebhookEvent, fmt.Sprintf("events[%d]", i), "%q is not an event type; the types are %s.", ev, strings.Join(WebhookEventTypes, ", "))
		}
		if !slices.Contains(out, ev) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// WebhookJob asks for the delivery of one event to one endpoint. Payload is
// the request body as it was when the change happened; it never carries a
// token or a secret.
type WebhookJob struct {
	EventID    string `json:"event_id"` // the webhook-id header: the audit event's id
	EndpointID string `json:"endpoint_id"`
	Payload    string `json:"payload"`
}

// Kind implements Job.
func (WebhookJob) Kind() string { return "webhook_delivery" }

// WebhookEvent is the body of a webhook request, in the shape the Standard
// Webhooks specification recommends.
type WebhookEvent struct {
	Type      string      `json:"type"`
	Timestamp string      `json:"timestamp"` // when the change happened, RFC 3339 in UTC
	Data      WebhookData `json:"data"`
}

// WebhookData is what an event is about. Invitation events carry
// Invitation, member events Member.
type WebhookData struct {
	Organization WebhookOrganization `json:"organization"`
	Actor        *WebhookActor       `json:"actor"` // null when no user or administrator acted (expiry, the emailed link)
	Invitation   *WebhookInvitation  `json:"invitation,omitempty"`
	Member       *WebhookMember      `json:"member,omitempty"`
	// Reason says why orgd made a change no one asked for in so many words
	// (an invitation revoked because its address became a member's).
	Reason string `json:"reason,omitempty"`
}

// WebhookOrganization names the organization of an event.
type WebhookOrganization struct {
	ID   string `json:"id"`
	Key  string `json:"key"` // the slug
	Name string `json:"name"`
}

// WebhookActor is who made a change: a user ("user") or the orgd admin
// command ("admin").
type WebhookActor struct {
	Type   string `json:"type"`
	UserID string `json:"user_id,omitempty"`
	Email  string `json:"email,omitempty"`
}

// WebhookInvitation is an invitation as an event shows it: never its token.
type WebhookInvitation struct {
	ID             string  `json:"id"`
	Email          string  `json:"email"`
	Role           Role    `json:"role"`
	Status         string  `json:"status"` // pending, accepted, declined, revoked or expired
	InvitedBy      *string `json:"invited_by"`
	InvitedByEmail *string `json:"invited_by_email"`
	CreatedAt      string  `json:"created_at"`
	ExpiresAt      string  `json:"expires_at"`
	RespondedAt    *string `json:"responded_at"`
	AcceptedUserID *string `json:"accepted_user_id"`
}

// WebhookMember is a membership as an event shows it.
type WebhookMember struct {
	UserID       string  `json:"user_id"`
	Email        string  `json:"email"`
	Name         *string `json:"name"`
	Role         Role    `json:"role"`
	PreviousRole *Role   `json:"previous_role,omitempty"` // member.roles_changed
	InvitationID *string `json:"invitation_id,omitempty"` // member.added by accepting an invitation
}

func eventTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optionalEventTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := eventTime(t)
	return &s
}

func optionalText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// memberChange is the subject of a member event: the membership as it is
// after the change (before it, for a removal).
type memberChange struct {
	*Membership
	previousRole *Role  // member.roles_changed
	invitationID string // member.added through an invitation
}

// orReader is the role a member or invitee without an organization role
// acts with.
func orReader(r Role) Role {
	if r == "" {
		return RoleReader
	}
	return r
}

// announced reports whether webhooks announce an audit event.
func announced(ev *AuditEvent) bool { return slices.Contains(WebhookEventTypes, ev.Action) }

// emitWebhooks writes, in the transaction of the changes, one delivery job
// per endpoint of endpoints that receives an event of evs, the audit events
// of changes made by p to one organization.
func (s *Service) emitWebhooks(ctx context.Context, tx Tx, p *Principal, orgID string, endpoints []*WebhookEndpoint, evs []*AuditEvent, changes []change) error {
	if len(endpoints) == 0 {
		return nil
	}
	org, err := tx.OrganizationByID(ctx, orgID)
	if err != nil {
		return err
	}
	var jobs []Job
	for i, ev := range evs {
		if !announced(ev) {
			continue
		}
		payload := "" // encoded for the first endpoint that receives ev
		for _, e := range endpoints {
			if !e.Receives(ev.Action) {
				continue
			}
			if payload == "" {
				if payload, err = webhookPayload(org, p, ev, changes[i].subject); err != nil {
					return err
				}
			}
			jobs = append(jobs, WebhookJob{EventID: ev.ID, EndpointID: e.ID, Payload: payload})
		}
	}
	if err := tx.Enqueue(ctx, jobs...); err != nil {
		return fmt.Errorf("enqueue webhook delivery: %w", err)
	}
	return nil
}

// webhookPayload is the body of the webhook event of ev, an audit event of
// a change by p to org; subject is the *Invitation or memberChange the
// event is about.
func webhookPayload(org *Organization, p *Principal, ev *AuditEvent, subject any) (string, error) {
	data := WebhookData{Organization: WebhookOrganization{ID: org.ID, Key: org.Slug, Name: org.Name}}
	switch {
	case p != nil && p.User != nil:
		data.Actor = &WebhookActor{Type: "user", UserID: p.User.ID, Email: p.User.Email}
	case p != nil && p.System:
		data.Actor = &WebhookActor{Type: "admin"}
	}
	if reason, ok := ev.Details["reason"].(string); ok {
		data.Reason = reason
	}
	switch sub := subject.(type) {
	case *Invitation:
		data.Invitation = &WebhookInvitation{
			ID: sub.ID, Email: sub.Email, Role: orReader(sub.Roles.TopRole(sub.OrgID)), Status: string(sub.State(ev.At)),
			InvitedBy: optionalText(sub.InviterID), InvitedByEmail: optionalText(sub.InviterEmail),
			CreatedAt: eventTime(sub.CreatedAt), ExpiresAt: eventTime(sub.ExpiresAt),
			RespondedAt: optionalEventTime(sub.RespondedAt), AcceptedUserID: optionalText(sub.AcceptedUserID),
		}
	case memberChange:
		data.Member = &WebhookMember{UserID: sub.UserID, Email: sub.Email, Name: optionalText(sub.Name), Role: sub.EffectiveRole(),
			InvitationID: optionalText(sub.invitationID)}
		if sub.previousRole != nil {
			prev := orReader(*sub.previousRole)
			data.Member.PreviousRole = &prev
		}
	default:
		return "", fmt.Errorf("webhook event %s: unknown subject %T", ev.Action, subject)
	}
	payload, err := json.Marshal(WebhookEvent{Type: ev.Action, Timestamp: eventTime(ev.At), Data: data})
	if err != nil {
		return "", fmt.Errorf("encode webhook event: %w", err)
	}
	return string(payload), nil
}

// WebhookTarget is where and how a delivery goes.
type WebhookTarget struct {
	URL    string
	Secret string
}

// PrepareWebhook returns the target of a delivery job, or
// ErrNothingToDeliver when its endpoint was deleted.
func (s *Service) PrepareWebhook(ctx context.Context, job WebhookJob) (*WebhookTarget, error) {
	var e *WebhookEndpoint
	err := s.read(ctx, "prepare webhook", func(tx Tx) error {
		var err error
		e, err = tx.WebhookEndpointByID(ctx, job.EndpointID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNothingToDeliver
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.box.Open(e.SecretSealed, webhookSealContext(e.ID))
	if err != nil {
		return nil, Internal("open webhook secret", err)
	}
	return &WebhookTarget{URL: e.URL, Secret: secret}, nil
}

// WebhookAttempt is the outcome of one delivery attempt.
type WebhookAttempt struct {
	OK     bool
	Status int    // the HTTP status, 0 without an answer
	Error  string // why it failed
}

// RecordWebhookAttempt records the outcome of an attempt on its endpoint,
// if the endpoint still exists.
func (s *Service) RecordWebhookAttempt(ctx context.Context, endpointID string, a WebhookAttempt) error {
	a.Error = boundReason(a.Error)
	return s.writeOne(ctx, "record webhook attempt", func(tx Tx) error {
		return tx.RecordWebhookAttempt(ctx, endpointID, s.clock(), a)
	})
}

// ExpiryScanJob asks for the scan that announces expired invitations; the
// outbox writes it periodically.
type ExpiryScanJob struct{}

// Kind implements Job.
func (ExpiryScanJob) Kind() string { return "invitation_expiry_scan" }

// expiryBatch is how many expired invitations one transaction announces.
const expiryBatch = 100

// AnnounceExpiredInvitations writes invitation.expired, in the audit log and
// to webhooks, once for each open invitation that has expired since it was
// last issued, and reports how many it announced. A refreshed invitation is
// announced again when its new expiry passes. Concurrent scans announce
// each expiry once.
func (s *Service) AnnounceExpiredInvitations(ctx context.Context) (int, error) {
	total := 0
	for {
		announced, seen := 0, 0
		err := s.write(ctx, "announce expired invitations", func(tx Tx) error {
			announced = 0
			now := s.clock()
			invs, err := tx.ListUnannouncedExpiredInvitations(ctx, now, expiryBatch)
			if err != nil {
				return err
			}
			seen = len(invs)
			for _, inv := range invs {
				won, err := tx.MarkExpiryAnnounced(ctx, inv.ID, inv.ExpiresAt, now)
				if err != nil {
					return err
				}
				if !won {
					continue // another scan announced it
				}
				if err := s.audit(ctx, tx, nil, inv.OrgID, AuditInvitationExpired, "invitation", inv.ID,
					map[string]any{"email": inv.Email, "expires_at": inv.ExpiresAt}, inv); err != nil {
					return err
				}
				announced++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += announced
		if seen < expiryBatch {
			return total, nil
		}
	}
}
