// Package web serves the invitation page: the page behind the accept link
// of an invitation email, where the holder of the token sees who invited
// them to which organization with which role, and accepts or declines.
//
// Pages are html/template with embedded templates and an embedded
// stylesheet; they work without JavaScript and send strict security headers.
// GET changes nothing (mail scanners open links); Accept and Decline are POST
// forms protected by http.CrossOriginProtection and by a form token that only
// the server can make.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// Options configure the pages.
type Options struct {
	// PublicURL is where people reach orgd. Its path (behind a proxy that
	// strips one) prefixes the links of the pages; its origin is trusted to
	// send the forms.
	PublicURL string
	// AcceptRedirect is where people are sent (303) after they accept; ""
	// shows a success page.
	AcceptRedirect string
	// RequireSignIn refuses to accept or decline on the strength of the link
	// alone. Signing in on the page is not built yet, so with it set the page
	// only shows the invitation and says so.
	RequireSignIn bool
	Now           func() time.Time
	// Failures limits look-ups of unknown tokens per client address; nil
	// for no limit.
	Failures *httpx.Failures
}

// Pages is the invitation page and what it needs: templates, the form
// token key, the cross-origin check.
type Pages struct {
	svc            *orgd.Service
	log            *slog.Logger
	base           string // the path prefix of links, "" or "/prefix"
	acceptRedirect string
	requireSignIn  bool
	now            func() time.Time
	formKey        []byte
	crossOrigin    *http.CrossOriginProtection
	csp            string
	failures       *httpx.Failures
}

// formKeyPurpose names the key of the form tokens among the keys derived
// from the server key.
const formKeyPurpose = "orgd web form token v1"

// New returns the invitation pages over svc.
func New(svc *orgd.Service, log *slog.Logger, opts Options) *Pages {
	p := &Pages{svc: svc, log: log, acceptRedirect: opts.AcceptRedirect, requireSignIn: opts.RequireSignIn,
		now: opts.Now, formKey: svc.DeriveKey(formKeyPurpose), failures: opts.Failures}
	if p.now == nil {
		p.now = time.Now
	}
	formAction := "'self'"
	if u, err := url.Parse(opts.PublicURL); err == nil && u.Host != "" {
		p.base = strings.TrimRight(u.EscapedPath(), "/")
		p.crossOrigin = crossOrigin(u.Scheme + "://" + u.Host)
	} else {
		p.crossOrigin = crossOrigin("")
	}
	if u, err := url.Parse(opts.AcceptRedirect); err == nil && u.Host != "" {
		// Browsers hold the redirect after a form to form-action too.
		formAction += " " + u.Scheme + "://" + u.Host
	}
	p.crossOrigin.SetDenyHandler(httpx.Adapt(log, p.writeError, p.refuseCrossOrigin))
	p.csp = "default-src 'none'; style-src 'self'; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
	return p
}

// Serves reports whether a path belongs to the pages, so that requests no
// route matched there get an HTML answer rather than an API envelope.
func Serves(path string) bool {
	return path == "/invitations" || strings.HasPrefix(path, "/invitations/") || strings.HasPrefix(path, "/assets/")
}

// secure sets the security headers of every answer of the pages: nothing
// but the embedded stylesheet loads, no frames, no referrer (the token is in
// the URL), no caching.
func (p *Pages) secure(h http.Header) { httpx.SecureHTML(h, p.csp) }

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
	Token      string      // the token of the URL, for links and forms
	FormToken  string
	SignIn     bool // signing in is required to answer
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
