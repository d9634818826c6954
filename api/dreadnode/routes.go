// Package dreadnode serves the slug API of the Dreadnode platform:
// organizations addressed by their key (slug), invitations by id, and the
// invitee's side (/invitations/me, respond). Its wire shapes and error
// envelope are Dreadnode's; the rules are orgd's, shared with the Elastic
// surface.
package dreadnode

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// API is the slug surface.
type API struct {
	svc          *orgd.Service
	log          *slog.Logger
	maxBodyBytes int64
	publicURL    string
	now          func() time.Time
	failures     *httpx.Failures
	idempotency  *httpx.Idempotency
}

// Options configure the surface.
type Options struct {
	MaxBodyBytes int64
	PublicURL    string // base of accept links handed to callers that deliver invitations themselves
	Now          func() time.Time
	Failures     *httpx.Failures // limits failed key look-ups per address; nil for none
}

// New returns the slug surface over svc.
func New(svc *orgd.Service, log *slog.Logger, opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &API{svc: svc, log: log, maxBodyBytes: opts.MaxBodyBytes, publicURL: strings.TrimRight(opts.PublicURL, "/"), now: opts.Now, failures: opts.Failures,
		idempotency: httpx.NewIdempotency(svc, log, writeError, opts.MaxBodyBytes)}
}

// Route is one operation of the surface.
type Route struct {
	Method    string
	Path      string
	Operation string // the operationId, as Dreadnode names it where it is known
	Public    bool   // reachable without credentials
	handler   func(a *API, w http.ResponseWriter, r *http.Request) error
}

// Routes is the whole route table of the slug surface.
var Routes = []Route{
	{"GET", "/api/v1/health", "health_check", true, (*API).health},
	{"GET", "/api/v1/user", "get_user", false, (*API).getUser},
	{"GET", "/api/v1/user/organizations", "list_user_organizations", false, (*API).listUserOrganizations},
	{"GET", "/api/v1/org/{org}", "get_organization", false, (*API).getOrganization},
	{"PATCH", "/api/v1/org/{org}", "update_organization", false, (*API).updateOrganization},
	{"GET", "/api/v1/org/{org}/members", "list_organization_members", false, (*API).listMembers},
	{"PUT", "/api/v1/org/{org}/members/{user_id}", "update_organization_member", false, (*API).updateMember},
	{"DELETE", "/api/v1/org/{org}/members/{user_id}", "remove_organization_member", false, (*API).removeMember},
	{"POST", "/api/v1/org/{org}/invitations", "invite_to_organization", false, (*API).invite},
	{"GET", "/api/v1/org/{org}/invitations", "list_organization_invitations", false, (*API).listInvitations},
	{"DELETE", "/api/v1/org/{org}/invitations/{invitation_id}", "revoke_invitation", false, (*API).revokeInvitation},
	{"POST", "/api/v1/org/{org}/invitations/{invitation_id}/resend", "resend_invitation", false, (*API).resendInvitation},
	{"GET", "/api/v1/invitations/me", "list_my_pending_invitations", false, (*API).listMyInvitations},
	{"POST", "/api/v1/invitations/{invitation_id}/respond", "respond_to_invitation", false, (*API).respond},
	{"GET", "/api/v1/user/api-keys", "list_api_keys", false, (*API).listAPIKeys},
	{"POST", "/api/v1/user/api-keys", "create_api_key", false, (*API).createAPIKey},
	{"DELETE", "/api/v1/user/api-keys/self", "revoke_self_api_key", false, (*API).revokeSelfAPIKey},
	{"DELETE", "/api/v1/user/api-keys/{key_id}", "revoke_api_key", false, (*API).revokeAPIKey},
	{"POST", "/api/v1/org/{org}/webhooks", "create_webhook_endpoint", false, (*API).createWebhook},
	{"GET", "/api/v1/org/{org}/webhooks", "list_webhook_endpoints", false, (*API).listWebhooks},
	{"DELETE", "/api/v1/org/{org}/webhooks/{webhook_id}", "delete_webhook_endpoint", false, (*API).deleteWebhook},
	{"GET", "/api/v1/org/{org}/audit-log", "list_organization_audit_log", false, (*API).listOrgAudit},
	{"GET", "/api/v1/admin/audit-log", "list_audit_log", false, (*API).listAllAudit},
}

// Register adds every route to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range Routes {
		mux.Handle(rt.Method+" "+rt.Path, a.handler(rt))
	}
}

// WriteError writes err in the slug envelope.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(a.log, writeError, w, r, err)
}

var errAuthentication = &orgd.Error{Kind: orgd.KindUnauthenticated, Code: orgd.CodeUnauthorized, Message: "Authentication failed"}

// handler authenticates the caller (unless the route is public) and runs
// the route's handler, behind an Idempotency-Key for POST.
func (a *API) handler(rt Route) http.Handler {
	run := a.idempotency.Wrap(rt.Method, func(w http.ResponseWriter, r *http.Request) error { return rt.handler(a, w, r) })
	return httpx.Adapt(a.log, writeError, func(w http.ResponseWriter, r *http.Request) error {
		r = r.WithContext(orgd.WithOrigin(r.Context(), orgd.Origin{Surface: "slug", RequestID: httpx.RequestID(r.Context())}))
		if !rt.Public {
			if err := a.failures.Check(r); err != nil {
				return err
			}
			p, err := a.authenticate(r)
			if err != nil {
				if orgd.ErrorKind(err) == orgd.KindUnauthenticated {
					a.failures.Fail(r)
					return httpx.Refusal(errAuthentication, err)
				}
				return err
			}
			r = r.WithContext(httpx.WithPrincipal(r.Context(), p))
		}
		if err := httpx.CheckText(r, httpx.SlugQuery); err != nil {
			return err
		}
		return run(w, r)
	})
}

// authenticate reads `Authorization: Bearer <credential>`, an API key or a
// JWT of the configured OpenID Connect issuer, or an API key in
// `X-API-Key: <key>` (or `Authorization: ApiKey <key>`).
func (a *API) authenticate(r *http.Request) (*orgd.Principal, error) {
	if credential, ok := httpx.Credential(r, "Bearer"); ok {
		return a.svc.AuthenticateBearer(r.Context(), credential)
	}
	key, ok := httpx.Credential(r, "ApiKey")
	if !ok {
		key = strings.TrimSpace(r.Header.Get("X-API-Key"))
	}
	if key == "" {
		return nil, errAuthentication
	}
	return a.svc.Authenticate(r.Context(), key)
}

func principal(r *http.Request) *orgd.Principal { return httpx.PrincipalFrom(r.Context()) }
