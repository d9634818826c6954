package dreadnode

import (
	"net/http"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// WebhookEndpoint is an endpoint that receives an organization's events,
// with the outcome of its latest delivery attempt. Secret only in the
// answer to a create.
type WebhookEndpoint struct {
	ID                  string   `json:"id"`
	OrgID               string   `json:"org_id"`
	URL                 string   `json:"url"`
	Events              []string `json:"events"` // every event type when empty
	Description         *string  `json:"description"`
	Secret              string   `json:"secret,omitempty"`
	CreatedAt           string   `json:"created_at"`
	LastAttemptAt       *string  `json:"last_attempt_at"`
	LastSuccessAt       *string  `json:"last_success_at"`
	LastStatus          *int     `json:"last_status"` // null before an attempt or when the last got no answer
	LastError           *string  `json:"last_error"`
	ConsecutiveFailures int      `json:"consecutive_failures"`
}

func webhookOut(e *orgd.WebhookEndpoint) WebhookEndpoint {
	out := WebhookEndpoint{ID: e.ID, OrgID: e.OrgID, URL: e.URL, Events: nonNil(e.Events), Description: optional(e.Description),
		CreatedAt: timestamp(e.CreatedAt), LastAttemptAt: optionalTime(e.LastAttemptAt), LastSuccessAt: optionalTime(e.LastSuccessAt),
		LastError: optional(e.LastError), ConsecutiveFailures: e.ConsecutiveFailures}
	if e.LastStatus != 0 {
		out.LastStatus = &e.LastStatus
	}
	return out
}

// createWebhook registers an endpoint; the answer shows its signing secret, once.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	b, err := a.readBody(w, r, false)
	if err != nil {
		return err
	}
	req := orgd.WebhookEndpointRequest{}
	req.URL, _ = b.String("url", true)
	// Null is none: every event type, no description.
	if events := nullable(b, "events", b.OptionalStrings); events != nil {
		req.Events = *events
	}
	if d := nullable(b, "description", b.OptionalString); d != nil {
		req.Description = *d
	}
	if err := b.Err(); err != nil {
		return err
	}
	e, err := a.svc.CreateWebhookEndpoint(r.Context(), principal(r), r.PathValue("org"), req)
	if err != nil {
		return err
	}
	out := webhookOut(e.WebhookEndpoint)
	out.Secret = e.Secret
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	endpoints, err := a.svc.ListWebhookEndpoints(r.Context(), principal(r), r.PathValue("org"))
	if err != nil {
		return err
	}
	out := make([]WebhookEndpoint, 0, len(endpoints))
	for _, e := range endpoints {
		out = append(out, webhookOut(e))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	e, err := a.svc.DeleteWebhookEndpoint(r.Context(), principal(r), r.PathValue("org"), r.PathValue("webhook_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, webhookOut(e))
	return nil
}
