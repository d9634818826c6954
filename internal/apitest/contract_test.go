package apitest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/orgd/orgd/openapi"
)

// TestContractCatches checks that the contract refuses answers that break
// the document, and accepts ones that keep it.
func TestContractCatches(t *testing.T) {
	doc, _ := openapi.Build()
	c, err := loadContract(doc.JSON())
	if err != nil {
		t.Fatal(err)
	}
	const org = "/api/v1/organizations/01936f6e-0000-7000-8000-000000000000"
	elasticError := func(code string) http.Header {
		return http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}, "X-Cloud-Error-Codes": {code}}
	}
	slugError := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	ok := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		wantErr            string // "" for an answer the document allows
	}{
		{"an organization", "GET", org, 200, ok,
			`{"id":"o","name":"Acme","default_disk_usage_alerts_enabled":true,"notifications_allowed_email_domains":[],"billing_contacts":[],"operational_contacts":[]}`, ""},
		{"a required field missing", "GET", org, 200, ok, `{"id":"o","name":"Acme"}`, "doesn't match"},
		{"a list written as null", "GET", org, 200, ok,
			`{"id":"o","name":"Acme","default_disk_usage_alerts_enabled":true,"notifications_allowed_email_domains":null,"billing_contacts":[],"operational_contacts":[]}`,
			"doesn't match"},
		{"a status the operation does not answer", "GET", org, 409, elasticError("organization.not_found"),
			`{"errors":[{"code":"organization.not_found","message":"m"}]}`, "status is not supported"},
		{"an Elastic error", "GET", org, 404, elasticError("organization.not_found"),
			`{"errors":[{"code":"organization.not_found","message":"m"}]}`, ""},
		{"a code the status does not carry", "GET", org, 404, elasticError("organization.invitation_not_found"),
			`{"errors":[{"code":"organization.invitation_not_found","message":"m"}]}`, "x-cloud-error-codes"},
		{"an Elastic error without its header", "GET", org, 404, ok,
			`{"errors":[{"code":"organization.not_found","message":"m"}]}`, "x-cloud-error-codes"},
		{"no request id", "GET", org, 404, http.Header{"Content-Type": {"application/json"}, "X-Cloud-Error-Codes": {"organization.not_found"}},
			`{"errors":[{"code":"organization.not_found","message":"m"}]}`, "X-Request-Id"},
		{"a time that is none", "GET", "/api/v1/org/acme/members", 200, ok,
			`[{"id":"u","user_id":"u","org_id":"o","email_address":"a@b.test","username":"a","role":"reader","joined_at":"yesterday"}]`,
			"doesn't match"},
		{"a slug error", "GET", "/api/v1/org/acme", 404, slugError,
			`{"code":404,"detail":"d","type":"not_found_error","errors":[{"loc":[],"msg":"m","type":"organization.not_found"}]}`, ""},
		{"a slug error whose type is another status's", "GET", "/api/v1/org/acme", 404, slugError,
			`{"code":404,"detail":"d","type":"conflict_error","errors":[]}`, "doesn't match"},
		{"a 401 without WWW-Authenticate", "GET", "/api/v1/org/acme", 401, slugError,
			`{"code":401,"detail":"d","type":"authentication_error","errors":[]}`, "WWW-Authenticate"},
		{"an unknown path in the slug envelope", "GET", "/api/v1/nothing", 404, slugError,
			`{"code":404,"detail":"d","type":"not_found_error","errors":[]}`, ""},
		{"an unknown path answered otherwise", "GET", "/api/v1/nothing", 404, ok, `{"error":"no"}`, "no error envelope"},
		{"a trailing slash is another path", "GET", org + "/invitations/", 405, elasticError("root.method_not_allowed"),
			`{"errors":[{"code":"root.method_not_allowed","message":"m"}]}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://orgd.test"+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.check(req, tc.status, tc.header, []byte(tc.body))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("accepted, want an error about %s", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %v, want one about %s", err, tc.wantErr)
			}
		})
	}
}
