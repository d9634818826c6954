package orgd

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Origin says where a request comes from: which surface (elastic, slug,
// page, admin) and its request id. The surfaces put it in the context; the
// audit log records it with every change.
type Origin struct {
	Surface   string
	RequestID string
}

type originKey struct{}

// WithOrigin returns a context that carries o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

func originFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Audit actions.
const (
	AuditOrgCreated          = "organization.created"
	AuditOrgUpdated          = "organization.updated"
	AuditUserCreated         = "user.created"
	AuditPlatformAdmin       = "user.platform_admin_changed"
	AuditKeyCreated          = "api_key.created"
	AuditKeyRevoked          = "api_key.revoked"
	AuditInvitationCreated   = "invitation.created"
	AuditInvitationRefreshed = "invitation.refreshed"
	AuditInvitationAccepted  = "invitation.accepted"
	AuditInvitationDeclined  = "invitation.declined"
	AuditInvitationRevoked   = "invitation.revoked"
	AuditInvitationExpired   = "invitation.expired" // written by the expiry scan
	AuditWebhookCreated      = "webhook_endpoint.created"
	AuditWebhookDeleted      = "webhook_endpoint.deleted"
	AuditMemberAdded         = "member.added"
	AuditMemberRemoved       = "member.removed"
	AuditMemberRolesChanged  = "member.roles_changed"
)

// AuditEvent records one change: who, what, in which organization, when,
// through which surface and request. Details never carry secrets.
type AuditEvent struct {
	ID          string
	At          time.Time
	OrgID       string // "" for changes outside organizations (users, keys)
	ActorUserID string // "" for orgd admin and for the invitee of the page
	ActorKeyID  string
	Actor       string // the actor's address, or "orgd admin"
	Surface     string
	RequestID   string
	Action      string
	TargetType  string // organization, user, api_key, invitation, member
	TargetID    string
	Details     map[string]any
}

// A change is one entry of the audit log: what was done to which target,
// the details the log keeps, and what a webhook event about it describes
// (subject: the *Invitation, or the memberChange, as it is after the change;
// nil for the actions webhooks do not announce).
type change struct {
	action, targetType, targetID string
	details                      map[string]any
	subject                      any
}

// audit records one change; see record.
func (s *Service) audit(ctx context.Context, tx Tx, p *Principal, orgID, action, targetType, targetID string, details map[string]any, subject any) error {
	return s.record(ctx, tx, p, orgID, change{action: action, targetType: targetType, targetID: targetID, details: details, subject: subject})
}

// record writes the audit events of changes made by p to one organization
// in their transaction, and the webhook deliveries of those events (see
// WebhookEventTypes): the one place where changes are announced. A batch
// costs the statements of one change; none costs nothing.
func (s *Service) record(ctx context.Context, tx Tx, p *Principal, orgID string, changes ...change) error {
	if len(changes) == 0 {
		return nil
	}
	// What the events share: when, where from, and who.
	o := originFrom(ctx)
	base := AuditEvent{At: s.clock(), OrgID: orgID, Surface: o.Surface, RequestID: o.RequestID}
	switch {
	case p != nil && p.User != nil:
		base.ActorUserID, base.ActorKeyID, base.Actor = p.User.ID, p.KeyID, p.User.Email
	case p != nil && p.System:
		base.Actor = "orgd admin"
	}
	if base.Surface == "" {
		base.Surface = "internal"
	}
	evs := make([]*AuditEvent, len(changes))
	for i, c := range changes {
		ev := base
		ev.ID = uuid.Must(uuid.NewV7()).String()
		ev.Action, ev.TargetType, ev.TargetID, ev.Details = c.action, c.targetType, c.targetID, c.details
		evs[i] = &ev
	}
	// The endpoints that receive the announced events come with the
	// write: one round trip for both.
	endpoints, err := tx.InsertAuditEvents(ctx, evs, slices.ContainsFunc(evs, announced))
	if err != nil {
		return err
	}
	return s.emitWebhooks(ctx, tx, p, orgID, endpoints, evs, changes)
}

// AuditQuery selects audit events, newest first.
type AuditQuery struct {
	OrgID  string // "" for every organization (platform administrators only)
	Before string // an event id: only events older than it
	Limit  int    // 1 to 500; default 50
}

const maxAuditPage = 500

// ListAuditEvents returns an organization's audit log, newest first, to its
// owners and admins and to platform administrators; with no organization,
// the whole log to platform administrators.
// Errors: organization.not_found, organization.invalid_access,
// root.invalid_data (a bad limit, or a before that is no event of the log
// read: another organization's event is no event of this one's).
func (s *Service) ListAuditEvents(ctx context.Context, p *Principal, orgRef string, q AuditQuery) ([]*AuditEvent, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > maxAuditPage {
		return nil, FieldError(CodeInvalidData, "limit", "limit must be between 1 and %d.", maxAuditPage)
	}
	var out []*AuditEvent
	err := s.read(ctx, "list audit events", func(tx Tx) error {
		if orgRef == "" {
			if !p.PlatformAdmin() {
				return errInvalidAccess
			}
		} else {
			org, _, err := access(ctx, tx, p, orgRef, ActReadAudit)
			if err != nil {
				return err
			}
			q.OrgID = org.ID
		}
		var err error
		out, err = tx.ListAuditEvents(ctx, q)
		if errors.Is(err, ErrNotFound) {
			return FieldError(CodeInvalidData, "before", "before must be the id of an audit event.")
		}
		return err
	})
	return out, err
}
