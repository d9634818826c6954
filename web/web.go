// Package web serves the invitation page: the page behind the accept link
// of an invitation email, where the holder of the token sees who invited
// them to which organization with which role, and accepts or declines.
//
// Pages are html/template with embedded templates and an embedded
// stylesheet; they work without JavaScript and send strict security headers.
// GET changes nothing (mail scanners open links); Accept and Decline are POST
// forms protected by http.CrossOriginProtection and by a form token that only
// the server can make. When the server requires signing in, Accept and
// Decline first sign the person in at the OpenID Connect issuer (the
// authorization-code flow with PKCE) and answer as that user.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/httpx"
)

// Options configure the pages.
type Options struct {
	// PublicURL is where people reach orgd. Its path (behind a proxy that
	// strips one) prefixes the links of the pages; its origin is trusted to
	// send the forms.
	PublicURL string
	// AcceptRedirect is where people are sent (303) after they accept, and
	// where the page that tells a member so links; "" shows a success page
	// (and no link).
	AcceptRedirect string
	// RequireSignIn refuses to accept or decline on the strength of the link
	// alone: Accept and Decline sign the person in with SignIn first, and
	// answer as the signed-in user under the rules of the APIs.
	RequireSignIn bool
	// SignIn is orgd's client of the OpenID Connect issuer, which signs
	// people in when RequireSignIn is set; its redirect URI is PublicURL
	// followed by CallbackPath. Without it, signing in is unavailable.
	SignIn *auth.Client
	Now    func() time.Time
	// Failures limits look-ups of unknown tokens per client address; nil
	// for no limit.
	Failures *httpx.Failures
}

// Pages is the invitation page and what it needs: templates, the form
// token key, the cross-origin check, the sign-in.
type Pages struct {
	svc            *orgd.Service
	log            *slog.Logger
	base           string // the path prefix of links, "" or "/prefix"
	acceptRedirect string
	requireSignIn  bool
	now            func() time.Time
	formKey        []byte
	crossOrigin    *http.CrossOriginProtection
	formAction     []string // origins the forms may lead to, besides the issuer's authorization endpoint
	failures       *httpx.Failures
	signIn         signIn
}

// formKeyPurpose names the key of the form tokens among the keys derived
// from the server key.
const formKeyPurpose = "orgd web form token v1"

// New returns the invitation pages over svc.
func New(svc *orgd.Service, log *slog.Logger, opts Options) *Pages {
	p := &Pages{svc: svc, log: log, acceptRedirect: opts.AcceptRedirect, requireSignIn: opts.RequireSignIn,
		now: opts.Now, formKey: svc.DeriveKey(formKeyPurpose), failures: opts.Failures,
		signIn: newSignIn(svc, opts.SignIn, opts.PublicURL), formAction: []string{"'self'"}}
	if p.now == nil {
		p.now = time.Now
	}
	if u, err := url.Parse(opts.PublicURL); err == nil && u.Host != "" {
		p.base = strings.TrimRight(u.EscapedPath(), "/")
		p.crossOrigin = crossOrigin(u.Scheme + "://" + u.Host)
	} else {
		p.crossOrigin = crossOrigin("")
	}
	// Browsers hold the redirects after a form to form-action too: to the
	// accept redirect, and to the issuer to sign in.
	p.formAction = addOrigin(p.formAction, opts.AcceptRedirect)
	if p.requireSignIn && opts.SignIn != nil {
		p.formAction = addOrigin(p.formAction, opts.SignIn.Provider().Issuer())
	}
	p.crossOrigin.SetDenyHandler(httpx.Adapt(log, p.writeError, p.refuseCrossOrigin))
	return p
}

// addOrigin adds the origin of an absolute URL to origins, unless it is
// there or raw is no such URL.
func addOrigin(origins []string, raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return origins
	}
	if o := u.Scheme + "://" + u.Host; !slices.Contains(origins, o) {
		return append(origins, o)
	}
	return origins
}

// csp is the Content-Security-Policy of the pages. Its form-action names
// the origin of the issuer's authorization endpoint once the issuer is
// known, when it differs from the issuer's own.
func (p *Pages) csp() string {
	formAction := slices.Clip(p.formAction) // appending never writes into p.formAction
	if p.requireSignIn && p.signIn.client != nil {
		formAction = addOrigin(formAction, p.signIn.client.AuthorizationOrigin())
	}
	return "default-src 'none'; style-src 'self'; form-action " + strings.Join(formAction, " ") + "; frame-ancestors 'none'; base-uri 'none'"
}

// Serves reports whether a path belongs to the pages, so that requests no
// route matched there get an HTML answer rather than an API envelope.
func Serves(path string) bool {
	return path == "/invitations" || strings.HasPrefix(path, "/invitations/") || strings.HasPrefix(path, "/assets/")
}

// secure sets the security headers of every answer of the pages: nothing
// but the embedded stylesheet loads, no frames, no referrer (the token is in
// the URL), no caching.
func (p *Pages) secure(h http.Header) { httpx.SecureHTML(h, p.csp()) }

//go:embed templates
var templateFiles embed.FS

// templates holds one template set per page, each with the layout.
var templates = func() map[string]*template.Template {
	names, err := templateFiles.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, f := range names {
		name := strings.TrimSuffix(f.Name(), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.New(name).Option("missingkey=error").
			ParseFS(templateFiles, "templates/layout.html", "templates/"+f.Name()))
	}
	return out
}()

// page is what a template gets.
type page struct {
	Base       string      // prefix of links
	Invitation *invitation // nil on pages that show none
	Token      string      // the invitation token, for links and forms
	FormToken  string
	SignIn     bool   // signing in is required to answer
	SignedInAs string // the address of the user who signed in
	Onward     string // where accepting leads (the accept redirect), for a member; "" for nowhere
	Reason     string // why signing in did not work (signin_failed)
	Message    string
	Status     int
}

// render writes the page of template name with status.
func (p *Pages) render(w http.ResponseWriter, status int, name string, data page) error {
	data.Base, data.Status = p.base, status
	var buf bytes.Buffer
	if err := templates[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		return orgd.Internal("render page "+name, err)
	}
	p.secure(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// WriteError answers err with an HTML page; the server's fallback calls it
// for paths of the pages that no route matched.
func (p *Pages) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	hideToken(r)
	httpx.WriteError(p.log, p.writeError, w, r, err)
}

func (p *Pages) writeError(w http.ResponseWriter, _ *http.Request, e *orgd.Error) {
	var err error
	switch {
	case e.Code == orgd.CodeInviteNotFound:
		err = p.render(w, http.StatusNotFound, "invalid", page{})
	case e.Kind == orgd.KindInternal:
		err = p.render(w, http.StatusInternalServerError, "error", page{Message: "Something went wrong on our side. Please try again in a moment."})
	default:
		err = p.render(w, httpx.Status(e), "error", page{Message: e.Message})
	}
	if err != nil {
		p.log.Error("render error page", "error", err)
		p.secure(w.Header())
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	}
}
