package dreadnode

import (
	"net/http"
	"strconv"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// APIKey is one of the caller's API keys; Key only in the answer to a create.
type APIKey struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Prefix     string  `json:"prefix"`
	Key        string  `json:"key,omitempty"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	ExpiresAt  *string `json:"expires_at"`
	RevokedAt  *string `json:"revoked_at"`
}

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timestamp(t)
	return &s
}

func keyOut(k *orgd.APIKey) APIKey {
	return APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: timestamp(k.CreatedAt),
		LastUsedAt: optionalTime(k.LastUsedAt), ExpiresAt: optionalTime(k.ExpiresAt), RevokedAt: optionalTime(k.RevokedAt)}
}

// listAPIKeys lists the caller's keys that still work.
func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.User == nil {
		return errAuthentication
	}
	keys, err := a.svc.ListAPIKeys(r.Context(), p, p.User.ID)
	if err != nil {
		return err
	}
	now := a.now()
	out := []APIKey{}
	for _, k := range keys {
		if k.Usable(now) {
			out = append(out, keyOut(k))
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createAPIKey creates a key for the caller, shown once.
func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	b, err := a.readBody(w, r, false)
	if err != nil {
		return err
	}
	name, _ := b.String("name", true)
	expiresIn := b.ExpiresIn("expires_in")
	if err := b.Err(); err != nil {
		return err
	}
	p := principal(r)
	if p.User == nil {
		return errAuthentication
	}
	k, err := a.svc.CreateAPIKey(r.Context(), p, p.User.ID, name, expiresIn)
	if err != nil {
		return err
	}
	out := keyOut(k.APIKey)
	out.Key = k.Secret
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	return a.revoke(w, r, r.PathValue("key_id"))
}

// revokeSelfAPIKey revokes the key the request was made with.
func (a *API) revokeSelfAPIKey(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.KeyID == "" {
		return &orgd.Error{Kind: orgd.KindInvalid, Code: orgd.CodeInvalidData, Message: "This request was not made with an API key."}
	}
	return a.revoke(w, r, p.KeyID)
}

func (a *API) revoke(w http.ResponseWriter, r *http.Request, id string) error {
	ctx, p := r.Context(), principal(r)
	if err := a.svc.RevokeAPIKeys(ctx, p, []string{id}); err != nil {
		return err
	}
	k, err := a.svc.GetAPIKey(ctx, p, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, keyOut(k))
	return nil
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID         string         `json:"id"`
	At         string         `json:"at"`
	OrgID      *string        `json:"org_id"`
	Actor      AuditActor     `json:"actor"`
	Surface    string         `json:"surface"`
	RequestID  *string        `json:"request_id"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Details    map[string]any `json:"details"`
}

// AuditActor is who made a change.
type AuditActor struct {
	UserID *string `json:"user_id"`
	KeyID  *string `json:"key_id"`
	Email  *string `json:"email"`
}

// AuditPage is a page of the audit log, newest first; NextBefore continues it.
type AuditPage struct {
	Events     []AuditEvent `json:"events"`
	NextBefore *string      `json:"next_before"`
}

func (a *API) listOrgAudit(w http.ResponseWriter, r *http.Request) error {
	return a.listAudit(w, r, r.PathValue("org"))
}

func (a *API) listAllAudit(w http.ResponseWriter, r *http.Request) error {
	return a.listAudit(w, r, "")
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, orgRef string) error {
	q := orgd.AuditQuery{Before: r.URL.Query().Get("before")}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return invalid("query.limit", "int_type", "limit should be a whole number from 1 to 500")
		}
		q.Limit = n
	}
	events, err := a.svc.ListAuditEvents(r.Context(), principal(r), orgRef, q)
	if err != nil {
		return inQuery(err)
	}
	out := AuditPage{Events: make([]AuditEvent, 0, len(events))}
	for _, ev := range events {
		details := ev.Details
		if details == nil {
			details = map[string]any{}
		}
		out.Events = append(out.Events, AuditEvent{
			ID: ev.ID, At: timestamp(ev.At), OrgID: optional(ev.OrgID), Surface: ev.Surface, RequestID: optional(ev.RequestID),
			Action: ev.Action, TargetType: ev.TargetType, TargetID: ev.TargetID, Details: details,
			Actor: AuditActor{UserID: optional(ev.ActorUserID), KeyID: optional(ev.ActorKeyID), Email: optional(ev.Actor)},
		})
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if len(events) == q.Limit {
		out.NextBefore = &events[len(events)-1].ID
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
