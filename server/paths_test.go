package server_test

import (
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
)

// TestAPIPathsAreNotCleanedIntoOtherOperations: an API path with an empty
// segment, "." or ".." is 404 in its surface's envelope. ServeMux answered
// it with a text/html redirect to the cleaned path, which clients follow
// with the same method and credentials: the Go SDK's create-invitations for
// an empty organization id (POST /organizations//invitations) reached
// /organizations/invitations and was told 405.
func TestAPIPathsAreNotCleanedIntoOtherOperations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		srv := apitest.Start(t, url)
		org := srv.Org("Acme", "acme")
		owner := srv.Member(org, "owner@acme.test", orgd.RoleOwner)
		for _, tc := range []struct{ method, path string }{
			{"POST", "/api/v1/organizations//invitations"},
			{"GET", "/api/v1/organizations//members"},
			{"DELETE", "/api/v1/organizations//members/" + owner.User.ID},
			{"GET", "/api/v1/organizations/./" + org.ID},
			{"GET", "/api/v1/organizations/invitations/.."},
			{"GET", "/api/v1/organizations/" + org.ID + "/../" + org.ID},
		} {
			r := srv.Elastic(tc.method, tc.path, owner.Key, map[string]any{"emails": []string{"x@example.com"}})
			if r.Status != 404 || r.Header.Get("x-cloud-error-codes") != orgd.CodeNotFound || r.Header.Get("Location") != "" {
				t.Errorf("%s %s: %d %q %s", tc.method, tc.path, r.Status, r.Header.Get("x-cloud-error-codes"), r.Body)
			}
		}
		r := srv.Slug("GET", "/api/v1/org/acme//members", owner.Key, nil)
		if r.Status != 404 || r.Header.Get("x-cloud-error-codes") != "" {
			t.Errorf("slug surface: %d %s", r.Status, r.Body)
		}
		// Canonical paths, and the empty list's trailing slash, still work.
		srv.Elastic("GET", "/api/v1/organizations/"+org.ID+"/members", owner.Key, nil).Want(t, 200)
		srv.Elastic("DELETE", "/api/v1/organizations/"+org.ID+"/members/", owner.Key, nil).Want(t, 400)
	})
}
