package openapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/openapi"
)

// TestOddRequests sends every operation of the document requests that the
// suites of the surfaces send to a few: without credentials, with a bad
// key, by a stranger, with unknown ids, with bodies that are no JSON, no
// object, of the wrong types or too large, and with bad query parameters.
// The server's client checks every answer against the document, so this
// test only has to ask.
func TestOddRequests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		srv := apitest.Start(t, url)
		org := srv.Org("Acme", "acme")
		owner := srv.Member(org, "owner@acme.test", orgd.RoleOwner)
		reader := srv.Member(org, "reader@acme.test", orgd.RoleReader)
		stranger := srv.User("stranger@else.test", false)
		doc, _ := openapi.Build()
		const unknownID = "01936f6e-0000-7000-8000-000000000000"
		params := regexp.MustCompile(`\{[^}]+\}`)
		big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`

		for path, item := range doc.Paths {
			for method, op := range map[string]*openapi.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put,
				"PATCH": item.Patch, "DELETE": item.Delete} {
				if op == nil || op.Responses["200"] != nil && op.Responses["200"].Content["application/json"] == nil {
					continue // the page, which is no API
				}
				for _, ids := range []func(string) string{
					func(p string) string { return unknownID },
					func(p string) string { return "not-an-id" },
					func(p string) string {
						if p == "{org}" || p == "{organization_id}" {
							return org.ID
						}
						return unknownID
					},
				} {
					url := params.ReplaceAllStringFunc(path, ids)
					for _, auth := range []map[string]string{
						{}, {"Authorization": "Bearer orgd_nothing"}, {"Authorization": "ApiKey " + stranger.Key},
						{"Authorization": "Bearer " + reader.Key}, {"X-API-Key": owner.Key},
					} {
						srv.Request(method, url, auth, nil)
						srv.Request(method, url+"?force=maybe&email_status=bogus&status=bogus&limit=0&before=bogus", auth, nil)
						srv.Request(method, url+"?limit=abc", auth, nil)
						if op.RequestBody != nil {
							for _, body := range []string{`{`, `[]`, `"text"`, `{"name":5,"email":[],"role":7,"accept":"yes","emails":{},` +
								`"expires_in":false,"send_email":"no","description":1,"keys":"k","platform":"p","max_members":"m"}`, big} {
								srv.Request(method, url, auth, body)
							}
						}
					}
				}
			}
		}
	})
}
