package httpx_test

import (
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/httpx"
)

// TestInvitationQueryStatus: a status or email_status filter that names no
// value is refused like a bad value on both surfaces, not read as no filter.
func TestInvitationQueryStatus(t *testing.T) {
	defaults := []orgd.InvitationState{orgd.StatePending}
	for _, tc := range []struct {
		query  string
		states []orgd.InvitationState
		emails []orgd.EmailStatus
		bad    string // the refused parameter; "" for none
	}{
		{"", defaults, nil, ""},
		{"status=", defaults, nil, ""},
		{"status=declined,+revoked,", []orgd.InvitationState{orgd.StateDeclined, orgd.StateRevoked}, nil, ""},
		{"status=pending,all", nil, nil, ""},
		{"email_status=failed", defaults, []orgd.EmailStatus{orgd.EmailFailed}, ""},
		{"status=,", nil, nil, "status"},
		{"status=%20", nil, nil, "status"},
		{"status=+,+", nil, nil, "status"},
		{"status=all,bogus", nil, nil, "status"},
		{"email_status=,", nil, nil, "email_status"},
		{"email_status=%20", nil, nil, "email_status"},
	} {
		for _, style := range []struct {
			httpx.QueryStyle
			field, code string
		}{
			{httpx.ElasticQuery, tc.bad, orgd.CodeInvalidData},
			{httpx.SlugQuery, "query." + tc.bad, "enum"},
		} {
			f, _, err := httpx.InvitationQuery(httptest.NewRequest("GET", "/?"+tc.query, nil), style.QueryStyle, defaults, 0)
			if tc.bad != "" {
				if e, ok := err.(*orgd.Error); !ok || e.Kind != orgd.KindInvalid || e.Field != style.field || e.Code != style.code {
					t.Errorf("?%s (%+v): error %v, want %s at %s", tc.query, style.QueryStyle, err, style.code, style.field)
				}
				continue
			}
			if err != nil {
				t.Errorf("?%s: %v", tc.query, err)
				continue
			}
			if diff := cmp.Diff(tc.states, f.States); diff != "" || !slices.Equal(tc.emails, f.EmailStatuses) {
				t.Errorf("?%s: states (-want +got):\n%s email statuses %v, want %v", tc.query, diff, f.EmailStatuses, tc.emails)
			}
		}
	}
}
