package web

import "github.com/orgd/orgd"

// FormToken is the form token the pages of a server over svc put in the
// forms of an invitation token.
func FormToken(svc *orgd.Service, token string) string {
	return (&Pages{formKey: svc.DeriveKey(formKeyPurpose)}).formToken(token)
}
