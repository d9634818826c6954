package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/orgd/orgd"
)

// Two defences keep other sites from answering an invitation for someone:
//
//   - http.CrossOriginProtection refuses a POST that a browser marks as
//     cross-site (Sec-Fetch-Site) or whose Origin is another host than the
//     request's or the public URL's;
//   - each form carries a token that only the server can make: an HMAC of the
//     invitation token's hash under a key derived from the server key. It is
//     bound to the invitation, so it cannot be carried to another one.

// formTokenField is the name of the hidden form field.
const formTokenField = "form_token"

// maxFormBytes bounds the body of a form: it holds one token.
const maxFormBytes = 4 << 10

// crossOrigin returns the cross-origin check, trusting the public origin
// (a proxy may present another Host than the browser used).
func crossOrigin(publicOrigin string) *http.CrossOriginProtection {
	c := http.NewCrossOriginProtection()
	if publicOrigin != "" {
		_ = c.AddTrustedOrigin(publicOrigin) // scheme://host from a parsed URL is always well formed
	}
	return c
}

// formToken is the form token of an invitation token.
func (p *Pages) formToken(token string) string {
	mac := hmac.New(sha256.New, p.formKey)
	mac.Write([]byte(orgd.HashSecret(token)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// validForm reports whether a POST carries the form token of its
// invitation token.
func (p *Pages) validForm(w http.ResponseWriter, r *http.Request, token string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return false
	}
	return hmac.Equal([]byte(r.PostForm.Get(formTokenField)), []byte(p.formToken(token)))
}

// refuseForm answers a POST that failed a check: nothing changes, and the
// page says how to go on.
func (p *Pages) refuseForm(w http.ResponseWriter, token string) error {
	return p.render(w, http.StatusForbidden, "refused", page{Token: token})
}

func (p *Pages) refuseCrossOrigin(w http.ResponseWriter, r *http.Request) error {
	return p.refuseForm(w, r.PathValue("token"))
}
