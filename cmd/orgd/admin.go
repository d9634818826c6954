package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/config"
)

// adminCommand is one `orgd admin` command. setup declares its flags and
// returns what runs once they are parsed.
type adminCommand struct {
	path     string
	synopsis string
	setup    func(fs *flag.FlagSet) func(a *adminRun) error
}

// adminRun is what an admin command runs with.
type adminRun struct {
	*env
	svc  *orgd.Service
	json bool
}

var adminCommands = []adminCommand{
	{"org create", "orgd admin org create --name NAME [--slug SLUG] [--json]", adminOrgCreate},
	{"org list", "orgd admin org list [--json]", adminOrgList},
	{"user create", "orgd admin user create --email EMAIL [--name NAME] [--platform-admin] [--json]", adminUserCreate},
	{"user platform-admin", "orgd admin user platform-admin --email EMAIL [--revoke] [--json]", adminUserPlatformAdmin},
	{"key create", "orgd admin key create --email EMAIL [--name NAME] [--expires-in DURATION] [--json]", adminKeyCreate},
	{"key list", "orgd admin key list --email EMAIL [--json]", adminKeyList},
	{"key revoke", "orgd admin key revoke --id KEY_ID [--json]", adminKeyRevoke},
	{"member add", "orgd admin member add --org ID_OR_SLUG --email EMAIL --role ROLE [--json]", adminMemberAdd},
	{"audit list", "orgd admin audit list [--org ID_OR_SLUG] [--limit N] [--json]", adminAuditList},
	{"webhook create", "orgd admin webhook create --url URL [--org ID_OR_SLUG] [--events TYPE,...] [--description TEXT] [--json]", adminWebhookCreate},
	{"webhook list", "orgd admin webhook list [--org ID_OR_SLUG] [--json]", adminWebhookList},
	{"webhook delete", "orgd admin webhook delete --id ID [--json]", adminWebhookDelete},
}

func adminUsage() string {
	var b strings.Builder
	b.WriteString("Usage: orgd admin <command> [flags]\n\nCommands:\n")
	for _, c := range adminCommands {
		fmt.Fprintf(&b, "  %s\n", c.synopsis)
	}
	b.WriteString("\nThey work on the database of the configuration (--data-dir, --database-url),\nalso while orgd serve runs on it. Run a command with -h for its flags.\n")
	return b.String()
}

// admin runs an administration command against the configured database.
func (e *env) admin(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, adminUsage())
		if len(args) == 0 {
			return usageError{"admin needs a command"}
		}
		return nil
	}
	if len(args) < 2 {
		return usageError{fmt.Sprintf("unknown admin command %q\n\n%s", strings.Join(args, " "), adminUsage())}
	}
	path := args[0] + " " + args[1]
	for _, c := range adminCommands {
		if c.path != path {
			continue
		}
		fs := e.newFlags("orgd admin "+path, c.synopsis)
		loader := config.Register(fs, config.Storage|config.Rules)
		asJSON := fs.Bool("json", false, "print JSON for scripts")
		runCmd := c.setup(fs)
		cfg, err := e.parse(fs, loader, args[2:])
		if err != nil {
			return err
		}
		if err := checkRequired(fs); err != nil {
			return err
		}
		// Admin commands log only warnings: their output is for people and scripts.
		cfg.LogLevel = max(cfg.LogLevel, slog.LevelWarn)
		log := e.logger(cfg)
		svc, st, err := e.openService(cfg, log, false, nil, nil)
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := openOutbox(st, log, nil, cfg); err != nil {
			return err
		}
		ae := *e
		ae.ctx = orgd.WithOrigin(e.ctx, orgd.Origin{Surface: "admin"})
		return runCmd(&adminRun{env: &ae, svc: svc, json: *asJSON})
	}
	return usageError{fmt.Sprintf("unknown admin command %q\n\n%s", path, adminUsage())}
}

// checkRequired refuses a command whose flag marked "(required)" in its
// usage is missing, before the command touches the database.
func checkRequired(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err == nil && strings.HasSuffix(f.Usage, "(required)") && strings.TrimSpace(f.Value.String()) == "" {
			err = usageError{"--" + f.Name + " is required"}
		}
	})
	return err
}

// print writes v as JSON with --json, else the text for people. The JSON
// types print every key always, as the README's admin table lists them.
func (a *adminRun) print(v any, text string) error {
	if a.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprint(a.stdout, text)
	return err
}

type orgJSON struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func adminOrgCreate(fs *flag.FlagSet) func(*adminRun) error {
	name := fs.String("name", "", "organization name, 2 to 30 characters (required)")
	slug := fs.String("slug", "", "organization key used in slug API paths (default: derived from the name)")
	return func(a *adminRun) error {
		org, err := a.svc.CreateOrganization(a.ctx, orgd.SystemPrincipal, *name, *slug)
		if err != nil {
			return err
		}
		return a.print(orgJSON{org.ID, org.Slug, org.Name},
			fmt.Sprintf("Created organization %q\n  id:   %s\n  slug: %s\n", org.Name, org.ID, org.Slug))
	}
}

func adminOrgList(fs *flag.FlagSet) func(*adminRun) error {
	return func(a *adminRun) error {
		orgs, err := a.svc.ListOrganizations(a.ctx, orgd.SystemPrincipal)
		if err != nil {
			return err
		}
		out := make([]orgJSON, 0, len(orgs))
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSLUG\tNAME")
		for _, o := range orgs {
			out = append(out, orgJSON{o.ID, o.Slug, o.Name})
			fmt.Fprintf(tw, "%s\t%s\t%s\n", o.ID, o.Slug, o.Name)
		}
		tw.Flush()
		return a.print(out, b.String())
	}
}

type userJSON struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	PlatformAdmin bool   `json:"platform_admin"`
}

func adminUserCreate(fs *flag.FlagSet) func(*adminRun) error {
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "full name")
	admin := fs.Bool("platform-admin", false, "make the user a platform administrator, who may act on every organization")
	return func(a *adminRun) error {
		u, err := a.svc.CreateUser(a.ctx, orgd.SystemPrincipal, *email, *name, *admin)
		if err != nil {
			return err
		}
		role := ""
		if u.PlatformAdmin {
			role = " (platform administrator)"
		}
		return a.print(userJSON{u.ID, u.Email, u.Name, u.PlatformAdmin},
			fmt.Sprintf("Created user %s%s\n  id: %s\n", u.Email, role, u.ID))
	}
}

func adminUserPlatformAdmin(fs *flag.FlagSet) func(*adminRun) error {
	email := fs.String("email", "", "email address or id of the user (required)")
	revoke := fs.Bool("revoke", false, "take the platform administrator role away")
	return func(a *adminRun) error {
		u, err := a.svc.SetPlatformAdmin(a.ctx, orgd.SystemPrincipal, *email, !*revoke)
		if err != nil {
			return err
		}
		what := "is now a platform administrator"
		if *revoke {
			what = "is no longer a platform administrator"
		}
		return a.print(userJSON{u.ID, u.Email, u.Name, u.PlatformAdmin}, fmt.Sprintf("%s %s\n", u.Email, what))
	}
}

type keyJSON struct {
	Key       string  `json:"key"`
	UserID    string  `json:"user_id"`
	ID        string  `json:"id"`
	Prefix    string  `json:"prefix"`
	ExpiresAt *string `json:"expires_at"` // null: no expiry
}

// defaultKeyName names the keys of key create without --name: every key has
// a name, and this one says where the key came from.
const defaultKeyName = "orgd admin"

func adminKeyCreate(fs *flag.FlagSet) func(*adminRun) error {
	email := fs.String("email", "", "email address or id of the key's user (required)")
	name := fs.String("name", defaultKeyName, "a name to recognise the key by, not empty")
	var lifetime string
	fs.Func("expires-in", `lifetime such as "90d" (default: no expiry)`, func(v string) error {
		_, err := orgd.ParseLifetime(v) // refused before the database is opened
		lifetime = v
		return err
	})
	return func(a *adminRun) error {
		k, err := a.svc.CreateAPIKey(a.ctx, orgd.SystemPrincipal, *email, *name, lifetime)
		if err != nil {
			return err
		}
		out := keyJSON{Key: k.Secret, UserID: k.UserID, ID: k.ID, Prefix: k.Prefix}
		if !k.ExpiresAt.IsZero() {
			at := k.ExpiresAt.Format(time.RFC3339)
			out.ExpiresAt = &at
		}
		return a.print(out, fmt.Sprintf(`Created API key %s for %s. It is shown only this once:

  %s

Use it as "Authorization: ApiKey <key>" (Elastic API) or "Authorization: Bearer <key>" (slug API).
`, k.Prefix, *email, k.Secret))
	}
}

type memberJSON struct {
	OrganizationID string `json:"organization_id"`
	UserID         string `json:"user_id"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	Role           string `json:"role"`
	MemberSince    string `json:"member_since"`
}

func adminMemberAdd(fs *flag.FlagSet) func(*adminRun) error {
	org := fs.String("org", "", "organization id or slug (required)")
	email := fs.String("email", "", "email address or id of an existing user (required)")
	role := fs.String("role", "", "organization role: owner, organization-admin, billing-admin, contributor or reader (required)")
	return func(a *adminRun) error {
		r, ok := orgd.ParseRole(*role)
		if !ok {
			return orgd.FieldError(orgd.CodeInvalidRole, "role", "%q is not a role; the roles are owner, organization-admin, billing-admin, contributor and reader.", *role)
		}
		m, err := a.svc.AddMember(a.ctx, orgd.SystemPrincipal, *org, *email, r)
		if err != nil {
			return err
		}
		return a.print(memberJSON{m.OrgID, m.UserID, m.Email, m.Name, string(m.Role), m.MemberSince.Format(time.RFC3339Nano)},
			fmt.Sprintf("%s is now a member of %s with the role %s\n", m.Email, *org, m.Role))
	}
}

// keyStatus is how a key stands at now.
func keyStatus(k *orgd.APIKey, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.Usable(now):
		return "expired"
	}
	return "active"
}

type keyListJSON struct {
	ID         string  `json:"id"`
	Prefix     string  `json:"prefix"`
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	ExpiresAt  *string `json:"expires_at"`
}

func optionalRFC3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.RFC3339)
	return &s
}

func adminKeyList(fs *flag.FlagSet) func(*adminRun) error {
	email := fs.String("email", "", "email address or id of the user (required)")
	return func(a *adminRun) error {
		keys, err := a.svc.ListAPIKeys(a.ctx, orgd.SystemPrincipal, *email)
		if err != nil {
			return err
		}
		now := time.Now()
		out := make([]keyListJSON, 0, len(keys))
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tSTATUS\tCREATED\tLAST USED")
		for _, k := range keys {
			j := keyListJSON{ID: k.ID, Prefix: k.Prefix, Name: k.Name, Status: keyStatus(k, now), CreatedAt: k.CreatedAt.Format(time.RFC3339),
				LastUsedAt: optionalRFC3339(k.LastUsedAt), ExpiresAt: optionalRFC3339(k.ExpiresAt)}
			out = append(out, j)
			lastUsed := "never"
			if j.LastUsedAt != nil {
				lastUsed = *j.LastUsedAt
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Prefix, j.Name, j.Status, j.CreatedAt, lastUsed)
		}
		tw.Flush()
		return a.print(out, b.String())
	}
}

func adminKeyRevoke(fs *flag.FlagSet) func(*adminRun) error {
	id := fs.String("id", "", "id of the key, as key list shows it (required)")
	return func(a *adminRun) error {
		if err := a.svc.RevokeAPIKeys(a.ctx, orgd.SystemPrincipal, []string{*id}); err != nil {
			return err
		}
		return a.print(map[string]string{"id": *id, "status": "revoked"}, fmt.Sprintf("Revoked API key %s\n", *id))
	}
}

type auditJSON struct {
	ID        string         `json:"id"`
	At        string         `json:"at"`
	OrgID     string         `json:"org_id"`
	Actor     string         `json:"actor"`
	Surface   string         `json:"surface"`
	RequestID string         `json:"request_id"`
	Action    string         `json:"action"`
	Target    string         `json:"target"`
	Details   map[string]any `json:"details"`
}

func adminAuditList(fs *flag.FlagSet) func(*adminRun) error {
	org := fs.String("org", "", "organization id or slug (default: every organization)")
	limit := fs.Int("limit", 50, "most events to print, newest first (at most 500)")
	return func(a *adminRun) error {
		events, err := a.svc.ListAuditEvents(a.ctx, orgd.SystemPrincipal, *org, orgd.AuditQuery{Limit: *limit})
		if err != nil {
			return err
		}
		out := make([]auditJSON, 0, len(events))
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AT\tACTION\tTARGET\tACTOR\tSURFACE")
		for _, ev := range events {
			j := auditJSON{ID: ev.ID, At: ev.At.Format(time.RFC3339Nano), OrgID: ev.OrgID, Actor: ev.Actor, Surface: ev.Surface,
				RequestID: ev.RequestID, Action: ev.Action, Target: ev.TargetType + ":" + ev.TargetID, Details: ev.Details}
			out = append(out, j)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.At, j.Action, j.Target, j.Actor, j.Surface)
		}
		tw.Flush()
		return a.print(out, b.String())
	}
}

type webhookJSON struct {
	ID                  string   `json:"id"`
	OrganizationID      *string  `json:"organization_id"` // null: every organization
	URL                 string   `json:"url"`
	Events              []string `json:"events"` // empty: every event type
	Description         string   `json:"description"`
	Secret              string   `json:"secret,omitempty"` // create only
	LastAttemptAt       *string  `json:"last_attempt_at"`
	LastStatus          int      `json:"last_status"`
	LastError           string   `json:"last_error"`
	ConsecutiveFailures int      `json:"consecutive_failures"`
}

func webhookOut(e *orgd.WebhookEndpoint) webhookJSON {
	j := webhookJSON{ID: e.ID, URL: e.URL, Events: e.Events, Description: e.Description, LastAttemptAt: optionalRFC3339(e.LastAttemptAt),
		LastStatus: e.LastStatus, LastError: e.LastError, ConsecutiveFailures: e.ConsecutiveFailures}
	if j.Events == nil {
		j.Events = []string{}
	}
	if e.OrgID != "" {
		j.OrganizationID = &e.OrgID
	}
	return j
}

// webhookScope names what an endpoint receives, for people.
func webhookScope(e *orgd.WebhookEndpoint) (org, events string) {
	org, events = "every organization", "every event"
	if e.OrgID != "" {
		org = e.OrgID
	}
	if len(e.Events) > 0 {
		events = strings.Join(e.Events, ",")
	}
	return org, events
}

func adminWebhookCreate(fs *flag.FlagSet) func(*adminRun) error {
	url := fs.String("url", "", "http:// or https:// URL that receives the events (required)")
	org := fs.String("org", "", "organization id or slug whose events it receives (default: every organization)")
	events := fs.String("events", "", "comma-separated event types (default: every type: "+strings.Join(orgd.WebhookEventTypes, ", ")+")")
	desc := fs.String("description", "", "a description to recognise the endpoint by")
	return func(a *adminRun) error {
		req := orgd.WebhookEndpointRequest{URL: *url, Description: *desc}
		for ev := range strings.SplitSeq(*events, ",") {
			if ev = strings.TrimSpace(ev); ev != "" {
				req.Events = append(req.Events, ev)
			}
		}
		e, err := a.svc.CreateWebhookEndpoint(a.ctx, orgd.SystemPrincipal, *org, req)
		if err != nil {
			return err
		}
		out := webhookOut(e.WebhookEndpoint)
		out.Secret = e.Secret
		scope, types := webhookScope(e.WebhookEndpoint)
		return a.print(out, fmt.Sprintf(`Created webhook endpoint %s for %s (%s):
  %s
Its signing secret is shown only this once:

  %s
`, e.ID, scope, types, e.URL, e.Secret))
	}
}

func adminWebhookList(fs *flag.FlagSet) func(*adminRun) error {
	org := fs.String("org", "", "organization id or slug (default: every endpoint of the server)")
	return func(a *adminRun) error {
		endpoints, err := a.svc.ListWebhookEndpoints(a.ctx, orgd.SystemPrincipal, *org)
		if err != nil {
			return err
		}
		out := make([]webhookJSON, 0, len(endpoints))
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tORGANIZATION\tURL\tEVENTS\tLAST STATUS\tFAILURES")
		for _, e := range endpoints {
			out = append(out, webhookOut(e))
			scope, types := webhookScope(e)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", e.ID, scope, e.URL, types, e.LastStatus, e.ConsecutiveFailures)
		}
		tw.Flush()
		return a.print(out, b.String())
	}
}

func adminWebhookDelete(fs *flag.FlagSet) func(*adminRun) error {
	id := fs.String("id", "", "id of the endpoint, as webhook list shows it (required)")
	return func(a *adminRun) error {
		if _, err := a.svc.DeleteWebhookEndpoint(a.ctx, orgd.SystemPrincipal, "", *id); err != nil {
			return err
		}
		return a.print(map[string]string{"id": *id, "status": "deleted"}, fmt.Sprintf("Deleted webhook endpoint %s\n", *id))
	}
}
