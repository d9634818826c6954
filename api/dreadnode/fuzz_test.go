package dreadnode_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/store"
)

// The fuzz targets below send fuzzed bodies to the real handlers of the
// slug surface, each for an organization of its own, and judge every
// answer by the documented rules: never a 5xx, JSON always, the slug
// envelope on errors with every bad field of the body reported at once,
// and a 2xx exactly when the body breaks no rule.

// fuzzWorld is a server for fuzzing with an owner, an invitee and a
// platform administrator.
type fuzzWorld struct {
	srv                      *apitest.Server
	owner, invitee, platform *apitest.Caller
}

func newFuzzWorld(f *testing.F) *fuzzWorld {
	srv := apitest.Start(f, testdb.URL(f, store.SQLite), apitest.Unlimited)
	return &fuzzWorld{srv: srv, owner: srv.User("owner@fuzz.test", false),
		invitee: srv.User("invitee@fuzz.test", false), platform: srv.User("root@fuzz.test", true)}
}

// newOrg creates an organization of the owner's for one input.
func (w *fuzzWorld) newOrg(t *testing.T) *orgd.Organization {
	t.Helper()
	org, err := w.srv.OwnedOrg(w.owner.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// send sends body as caller; every answer is JSON.
func (w *fuzzWorld) send(t *testing.T, caller *apitest.Caller, method, path string, body []byte) *apitest.Response {
	t.Helper()
	r, err := w.srv.Do(method, path, map[string]string{"Authorization": "Bearer " + caller.Key}, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CheckJSON(); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return r
}

// slugBody is a request body as the rules read it: a JSON object, its
// fields, and the validation type of every field it gets wrong.
type slugBody struct {
	fields   map[string]json.RawMessage
	problems []string
}

// readSlugBody reads body as a JSON object; when it is not one, fields is
// nil and the one problem says why.
func readSlugBody(body []byte) *slugBody {
	b := &slugBody{}
	if len(bytes.TrimSpace(body)) == 0 || !json.Valid(body) {
		b.problems = []string{"json_invalid"}
	} else if json.Unmarshal(body, &b.fields) != nil || b.fields == nil {
		b.fields, b.problems = nil, []string{"model_attributes_type"}
	}
	return b
}

// refused checks that r refuses body with a 422 for its problems, if it
// has any, and reports whether it has.
func (b *slugBody) refused(t *testing.T, body []byte, r *apitest.Response) bool {
	t.Helper()
	if len(b.problems) == 0 {
		return false
	}
	wantSlugError(t, body, r, 422, b.problems)
	return true
}

// get decodes a field that is present and not null into dst, noting typ
// if it has another type; null is as absent (a nullable field). It reports
// whether the field was given.
func (b *slugBody) get(name, typ string, dst any) bool {
	v, ok := b.fields[name]
	if !ok || string(v) == "null" {
		return false
	}
	if json.Unmarshal(v, dst) != nil {
		b.problems = append(b.problems, typ)
		return false
	}
	return true
}

// getNotNull is get for a field that may be absent but is not nullable:
// null is noted as typ, like a value of another type.
func (b *slugBody) getNotNull(name, typ string, dst any) bool {
	if string(b.fields[name]) == "null" {
		b.problems = append(b.problems, typ)
		return false
	}
	return b.get(name, typ, dst)
}

// getStrings is getNotNull for a list of strings, as pydantic's list[str]:
// a value that is not a list is list_type, each item that is not a string
// (null included) string_type.
func (b *slugBody) getStrings(name string, dst *[]string) bool {
	var items []json.RawMessage
	if !b.getNotNull(name, "list_type", &items) {
		return false
	}
	*dst = make([]string, len(items))
	ok := true
	for i, item := range items {
		if string(item) == "null" || json.Unmarshal(item, &(*dst)[i]) != nil {
			b.problems, ok = append(b.problems, "string_type"), false
		}
	}
	return ok
}

// getRequired is getNotNull for a required field: absent is missing, and
// null is noted as typ.
func (b *slugBody) getRequired(name, typ string, dst any) bool {
	if _, ok := b.fields[name]; !ok {
		b.problems = append(b.problems, "missing")
		return false
	}
	return b.getNotNull(name, typ, dst)
}

// wantSlugError checks the slug envelope of an answer with status whose
// entries' types are exactly types, in any order.
func wantSlugError(t *testing.T, body []byte, r *apitest.Response, status int, types []string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("body %q: status %d, want %d (%q); answer %s", body, r.Status, status, types, r.Body)
	}
	got, err := apitest.SlugTypes(r)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	types = slices.Sorted(slices.Values(types))
	if !slices.Equal(got, types) {
		t.Errorf("body %q: entries %q, want %q", body, got, types)
	}
}

func decodeOK(t *testing.T, r *apitest.Response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("200 with %s: %v", r.Body, err)
	}
}

func lifetime(t *testing.T, created, expires string) time.Duration {
	t.Helper()
	c, err1 := time.Parse(time.RFC3339Nano, created)
	e, err2 := time.Parse(time.RFC3339Nano, expires)
	if err1 != nil || err2 != nil {
		t.Fatalf("times %q, %q", created, expires)
	}
	return e.Sub(c)
}

// FuzzInviteBody fuzzes POST /org/{org}/invitations as an owner.
func FuzzInviteBody(f *testing.F) {
	for _, s := range []string{
		`{"email":"bob@example.com"}`, `{"email":" Bob@Example.COM ","role":"owner","send_email":false,"expires_in":"2w"}`,
		`{"email":"a@bücher.example","role":"contributor","expires_in":3600}`, `{"email":"a@example.com","expires_in":3600.5}`,
		`{"email":"a@example.com","expires_in":-1}`, `{"email":"a@example.com","expires_in":1e300}`, `{"email":"a@example.com","expires_in":""}`,
		`{"email":"a@example.com","expires_in":"90d"}`, `{"email":"a@example.com","expires_in":true}`, `{"email":"a@example.com","expires_in":null}`,
		`{"email":"owner@fuzz.test"}`, `{"email":"Bob <bob@example.com>"}`, `{"email":5,"role":"admin","send_email":"yes","expires_in":[]}`,
		`{"email":null}`, `{}`, `[]`, `null`, `"x"`, ``, `{"email":"a@example.com"}]`, `{"email":"a@example.com","role":null}`,
		`{"email":"a@example.com","send_email":null}`, `{"email":"a@example.com","role":5}`, `{"email":null,"role":null,"send_email":null,"expires_in":null}`,
		`{"email":"a@example.com","role":"organization-admin"}`, `{"email":"a@example.com","email":"b@example.com"}`,
	} {
		f.Add([]byte(s))
	}
	w := newFuzzWorld(f)
	limits := w.srv.Svc.Limits()
	f.Fuzz(func(t *testing.T, body []byte) {
		org := w.newOrg(t)
		r := w.send(t, w.owner, "POST", "/api/v1/org/"+org.Slug+"/invitations", body)
		b := readSlugBody(body)
		if b.refused(t, body, r) {
			return
		}
		var email, role, expiresIn string
		// Null is refused for every field but expires_in, whose null is
		// the default lifetime.
		b.getRequired("email", "string_type", &email)
		role = string(orgd.RoleReader)
		if b.getNotNull("role", "enum", &role) && !slices.Contains([]string{"owner", "contributor", "reader"}, role) {
			b.problems, role = append(b.problems, "enum"), string(orgd.RoleReader)
		}
		sendEmail := true
		b.getNotNull("send_email", "bool_type", &sendEmail)
		if v, ok := b.fields["expires_in"]; ok && string(v) != "null" && json.Unmarshal(v, &expiresIn) != nil {
			var secs float64
			if json.Unmarshal(v, &secs) != nil || secs != math.Trunc(secs) || secs <= 0 || secs >= 1e12 {
				b.problems = append(b.problems, "duration_type")
			}
			expiresIn = fmt.Sprintf("%ds", int64(secs))
		}
		if b.refused(t, body, r) {
			return
		}
		ttl, err := orgd.ParseDuration(expiresIn)
		if expiresIn == "" {
			ttl, err = limits.DefaultExpiry, nil
		}
		addr, addrErr := orgd.ParseEmail(email)
		switch {
		case err != nil || ttl < limits.MinExpiry || ttl > limits.MaxExpiry:
			wantSlugError(t, body, r, 422, []string{orgd.CodeInviteExpiry})
		case addrErr != nil:
			wantSlugError(t, body, r, 422, []string{orgd.CodeInviteInvalidMail})
		case addr.Norm == w.owner.User.EmailNorm:
			wantSlugError(t, body, r, 409, []string{orgd.CodeAlreadyMember})
		case r.Status != http.StatusOK:
			t.Fatalf("body %q: status %d, want 200; answer %s", body, r.Status, r.Body)
		default:
			var inv dreadnode.Invitation
			decodeOK(t, r, &inv)
			if got, err := orgd.ParseEmail(inv.Email); err != nil || got.Norm != addr.Norm {
				t.Errorf("invited %q (%v), want %s", inv.Email, err, addr.Norm)
			}
			emailStatus := orgd.EmailQueued
			if !sendEmail {
				emailStatus = orgd.EmailNotRequested
			}
			if inv.Role != role || inv.Status != "pending" || inv.OrgID != org.ID || inv.EmailStatus != string(emailStatus) ||
				(inv.AcceptURL != "") == sendEmail || !sendEmail && !strings.HasPrefix(inv.AcceptURL, apitest.PublicURL+"/invitations/") {
				t.Errorf("body %q: invitation %+v", body, inv)
			}
			if got := lifetime(t, inv.CreatedAt, inv.ExpiresAt); got != ttl {
				t.Errorf("body %q: lifetime %s, want %s", body, got, ttl)
			}
		}
	})
}

// FuzzUpdateOrganizationBody fuzzes PATCH /org/{org} as an owner or, when
// asPlatform, as a platform administrator (who alone changes max_members).
func FuzzUpdateOrganizationBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"Acme Labs"}`, `{"name":"  Ünïcödé Co  ","description":"  We make things  "}`, `{"name":"A"}`, `{"name":"` + strings.Repeat("é", 31) + `"}`,
		`{"name":"Tab\tCo"}`, `{"name":"\u0085Co"}`, `{"description":""}`, `{"description":"` + strings.Repeat("d", 1001) + `"}`,
		`{"allow_external_invites":false,"allowed_email_domains":["Acme.test","acme.test"," partner.test "]}`,
		`{"allowed_email_domains":["bücher.example","xn--bcher-kva.example"]}`, `{"allowed_email_domains":["not a domain"]}`,
		`{"allowed_email_domains":[]}`, `{"allowed_email_domains":null}`, `{"description":null}`, `{"name":null,"max_members":null}`,
		`{"allow_external_invites":null,"description":"d"}`, `{"allowed_email_domains":"acme.test"}`, `{"allowed_email_domains":[1]}`,
		`{"allowed_email_domains":["acme.test",null,true,{}]}`, `{"allowed_email_domains":{"acme.test":1}}`,
		`{"max_members":10}`, `{"max_members":-1}`, `{"max_members":0}`, `{"max_members":1.5}`, `{"max_members":3e9}`, `{"max_members":"10"}`,
		`{"name":5,"max_members":"x","allow_external_invites":"no"}`, `{}`, `[1,2]`, `{"name":`, `null`, ``, `{"name":"Acme"}}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, body []byte, asPlatform bool) {
		caller := w.owner
		if asPlatform {
			caller = w.platform
		}
		org := w.newOrg(t)
		r := w.send(t, caller, "PATCH", "/api/v1/org/"+org.Slug, body)
		b := readSlugBody(body)
		if b.refused(t, body, r) {
			return
		}
		var name, description string
		var allowExternal bool
		var domains []string
		var maxMembers float64
		// Null clears the description (of the new organization: empty
		// already) and is refused for the other fields.
		hasName := b.getNotNull("name", "string_type", &name)
		hasDescription := b.get("description", "string_type", &description)
		hasAllow := b.getNotNull("allow_external_invites", "bool_type", &allowExternal)
		hasDomains := b.getStrings("allowed_email_domains", &domains)
		hasMax := b.getNotNull("max_members", "int_type", &maxMembers)
		if hasMax && (maxMembers != math.Trunc(maxMembers) || maxMembers < math.MinInt32 || maxMembers > math.MaxInt32) {
			b.problems = append(b.problems, "int_type")
		}
		if b.refused(t, body, r) {
			return
		}
		name, description = strings.TrimSpace(name), strings.TrimSpace(description)
		wantDomains, sure := normalDomains(domains)
		switch n := utf8.RuneCountInString(name); {
		case hasMax && !asPlatform && maxMembers != float64(org.MaxMembers):
			// The limit the organization has, sent back, is no change.
			wantSlugError(t, body, r, 403, []string{orgd.CodeOrgInvalidAccess})
		case hasMax && maxMembers < 0:
			wantSlugError(t, body, r, 422, []string{orgd.CodeInvalidData})
		case hasName && (n < 2 || n > 30 || strings.IndexFunc(name, unicode.IsControl) >= 0):
			wantSlugError(t, body, r, 422, []string{orgd.CodeOrgInvalidName})
		case hasDescription && utf8.RuneCountInString(description) > 1000:
			wantSlugError(t, body, r, 422, []string{orgd.CodeInvalidData})
		case hasDomains && sure && (len(domains) > 100 || wantDomains == nil):
			wantSlugError(t, body, r, 422, []string{orgd.CodeInvalidData})
		case r.Status != http.StatusOK:
			if !sure && r.Status == 422 {
				return // a domain the oracle cannot judge, judged invalid
			}
			t.Fatalf("body %q: status %d, want 200; answer %s", body, r.Status, r.Body)
		default:
			var got dreadnode.Organization
			decodeOK(t, r, &got)
			want := dreadnode.Organization{Name: org.Name, Key: org.Slug, AllowExternalInvites: true, AllowedEmailDomains: []string{}}
			if hasName {
				want.Name = name
			}
			if hasDescription && description != "" {
				want.Description = &description
			}
			if hasAllow {
				want.AllowExternalInvites = allowExternal
			}
			if hasDomains && sure {
				want.AllowedEmailDomains = wantDomains
			} else if hasDomains {
				want.AllowedEmailDomains = got.AllowedEmailDomains
			}
			if hasMax {
				want.MaxMembers = int(maxMembers)
			}
			if got.Name != want.Name || got.Key != want.Key || text(got.Description) != text(want.Description) ||
				got.AllowExternalInvites != want.AllowExternalInvites || !slices.Equal(got.AllowedEmailDomains, want.AllowedEmailDomains) ||
				got.MaxMembers != want.MaxMembers {
				t.Errorf("body %q: organization %+v, want %+v", body, got, want)
			}
		}
	})
}

func text(p *string) string {
	if p == nil {
		return "null"
	}
	return strconv.Quote(*p)
}

// normalDomains returns the normalized, de-duplicated domains of a list,
// nil if one is not a domain. A domain is valid when an address at it is,
// which the oracle cannot tell only near the length limits (sure false).
func normalDomains(list []string) (out []string, sure bool) {
	out = []string{}
	for _, d := range list {
		d = strings.TrimSpace(d)
		if len(d) > 200 {
			return nil, false
		}
		e, err := orgd.ParseEmail("a@" + d)
		if err != nil || strings.ContainsAny(d, "@") {
			return nil, true
		}
		if norm := orgd.EmailDomain(e.Norm); !slices.Contains(out, norm) {
			out = append(out, norm)
		}
	}
	return out, true
}

// FuzzRespondBody fuzzes POST /invitations/{id}/respond by the invitee of
// a new invitation.
func FuzzRespondBody(f *testing.F) {
	for _, s := range []string{
		`{"accept":true}`, `{"accept":false}`, `{"accept":"true"}`, `{"accept":1}`, `{"accept":null}`, `{}`, `{"Accept":true}`,
		`{"accept":true,"accept":false}`, `{"accept":true,"extra":[1,2]}`, `[]`, `null`, `true`, ``, ` `, `{"accept":true}]`, `{"accept":tru}`,
	} {
		f.Add([]byte(s))
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		org := w.newOrg(t)
		_, issued, err := w.srv.Svc.CreateInvitations(t.Context(), orgd.SystemPrincipal, org.ID, orgd.InviteRequest{Emails: []string{w.invitee.User.Email}})
		if err != nil {
			t.Fatal(err)
		}
		r := w.send(t, w.invitee, "POST", "/api/v1/invitations/"+issued[0].ID+"/respond", body)
		b := readSlugBody(body)
		if b.refused(t, body, r) {
			return
		}
		var accept bool
		b.getRequired("accept", "bool_type", &accept)
		if b.refused(t, body, r) {
			return
		}
		if r.Status != http.StatusOK {
			t.Fatalf("body %q: status %d, want 200; answer %s", body, r.Status, r.Body)
		}
		if accept {
			var m dreadnode.Member
			decodeOK(t, r, &m)
			if m.OrgID != org.ID || m.UserID != w.invitee.User.ID || m.Role != string(orgd.RoleReader) {
				t.Errorf("body %q: member %+v", body, m)
			}
			return
		}
		var inv dreadnode.Invitation
		decodeOK(t, r, &inv)
		if inv.ID != issued[0].ID || inv.Status != string(orgd.StateDeclined) || inv.RespondedAt == nil {
			t.Errorf("body %q: invitation %+v", body, inv)
		}
	})
}
