package dreadnode_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/internal/testdb"
)

// A client may PATCH back an Organization it read: the fields it cannot
// change (max_members, but for platform administrators) are sent with the
// values they have, which changes nothing and needs no more than the
// settings' permission. A different max_members still does.
func TestPatchBackAnOrganizationItRead(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url)
		const path = "/api/v1/org/acme"
		w.srv.Slug("PATCH", path, w.platform.Key, map[string]any{"max_members": 50}).Want(t, 200)
		for _, who := range []struct {
			name string
			key  string
		}{{"owner", w.owner.Key}, {"admin", w.admin.Key}} {
			var read map[string]any
			w.srv.Slug("GET", path, who.key, nil).Want(t, 200).JSON(t, &read)
			if read["max_members"] != float64(50) {
				t.Fatalf("%s read max_members %v, want 50", who.name, read["max_members"])
			}
			before := w.auditEvents(t)
			var back dreadnode.Organization
			w.srv.Slug("PATCH", path, who.key, read).Want(t, 200).JSON(t, &back)
			if back.MaxMembers != 50 {
				t.Errorf("%s: max_members %d after sending it back, want 50", who.name, back.MaxMembers)
			}
			if diff := cmp.Diff(before, w.auditEvents(t)); diff != "" {
				t.Errorf("%s: sending back what it read was recorded (-before +after):\n%s", who.name, diff)
			}
			read["max_members"] = 51
			wantError(t, w.srv.Slug("PATCH", path, who.key, read), 403, orgd.CodeOrgInvalidAccess)
		}
		// The settings' permission is still needed: a reader sending back
		// what it read is refused.
		var read map[string]any
		w.srv.Slug("GET", path, w.reader.Key, nil).Want(t, 200).JSON(t, &read)
		wantError(t, w.srv.Slug("PATCH", path, w.reader.Key, map[string]any{"max_members": read["max_members"]}), 403, orgd.CodeOrgInvalidAccess)
	})
}
