// Package elastic serves the Elastic Cloud Organizations API, exactly as
// Elastic's own clients (cloud-sdk-go, the ec Terraform provider, scripts)
// expect it: its paths, its wire types, its status codes, and its error
// body with the x-cloud-error-codes header. The rules are orgd's; this
// package only translates.
package elastic

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// API is the Elastic Cloud surface.
type API struct {
	svc          *orgd.Service
	log          *slog.Logger
	maxBodyBytes int64
	now          func() time.Time
	failures     *httpx.Failures
	idempotency  *httpx.Idempotency
}

// Options configure the surface.
type Options struct {
	MaxBodyBytes int64
	Now          func() time.Time
	Failures     *httpx.Failures // limits failed key and token look-ups per address; nil for none
}

// New returns the Elastic surface over svc.
func New(svc *orgd.Service, log *slog.Logger, opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &API{svc: svc, log: log, maxBodyBytes: opts.MaxBodyBytes, now: opts.Now, failures: opts.Failures,
		idempotency: httpx.NewIdempotency(svc, log, writeError, opts.MaxBodyBytes)}
}

// Route is one operation of the surface.
type Route struct {
	Method    string
	Path      string // the Elastic path template, under /api/v1
	Operation string // the Swagger operationId
	// Unauthenticated is how the operation refuses a request without
	// working credentials: the code and status the Elastic spec lists for it.
	Unauthenticated *orgd.Error
	handler         func(a *API, w http.ResponseWriter, r *http.Request) error
}

// The answers to missing or bad credentials, as the Elastic spec gives them per operation.
var (
	authUserNotFound  = &orgd.Error{Kind: orgd.KindUnauthenticated, Code: orgd.CodeUserNotFound, Message: "User not found."}
	authNotAuthorized = &orgd.Error{Kind: orgd.KindUnauthenticated, Code: orgd.CodeUnauthorized, Message: "You are not authorized to perform this action."}
	authInvalid       = &orgd.Error{Kind: orgd.KindForbidden, Code: orgd.CodeInvalidAuth, Message: "The current user authentication is not valid."}
	authCredentials   = &orgd.Error{Kind: orgd.KindUnauthenticated, Code: orgd.CodeUnauthorized, Message: "Credentials were invalid."}
)

// Routes is the whole route table of the Elastic surface: the 10
// operations under /organizations, the 2 role-assignment operations under
// /users, and the caller's own API keys (/users/auth/keys).
var Routes = []Route{
	{"GET", "/api/v1/organizations", "list-organizations", authUserNotFound, (*API).listOrganizations},
	{"GET", "/api/v1/organizations/{organization_id}", "get-organization", authUserNotFound, (*API).getOrganization},
	{"PUT", "/api/v1/organizations/{organization_id}", "update-organization", authNotAuthorized, (*API).updateOrganization},
	{"GET", "/api/v1/organizations/{organization_id}/invitations", "list-organization-invitations", authCredentials, (*API).listInvitations},
	{"POST", "/api/v1/organizations/{organization_id}/invitations", "create-organization-invitations", authInvalid, (*API).createInvitations},
	{"DELETE", "/api/v1/organizations/{organization_id}/invitations/{invitation_tokens}", "delete-organization-invitations", authCredentials, (*API).deleteInvitations},
	{"GET", "/api/v1/organizations/invitations/{invitation_token}", "get-organization-invitation", authCredentials, (*API).getInvitation},
	{"POST", "/api/v1/organizations/invitations/{invitation_token}/_accept", "accept-organization-invitation", authInvalid, (*API).acceptInvitation},
	{"GET", "/api/v1/organizations/{organization_id}/members", "list-organization-members", authCredentials, (*API).listMembers},
	{"DELETE", "/api/v1/organizations/{organization_id}/members/{user_ids}", "delete-organization-memberships", authCredentials, (*API).deleteMembers},
	{"POST", "/api/v1/users/{user_id}/role_assignments", "add-role-assignments", authCredentials, (*API).addRoleAssignments},
	{"DELETE", "/api/v1/users/{user_id}/role_assignments", "remove-role-assignments", authCredentials, (*API).removeRoleAssignments},
	{"GET", "/api/v1/users/auth/keys", "get-api-keys", authCredentials, (*API).listAPIKeys},
	{"POST", "/api/v1/users/auth/keys", "create-api-key", authCredentials, (*API).createAPIKey},
	{"DELETE", "/api/v1/users/auth/keys", "delete-api-keys", authCredentials, (*API).deleteAPIKeys},
	{"GET", "/api/v1/users/auth/keys/{api_key_id}", "get-api-key", authCredentials, (*API).getAPIKey},
	{"DELETE", "/api/v1/users/auth/keys/{api_key_id}", "delete-api-key", authCredentials, (*API).deleteAPIKey},
}

// Register adds every route to mux.
//
// ServeMux refuses GET /organizations/invitations/{invitation_token} beside
// GET /organizations/{organization_id}/invitations and .../members, because
// each matches /organizations/invitations/invitations. Organization ids and
// keys can never be "invitations", so the three share the pattern
// GET /organizations/{organization_id}/{child} and are told apart by its
// first segment.
func (a *API) Register(mux *http.ServeMux) {
	shared := map[string]http.Handler{}
	for _, rt := range Routes {
		h := a.handler(rt)
		switch rt.Operation {
		case "get-organization-invitation", "list-organization-invitations", "list-organization-members":
			shared[rt.Operation] = h
			continue
		}
		mux.Handle(rt.Method+" "+rt.Path, h)
		if base, ok := csvBase(rt.Path); ok {
			// An empty list leaves the path ending in a slash, which no
			// wildcard matches (and ServeMux would redirect the path
			// without it there): both reach the handler, which answers
			// that nothing was given.
			mux.Handle(rt.Method+" "+base+"{$}", h)
			mux.Handle(rt.Method+" "+strings.TrimSuffix(base, "/"), h)
		}
	}
	mux.Handle("GET /api/v1/organizations/{organization_id}/{child}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first, child := r.PathValue("organization_id"), r.PathValue("child")
		switch {
		case first == "invitations":
			r.SetPathValue("invitation_token", child)
			shared["get-organization-invitation"].ServeHTTP(w, r)
		case child == "invitations":
			shared["list-organization-invitations"].ServeHTTP(w, r)
		case child == "members":
			shared["list-organization-members"].ServeHTTP(w, r)
		default:
			httpx.WriteError(a.log, writeError, w, r, orgd.ResourceNotFound())
		}
	}))
}

// csvBase returns the path up to and including the last slash when the
// last segment is a comma-separated list.
func csvBase(path string) (string, bool) {
	for _, list := range []string{"{invitation_tokens}", "{user_ids}"} {
		if base, ok := strings.CutSuffix(path, list); ok {
			return base, true
		}
	}
	return "", false
}

// WriteError writes err in the Elastic envelope, for a request no route
// matched (a wrong method, a trailing slash): the invitation tokens its path
// may carry are kept out of the access log, as the routes keep them.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	hideTokens(r)
	httpx.WriteError(a.log, writeError, w, r, err)
}

// hideTokens logs the path of a request under /api/v1/organizations/
// invitations/{invitation_token} or /api/v1/organizations/{id}/invitations/
// {invitation_tokens} with those segments as their template.
func hideTokens(r *http.Request) {
	const base = "/api/v1/organizations/"
	rest, ok := strings.CutPrefix(r.URL.Path, base)
	if !ok {
		return
	}
	segs := strings.Split(rest, "/")
	var at int // the segment "invitations"
	var template string
	switch {
	case len(segs) >= 2 && segs[0] == "invitations":
		at, template = 0, "{invitation_token}"
	case len(segs) >= 3 && segs[1] == "invitations":
		at, template = 1, "{invitation_tokens}"
	default:
		return
	}
	// The token is the first segment after it that names something: a
	// path that is not canonical (invitations//TOKEN, invitations/./TOKEN)
	// carries it further on.
	for i := at + 1; i < len(segs); i++ {
		if segs[i] != "" && segs[i] != "." && segs[i] != ".." {
			segs[i] = template
			break
		}
	}
	httpx.SetLogPath(r.Context(), base+strings.Join(segs, "/"))
}

// handler authenticates the caller and runs the route's handler, behind
// an Idempotency-Key for POST.
func (a *API) handler(rt Route) http.Handler {
	secretPath := strings.Contains(rt.Path, "{invitation_token")
	run := a.idempotency.Wrap(rt.Method, func(w http.ResponseWriter, r *http.Request) error { return rt.handler(a, w, r) })
	return httpx.Adapt(a.log, writeError, func(w http.ResponseWriter, r *http.Request) error {
		if secretPath {
			httpx.SetLogPath(r.Context(), rt.Path) // tokens stay out of the log
		}
		if err := a.failures.Check(r); err != nil {
			return err
		}
		p, err := a.authenticate(r)
		if err != nil {
			if orgd.ErrorKind(err) == orgd.KindUnauthenticated {
				a.failures.Fail(r)
				return httpx.Refusal(rt.Unauthenticated, err)
			}
			return err
		}
		if err := httpx.CheckText(r, httpx.ElasticQuery); err != nil {
			return err
		}
		ctx := orgd.WithOrigin(httpx.WithPrincipal(r.Context(), p), orgd.Origin{Surface: "elastic", RequestID: httpx.RequestID(r.Context())})
		return run(w, r.WithContext(ctx))
	})
}

// authenticate reads `Authorization: ApiKey <key>`, Elastic's scheme, or
// `Authorization: Bearer <credential>`: an API key too, or a JWT of the
// configured OpenID Connect issuer (as ECE's own API takes bearer JWTs).
func (a *API) authenticate(r *http.Request) (*orgd.Principal, error) {
	if key, ok := httpx.Credential(r, "ApiKey"); ok {
		return a.svc.Authenticate(r.Context(), key)
	}
	if credential, ok := httpx.Credential(r, "Bearer"); ok {
		return a.svc.AuthenticateBearer(r.Context(), credential)
	}
	return nil, &orgd.Error{Kind: orgd.KindUnauthenticated, Code: orgd.CodeUnauthorized, Message: "Credentials were invalid."}
}
