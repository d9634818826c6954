package webhook_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/api/dreadnode"
	"github.com/orgd/orgd/internal/apitest"
	"github.com/orgd/orgd/internal/testdb"
	"github.com/orgd/orgd/internal/webhooktest"
)

const deliveryKind = "webhook_delivery"

// world is a running server with deliveries, an organization with an owner
// and an admin, and another organization with its owner.
type world struct {
	srv                *apitest.Server
	org, other         *orgd.Organization
	owner, admin, boss *apitest.Caller
}

func newWorld(t *testing.T, url string, setup apitest.Setup) *world {
	setup.Webhooks = true
	srv := apitest.StartWith(t, url, setup)
	w := &world{srv: srv, org: srv.Org("Acme", "acme"), other: srv.Org("Other", "other")}
	w.owner = srv.Member(w.org, "owner@acme.test", orgd.RoleOwner)
	w.admin = srv.Member(w.org, "admin@acme.test", orgd.RoleOrgAdmin)
	w.boss = srv.Member(w.other, "boss@other.test", orgd.RoleOwner)
	return w
}

// register registers a receiver for an organization through the slug API
// and returns the endpoint as the answer shows it.
func (w *world) register(t *testing.T, slug, key string, rcv *webhooktest.Receiver, events ...string) dreadnode.WebhookEndpoint {
	t.Helper()
	body := map[string]any{"url": rcv.URL, "description": "test receiver"}
	if events != nil {
		body["events"] = events
	}
	var e dreadnode.WebhookEndpoint
	w.srv.Slug("POST", "/api/v1/org/"+slug+"/webhooks", key, body).Want(t, 200).JSON(t, &e)
	if !strings.HasPrefix(e.Secret, orgd.WebhookSecretPrefix) {
		t.Fatalf("created endpoint %+v has no whsec_ secret", e)
	}
	rcv.SetSecret(t, e.Secret)
	return e
}

// endpoint returns an endpoint as the organization's list shows it.
func (w *world) endpoint(t *testing.T, slug, key, id string) dreadnode.WebhookEndpoint {
	t.Helper()
	var list []dreadnode.WebhookEndpoint
	r := w.srv.Slug("GET", "/api/v1/org/"+slug+"/webhooks", key, nil).Want(t, 200)
	if strings.Contains(string(r.Body), orgd.WebhookSecretPrefix) || strings.Contains(string(r.Body), `"secret"`) {
		t.Errorf("the list of endpoints shows a secret: %s", r.Body)
	}
	r.JSON(t, &list)
	for _, e := range list {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("endpoint %s is not in the list %+v", id, list)
	return dreadnode.WebhookEndpoint{}
}

// waitEndpoint polls the list until the endpoint satisfies done.
func (w *world) waitEndpoint(t *testing.T, slug, key, id, what string, done func(dreadnode.WebhookEndpoint) bool) dreadnode.WebhookEndpoint {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		e := w.endpoint(t, slug, key, id)
		if done(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint %s: %s did not happen within 20 s: %+v", id, what, e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// summary names an event by its type and subject: the invitation's address
// or the member's address.
func summary(ev webhooktest.Event) string {
	if inv, ok := ev.Data["invitation"].(map[string]any); ok {
		return ev.Type + " " + inv["email"].(string)
	}
	if m, ok := ev.Data["member"].(map[string]any); ok {
		return ev.Type + " " + m["email"].(string)
	}
	return ev.Type + " ?"
}

func summaries(evs []webhooktest.Event) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		out = append(out, summary(ev))
	}
	slices.Sort(out)
	return out
}

func tokenOf(t *testing.T, acceptURL string) string {
	t.Helper()
	token, ok := strings.CutPrefix(acceptURL, apitest.PublicURL+"/invitations/")
	if !ok || token == "" {
		t.Fatalf("accept_url %q", acceptURL)
	}
	return token
}

// TestEveryActionThroughBothSurfaces makes every change that has an event,
// through the slug and the Elastic surfaces, and checks that the
// organization's receiver gets each once, signed (the receiver verifies),
// with the documented shape and without tokens or secrets; that another
// organization's receiver gets only its own; and that a server-wide
// endpoint gets what it subscribed to from every organization.
func TestEveryActionThroughBothSurfaces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url, apitest.Setup{})
		acme, other, everywhere := webhooktest.New(t), webhooktest.New(t), webhooktest.New(t)
		hook := w.register(t, "acme", w.admin.Key, acme)
		otherHook := w.register(t, "other", w.boss.Key, other)
		wide, err := w.srv.Svc.CreateWebhookEndpoint(t.Context(), orgd.SystemPrincipal, "", orgd.WebhookEndpointRequest{
			URL: everywhere.URL, Events: []string{orgd.AuditMemberAdded}})
		if err != nil {
			t.Fatal(err)
		}
		everywhere.SetSecret(t, wide.Secret)
		secrets := []string{hook.Secret, otherHook.Secret, wide.Secret}
		slugInvites, elasticInvites := "/api/v1/org/acme/invitations", "/api/v1/organizations/"+w.org.ID+"/invitations"

		// The slug surface invites ann and resends; ann accepts by responding.
		ann := w.srv.User("ann@x.test", false)
		var inv dreadnode.Invitation
		w.srv.Slug("POST", slugInvites, w.admin.Key, map[string]any{"email": "ann@x.test", "role": "contributor", "send_email": false}).Want(t, 200).JSON(t, &inv)
		tokens := []string{tokenOf(t, inv.AcceptURL)}
		w.srv.Clock.Advance(61 * time.Second)
		w.srv.Slug("POST", slugInvites+"/"+inv.ID+"/resend", w.admin.Key, map[string]any{"send_email": false}).Want(t, 200).JSON(t, &inv)
		tokens = append(tokens, tokenOf(t, inv.AcceptURL))
		annInvitation := inv.ID
		w.srv.Slug("POST", "/api/v1/invitations/"+inv.ID+"/respond", ann.Key, map[string]any{"accept": true}).Want(t, 200)

		// The Elastic surface invites bob and refreshes; bob accepts by token.
		bob := w.srv.User("bob@x.test", false)
		var el struct {
			Invitations []struct {
				Token string `json:"token"`
			} `json:"invitations"`
		}
		w.srv.Elastic("POST", elasticInvites, w.owner.Key, map[string]any{"emails": []string{"bob@x.test"}}).Want(t, 201).JSON(t, &el)
		tokens = append(tokens, el.Invitations[0].Token)
		w.srv.Clock.Advance(61 * time.Second)
		w.srv.Elastic("POST", elasticInvites, w.owner.Key, map[string]any{"emails": []string{"bob@x.test"}}).Want(t, 201).JSON(t, &el)
		tokens = append(tokens, el.Invitations[0].Token)
		w.srv.Elastic("POST", "/api/v1/organizations/invitations/"+el.Invitations[0].Token+"/_accept", bob.Key, nil).Want(t, 200)

		// Declined on the slug surface, revoked on both.
		cat := w.srv.User("cat@x.test", false)
		w.srv.Slug("POST", slugInvites, w.admin.Key, map[string]any{"email": "cat@x.test"}).Want(t, 200).JSON(t, &inv)
		w.srv.Slug("POST", "/api/v1/invitations/"+inv.ID+"/respond", cat.Key, map[string]any{"accept": false}).Want(t, 200)
		w.srv.Slug("POST", slugInvites, w.admin.Key, map[string]any{"email": "dan@x.test"}).Want(t, 200).JSON(t, &inv)
		w.srv.Slug("DELETE", slugInvites+"/"+inv.ID, w.admin.Key, nil).Want(t, 200)
		w.srv.Elastic("POST", elasticInvites, w.owner.Key, map[string]any{"emails": []string{"eve@x.test"}}).Want(t, 201).JSON(t, &el)
		tokens = append(tokens, el.Invitations[0].Token)
		w.srv.Elastic("DELETE", elasticInvites+"/"+el.Invitations[0].Token, w.owner.Key, nil).Want(t, 200)

		// Roles change on both surfaces; members leave through both.
		w.srv.Slug("PUT", "/api/v1/org/acme/members/"+ann.User.ID, w.admin.Key, map[string]any{"role": "reader"}).Want(t, 200)
		w.srv.Elastic("POST", "/api/v1/users/"+bob.User.ID+"/role_assignments", w.owner.Key, map[string]any{
			"organization": []map[string]any{{"role_id": "organization-admin", "organization_id": w.org.ID}}}).Want(t, 200)
		w.srv.Slug("DELETE", "/api/v1/org/acme/members/"+ann.User.ID, w.admin.Key, nil).Want(t, 200)
		w.srv.Elastic("DELETE", "/api/v1/organizations/"+w.org.ID+"/members/"+bob.User.ID, w.owner.Key, nil).Want(t, 200)

		// An invitation that expires, and a member the server's
		// administrator adds, whose open invitation that revokes.
		w.srv.Slug("POST", slugInvites, w.admin.Key, map[string]any{"email": "fay@x.test", "expires_in": "1h"}).Want(t, 200)
		w.srv.Clock.Advance(2 * time.Hour)
		w.srv.Slug("POST", slugInvites, w.admin.Key, map[string]any{"email": "gus@acme.test"}).Want(t, 200)
		w.srv.Member(w.org, "gus@acme.test", orgd.RoleReader)

		// In the other organization: one invitation.
		w.srv.Slug("POST", "/api/v1/org/other/invitations", w.boss.Key, map[string]any{"email": "hal@x.test"}).Want(t, 200)

		want := []string{
			"invitation.accepted ann@x.test", "invitation.accepted bob@x.test",
			"invitation.created ann@x.test", "invitation.created bob@x.test", "invitation.created cat@x.test",
			"invitation.created dan@x.test", "invitation.created eve@x.test", "invitation.created fay@x.test",
			"invitation.created gus@acme.test",
			"invitation.declined cat@x.test", "invitation.expired fay@x.test",
			"invitation.refreshed ann@x.test", "invitation.refreshed bob@x.test",
			"invitation.revoked dan@x.test", "invitation.revoked eve@x.test", "invitation.revoked gus@acme.test",
			"member.added ann@x.test", "member.added bob@x.test", "member.added gus@acme.test",
			"member.removed ann@x.test", "member.removed bob@x.test",
			"member.roles_changed ann@x.test", "member.roles_changed bob@x.test",
		}
		got := acme.WaitEvents(t, len(want))
		w.srv.WaitJobsDone(t, deliveryKind)
		got = acme.Events()
		if diff := cmp.Diff(want, summaries(got)); diff != "" {
			t.Errorf("acme's events (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"invitation.created hal@x.test"}, summaries(other.Events())); diff != "" {
			t.Errorf("the other organization's events (-want +got):\n%s", diff)
		}
		// boss joined the other organization before the server-wide endpoint existed.
		if diff := cmp.Diff([]string{"member.added ann@x.test", "member.added bob@x.test", "member.added gus@acme.test"}, summaries(everywhere.Events())); diff != "" {
			t.Errorf("the server-wide endpoint's events (-want +got):\n%s", diff)
		}

		for _, rcv := range []*webhooktest.Receiver{acme, other, everywhere} {
			ids := map[string]bool{}
			for _, ev := range rcv.Events() {
				if ids[ev.ID] {
					t.Errorf("%s came twice to %s", summary(ev), rcv.URL)
				}
				ids[ev.ID] = true
				body := string(ev.Body)
				for _, s := range append(slices.Clone(secrets), tokens...) {
					if strings.Contains(body, s) {
						t.Errorf("%s carries a token or secret: %s", ev.Type, body)
					}
				}
				for _, word := range []string{"token", "secret", "accept_url", orgd.HashSecret(tokens[0])} {
					if strings.Contains(strings.ToLower(body), word) {
						t.Errorf("%s mentions %q: %s", ev.Type, word, body)
					}
				}
			}
		}

		// The shape, on one event of each kind.
		byType := map[string]webhooktest.Event{}
		for _, ev := range got {
			byType[summary(ev)] = ev
		}
		accepted := byType["invitation.accepted ann@x.test"]
		var shape struct {
			Type      string `json:"type"`
			Timestamp string `json:"timestamp"`
			Data      struct {
				Organization map[string]string `json:"organization"`
				Actor        map[string]string `json:"actor"`
				Invitation   map[string]any    `json:"invitation"`
			} `json:"data"`
		}
		if err := json.Unmarshal(accepted.Body, &shape); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse(time.RFC3339Nano, shape.Timestamp); err != nil || shape.Type != "invitation.accepted" {
			t.Errorf("type %q, timestamp %q", shape.Type, shape.Timestamp)
		}
		if diff := cmp.Diff(map[string]string{"id": w.org.ID, "key": "acme", "name": "Acme"}, shape.Data.Organization); diff != "" {
			t.Errorf("organization (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"type": "user", "user_id": ann.User.ID, "email": "ann@x.test"}, shape.Data.Actor); diff != "" {
			t.Errorf("actor (-want +got):\n%s", diff)
		}
		invData := shape.Data.Invitation
		if invData["status"] != "accepted" || invData["role"] != "contributor" || invData["accepted_user_id"] != ann.User.ID ||
			invData["invited_by"] != w.admin.User.ID || invData["invited_by_email"] != "admin@acme.test" || invData["responded_at"] == nil {
			t.Errorf("accepted invitation %v", invData)
		}
		if ex := byType["invitation.expired fay@x.test"].Data; ex["actor"] != nil || ex["invitation"].(map[string]any)["status"] != "expired" {
			t.Errorf("expired: %v", ex)
		}
		roles := byType["member.roles_changed bob@x.test"].Data["member"].(map[string]any)
		if roles["role"] != "organization-admin" || roles["previous_role"] != "reader" || roles["user_id"] != bob.User.ID {
			t.Errorf("roles changed: %v", roles)
		}
		added := byType["member.added ann@x.test"].Data["member"].(map[string]any)
		if added["role"] != "contributor" || added["invitation_id"] != annInvitation {
			t.Errorf("member added: %v", added)
		}
		if gus := byType["member.added gus@acme.test"].Data; gus["actor"].(map[string]any)["type"] != "admin" {
			t.Errorf("member added by orgd admin: %v", gus)
		}
		if gus := byType["invitation.revoked gus@acme.test"].Data; gus["actor"].(map[string]any)["type"] != "admin" ||
			gus["invitation"].(map[string]any)["status"] != "revoked" || gus["reason"] != "the address is a member's" {
			t.Errorf("invitation revoked by orgd admin's add: %v", gus)
		}
		if dan := byType["invitation.revoked dan@x.test"].Data; dan["reason"] != nil {
			t.Errorf("an administrator's revoke carries a reason: %v", dan)
		}

		e := w.endpoint(t, "acme", w.owner.Key, hook.ID)
		if e.LastStatus == nil || *e.LastStatus != 204 || e.ConsecutiveFailures != 0 || e.LastError != nil || e.LastSuccessAt == nil ||
			e.Description == nil || *e.Description != "test receiver" || len(e.Events) != 0 || e.OrgID != w.org.ID {
			t.Errorf("endpoint after deliveries: %+v", e)
		}

		// No job in the outbox holds a token or a secret either.
		rows, err := w.srv.Store.DB().Query(`SELECT args FROM river_job`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var args string
			if err := rows.Scan(&args); err != nil {
				t.Fatal(err)
			}
			for _, s := range append(slices.Clone(secrets), tokens...) {
				if strings.Contains(args, s) {
					t.Errorf("an outbox job holds a token or secret: %s", args)
				}
			}
		}
	})
}

// invite creates an invitation on the slug surface.
func (w *world) invite(t *testing.T, email string, extra ...any) dreadnode.Invitation {
	t.Helper()
	body := map[string]any{"email": email}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	var inv dreadnode.Invitation
	w.srv.Slug("POST", "/api/v1/org/acme/invitations", w.admin.Key, body).Want(t, 200).JSON(t, &inv)
	return inv
}

// TestReceiverDownForAWhile: a receiver that answers 503, then refuses
// connections, then comes back, gets every event once, and the endpoint
// shows the failures while they last.
func TestReceiverDownForAWhile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url, apitest.Setup{})
		rcv := webhooktest.New(t)
		hook := w.register(t, "acme", w.owner.Key, rcv)
		rcv.Answer(503)
		for _, email := range []string{"a@x.test", "b@x.test", "c@x.test"} {
			w.invite(t, email)
		}
		e := w.waitEndpoint(t, "acme", w.owner.Key, hook.ID, "three failed attempts", func(e dreadnode.WebhookEndpoint) bool {
			return e.ConsecutiveFailures >= 3
		})
		if e.LastStatus == nil || *e.LastStatus != 503 || e.LastError == nil || !strings.HasPrefix(*e.LastError, "retrying: HTTP 503") || e.LastSuccessAt != nil {
			t.Errorf("endpoint while the receiver answers 503: %+v", e)
		}

		rcv.Down()
		failures := e.ConsecutiveFailures
		e = w.waitEndpoint(t, "acme", w.owner.Key, hook.ID, "a refused connection", func(e dreadnode.WebhookEndpoint) bool {
			return e.ConsecutiveFailures > failures+2 && e.LastStatus == nil
		})
		if e.LastError == nil || !strings.Contains(*e.LastError, "refused") {
			t.Errorf("endpoint while the receiver is down: %+v", e)
		}
		w.invite(t, "d@x.test")

		rcv.Answer(0)
		rcv.Up(t)
		rcv.WaitEvents(t, 4)
		w.srv.WaitJobsDone(t, deliveryKind)
		want := []string{"invitation.created a@x.test", "invitation.created b@x.test", "invitation.created c@x.test", "invitation.created d@x.test"}
		if diff := cmp.Diff(want, summaries(rcv.Events())); diff != "" {
			t.Errorf("events after the receiver came back (-want +got):\n%s", diff)
		}
		e = w.endpoint(t, "acme", w.owner.Key, hook.ID)
		if e.ConsecutiveFailures != 0 || e.LastError != nil || e.LastStatus == nil || *e.LastStatus != 204 || e.LastSuccessAt == nil {
			t.Errorf("endpoint after the receiver came back: %+v", e)
		}
	})
}

// TestAnswersThatStopRetrying: 408 and 429 are retried like 5xx; any
// other 4xx, and a redirect, stop the delivery at once.
func TestAnswersThatStopRetrying(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url, apitest.Setup{})
		rcv := webhooktest.New(t)
		hook := w.register(t, "acme", w.owner.Key, rcv)

		rcv.AnswerNext(408, 429, 500)
		w.invite(t, "retried@x.test")
		rcv.WaitEvents(t, 1)
		w.srv.WaitJobsDone(t, deliveryKind)
		if n := rcv.Attempts(); n != 4 {
			t.Errorf("408, 429, 500 then 204 took %d attempts, want 4", n)
		}

		for _, status := range []int{400, 401, 404, 410, 301} {
			before := rcv.Attempts()
			rcv.AnswerNext(status)
			w.invite(t, fmt.Sprintf("refused-%d@x.test", status))
			w.srv.WaitJobsDone(t, deliveryKind)
			if n := rcv.Attempts() - before; n != 1 {
				t.Errorf("an answer %d was followed by %d attempts, want 1", status, n)
			}
			e := w.endpoint(t, "acme", w.owner.Key, hook.ID)
			if e.LastStatus == nil || *e.LastStatus != status || e.ConsecutiveFailures != 1 || e.LastError == nil || !strings.HasPrefix(*e.LastError, fmt.Sprintf("HTTP %d", status)) {
				t.Errorf("endpoint after %d: %+v", status, e)
			}
			// The next event goes through; the refused one never comes.
			w.invite(t, fmt.Sprintf("after-%d@x.test", status))
			w.srv.WaitJobsDone(t, deliveryKind)
		}
		want := []string{"invitation.created after-301@x.test", "invitation.created after-400@x.test", "invitation.created after-401@x.test",
			"invitation.created after-404@x.test", "invitation.created after-410@x.test", "invitation.created retried@x.test"}
		if diff := cmp.Diff(want, summaries(rcv.Events())); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

// TestGivesUpAfterTheRetryPeriod: temporary failures are retried until the
// period has passed, then the delivery is given up and the endpoint says so.
func TestGivesUpAfterTheRetryPeriod(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url, apitest.Setup{WebhookRetryPeriod: 300 * time.Millisecond})
		rcv := webhooktest.New(t)
		hook := w.register(t, "acme", w.owner.Key, rcv)
		rcv.Answer(503)
		w.invite(t, "lost@x.test")
		w.srv.WaitJobsDone(t, deliveryKind)
		e := w.endpoint(t, "acme", w.owner.Key, hook.ID)
		if e.LastError == nil || !strings.HasPrefix(*e.LastError, "gave up after") || e.ConsecutiveFailures < 1 {
			t.Errorf("endpoint after giving up: %+v", e)
		}
		if len(rcv.Events()) != 0 {
			t.Errorf("events %v", summaries(rcv.Events()))
		}
	})
}

// TestDeletingAnEndpointStopsItsDeliveries: deliveries still being retried
// for a deleted endpoint are dropped, and new events are not written for it.
func TestDeletingAnEndpointStopsItsDeliveries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url, apitest.Setup{})
		rcv, kept := webhooktest.New(t), webhooktest.New(t)
		hook := w.register(t, "acme", w.owner.Key, rcv)
		w.register(t, "acme", w.owner.Key, kept)
		rcv.Answer(503)
		w.invite(t, "pending@x.test")
		w.waitEndpoint(t, "acme", w.owner.Key, hook.ID, "a failed attempt", func(e dreadnode.WebhookEndpoint) bool { return e.ConsecutiveFailures > 0 })

		var deleted dreadnode.WebhookEndpoint
		w.srv.Slug("DELETE", "/api/v1/org/acme/webhooks/"+hook.ID, w.admin.Key, nil).Want(t, 200).JSON(t, &deleted)
		if deleted.ID != hook.ID || deleted.Secret != "" {
			t.Errorf("deleted %+v", deleted)
		}
		rcv.Answer(0)
		w.invite(t, "later@x.test")
		kept.WaitEvents(t, 2)
		w.srv.WaitJobsDone(t, deliveryKind)
		if len(rcv.Events()) != 0 {
			t.Errorf("a deleted endpoint received %v", summaries(rcv.Events()))
		}
		var list []dreadnode.WebhookEndpoint
		w.srv.Slug("GET", "/api/v1/org/acme/webhooks", w.owner.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list) != 1 || list[0].ID == hook.ID {
			t.Errorf("list after delete %+v", list)
		}
		r := w.srv.Slug("DELETE", "/api/v1/org/acme/webhooks/"+hook.ID, w.admin.Key, nil).Want(t, 404)
		if !strings.Contains(string(r.Body), orgd.CodeWebhookNotFound) {
			t.Errorf("second delete: %s", r.Body)
		}
		// An endpoint of another organization is not found through this one.
		other := w.register(t, "other", w.boss.Key, webhooktest.New(t))
		w.srv.Slug("DELETE", "/api/v1/org/acme/webhooks/"+other.ID, w.admin.Key, nil).Want(t, 404)
	})
}

// TestExpiredOncePerInvitation: the periodic scan announces each expiry
// once, whatever the number of scans, and again after a refresh expires.
func TestExpiredOncePerInvitation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url, apitest.Setup{})
		rcv := webhooktest.New(t)
		w.register(t, "acme", w.owner.Key, rcv, orgd.AuditInvitationExpired)
		first := w.invite(t, "one@x.test", "expires_in", "1h")
		w.invite(t, "two@x.test", "expires_in", "1h")
		w.invite(t, "later@x.test", "expires_in", "5h")
		w.srv.Clock.Advance(2 * time.Hour)
		rcv.WaitEvents(t, 2)
		// More scans, periodic and direct, find nothing new.
		for range 3 {
			if n, err := w.srv.Svc.AnnounceExpiredInvitations(t.Context()); err != nil || n != 0 {
				t.Errorf("another scan announced %d (%v)", n, err)
			}
		}
		w.srv.WaitJobsDone(t, deliveryKind)
		if diff := cmp.Diff([]string{"invitation.expired one@x.test", "invitation.expired two@x.test"}, summaries(rcv.Events())); diff != "" {
			t.Errorf("expired events (-want +got):\n%s", diff)
		}
		events, err := w.srv.Svc.ListAuditEvents(t.Context(), orgd.SystemPrincipal, "acme", orgd.AuditQuery{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range events {
			if ev.Action == orgd.AuditInvitationExpired {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d invitation.expired in the audit log, want 2", n)
		}

		// A resend gives the invitation a new expiry, announced in its turn.
		w.srv.Slug("POST", "/api/v1/org/acme/invitations/"+first.ID+"/resend", w.admin.Key, map[string]any{"expires_in": "1h"}).Want(t, 200)
		w.srv.Clock.Advance(4 * time.Hour) // "later" expires too
		rcv.WaitEvents(t, 4)
		w.srv.WaitJobsDone(t, deliveryKind)
		want := []string{"invitation.expired later@x.test", "invitation.expired one@x.test", "invitation.expired one@x.test", "invitation.expired two@x.test"}
		if diff := cmp.Diff(want, summaries(rcv.Events())); diff != "" {
			t.Errorf("expired events after a resend (-want +got):\n%s", diff)
		}
	})
}

// TestRegistration: what may be registered, by whom, and what is refused.
func TestRegistration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, url string) {
		w := newWorld(t, url, apitest.Setup{Limits: []apitest.Option{func(l *orgd.Limits) { l.WebhookAllowPrivate = false }}})
		path := "/api/v1/org/acme/webhooks"
		refused := []struct {
			body any
			code string
			loc  string
		}{
			{map[string]any{}, "missing", "url"},
			{map[string]any{"url": 5}, "string_type", "url"},
			{map[string]any{"url": "hooks.example.com/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "ftp://hooks.example.com/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "https://user:pw@hooks.example.com/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "https://hooks.example.com/x#frag"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "https://hooks.example.com:99999/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "https://hooks.example.com:65536/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "https://hooks.example.com:0/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "https://hooks.example.com:https/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "http://127.0.0.1:8080/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "http://localhost/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "http://api.localhost/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "http://10.1.2.3/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "http://[::1]/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "http://169.254.169.254/latest/meta-data"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "http://[::ffff:192.168.1.1]/x"}, orgd.CodeWebhookURL, "url"},
			{map[string]any{"url": "https://hooks.example.com/x", "events": []string{"member.added", "member.exploded"}}, orgd.CodeWebhookEvent, "events.1"},
			{map[string]any{"url": "https://hooks.example.com/x", "events": "member.added"}, "list_type", "events"},
			{map[string]any{"url": "https://hooks.example.com/x", "description": "two\nlines"}, orgd.CodeInvalidData, "description"},
		}
		for _, tc := range refused {
			r := w.srv.Slug("POST", path, w.owner.Key, tc.body).Want(t, 422)
			var e dreadnode.ErrorEnvelope
			r.JSON(t, &e)
			loc := []string{}
			for _, l := range e.Errors[0].Loc {
				loc = append(loc, fmt.Sprint(l))
			}
			if e.Errors[0].Type != tc.code || strings.Join(loc, ".") != "body."+tc.loc {
				t.Errorf("%v: %s, want %s at body.%s", tc.body, r.Body, tc.code, tc.loc)
			}
		}

		var e dreadnode.WebhookEndpoint
		w.srv.Slug("POST", path, w.admin.Key, map[string]any{"url": "https://Hooks.Example.com:8443/orgd?k=v",
			"events": []string{"member.added", "invitation.accepted", "member.added"}}).Want(t, 200).JSON(t, &e)
		if e.URL != "https://Hooks.Example.com:8443/orgd?k=v" || !slices.Equal(e.Events, []string{"member.added", "invitation.accepted"}) ||
			e.OrgID != w.org.ID || e.LastStatus != nil || e.LastAttemptAt != nil || e.Description != nil {
			t.Errorf("created %+v", e)
		}
		for i := 1; i < orgd.MaxWebhookEndpoints; i++ {
			w.srv.Slug("POST", path, w.owner.Key, map[string]any{"url": fmt.Sprintf("https://hooks.example.com/%d", i)}).Want(t, 200)
		}
		r := w.srv.Slug("POST", path, w.owner.Key, map[string]any{"url": "https://hooks.example.com/one-too-many"}).Want(t, 409)
		if !strings.Contains(string(r.Body), orgd.CodeWebhookLimit) {
			t.Errorf("over the limit: %s", r.Body)
		}
		// The other organization has its own list, and its own limit.
		var list []dreadnode.WebhookEndpoint
		w.srv.Slug("GET", "/api/v1/org/other/webhooks", w.boss.Key, nil).Want(t, 200).JSON(t, &list)
		if len(list) != 0 {
			t.Errorf("other's list %+v", list)
		}
		w.srv.Slug("POST", "/api/v1/org/other/webhooks", w.boss.Key, map[string]any{"url": "https://hooks.example.com/other"}).Want(t, 200)
	})
}
