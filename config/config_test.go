package config_test

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/config"
)

// load parses args for the options of groups and loads the configuration
// with env as the environment.
func load(t *testing.T, groups config.Group, env map[string]string, args ...string) (*config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l := config.Register(fs, groups)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	if fs.NArg() > 0 {
		t.Fatalf("parse %q: arguments left over: %q", args, fs.Args())
	}
	return l.Load(func(k string) string { return env[k] })
}

func mustLoad(t *testing.T, groups config.Group, env map[string]string, args ...string) *config.Config {
	t.Helper()
	c, err := load(t, groups, env, args...)
	if err != nil {
		t.Fatalf("load %q with %v: %v", args, env, err)
	}
	return c
}

func TestBooleanFlagsNeedNoValue(t *testing.T) {
	all := config.Storage | config.Server | config.Rules
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		migrate bool
	}{
		{nil, nil, false},
		{[]string{"--migrate"}, nil, true},
		{[]string{"--migrate", "--listen", "127.0.0.1:0"}, nil, true},
		{[]string{"--migrate=true"}, nil, true},
		{[]string{"--migrate=false"}, map[string]string{"ORGD_MIGRATE": "true"}, false},
		{nil, map[string]string{"ORGD_MIGRATE": "true"}, true},
	} {
		c := mustLoad(t, all, tc.env, tc.args...)
		if c.Migrate != tc.migrate {
			t.Errorf("%q with %v: Migrate = %v, want %v", tc.args, tc.env, c.Migrate, tc.migrate)
		}
	}
	if c := mustLoad(t, all, nil, "--accept-any-email"); !c.Limits.AcceptAnyEmail {
		t.Error("--accept-any-email alone did not set AcceptAnyEmail")
	}
	if _, err := load(t, all, nil, "--migrate=maybe"); err == nil {
		t.Error("--migrate=maybe was accepted")
	}
}

// badValues holds a value every option refuses; every option needs one.
var badValues = map[string]string{
	"data-dir":                 "",
	"database-url":             "mysql://orgd:hunter2@db/orgd",
	"secret-key":               "hunter2",
	"db-max-conns":             "-1",
	"log-format":               "xml",
	"log-level":                "loud",
	"listen":                   "8080",
	"public-url":               "ftp://example.com",
	"migrate":                  "maybe",
	"max-body-bytes":           "1000",
	"read-header-timeout":      "10",
	"request-timeout":          "0s",
	"idle-timeout":             "-1s",
	"shutdown-timeout":         "soon",
	"invite-max-emails":        "0",
	"invite-rate-limit":        "-1",
	"invite-cooldown":          "1y",
	"invite-default-expiry":    "x",
	"invite-min-expiry":        "1.5h",
	"invite-max-expiry":        "",
	"default-max-members":      "lots",
	"accept-any-email":         "yes please",
	"smtp-url":                 "http://user:hunter2@mail.example",
	"mail-from":                "not an address",
	"mail-templates-dir":       "/no/such/directory",
	"smtp-timeout":             "0s",
	"mail-retry-period":        "a while",
	"mail-workers":             "0",
	"webhook-timeout":          "0s",
	"webhook-retry-period":     "forever",
	"webhook-workers":          "0",
	"expiry-scan-interval":     "-1m",
	"webhook-allow-private":    "maybe",
	"accept-redirect-url":      "/relative",
	"page-require-signin":      "sometimes",
	"auth-failure-burst":       "0",
	"auth-failures-per-minute": "fast",
	"metrics-listen":           "9090",
	"trusted-proxies":          "10.0.0.0/33",
	"oidc-issuer":              "http://idp.example.com",
	"oidc-audience":            "orgd api",
	"oidc-client-id":           "orgd\tweb",
	"oidc-client-secret":       "hunter2\x00",
	"idempotency-ttl":          "0s",
	"key-cache-ttl":            "-1s",
}

func TestValidationErrorsNameTheOption(t *testing.T) {
	all := config.Storage | config.Server | config.Rules
	for _, o := range config.Options {
		bad, ok := badValues[o.Flag]
		if !ok {
			t.Errorf("badValues has no entry for option %s", o.Flag)
			continue
		}
		check := func(from string, err error) {
			t.Helper()
			if err == nil {
				t.Errorf("%s=%q was accepted", from, bad)
				return
			}
			if !strings.Contains(err.Error(), from+": ") {
				t.Errorf("%s=%q: error %q does not name %s", from, bad, err, from)
			}
			if o.Secret && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s=%q: error %q shows the secret", from, bad, err)
			}
		}
		_, err := load(t, all, nil, "--"+o.Flag+"="+bad)
		check("--"+o.Flag, err)
		if bad == "" {
			continue // an empty variable is an unset one
		}
		_, err = load(t, all, map[string]string{o.Env: bad})
		check(o.Env, err)
		if o.Secret {
			file := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(file, []byte(bad+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = load(t, all, map[string]string{o.Env + "_FILE": file})
			check(o.Env+"_FILE", err)
		}
	}
}

func TestDatabasePasswordStaysOutOfMessages(t *testing.T) {
	for _, bad := range []string{
		"postgres://orgd:hunter2@db:notaport/orgd",
		"postgresql://orgd:hunter2@db/orgd%zz",
		"mysql://orgd:hunter2@db:notaport/orgd",
		"mysql://orgd:hunter2@db/orgd",
		// libpq's key=value form is not a SQLite file name.
		"host=db user=orgd password=hunter2 dbname=orgd",
		"dbname=orgd password=hunter2",
	} {
		_, err := load(t, config.Storage, map[string]string{"ORGD_DATABASE_URL": bad})
		if err == nil {
			t.Errorf("ORGD_DATABASE_URL=%s was accepted", bad)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ORGD_DATABASE_URL=%s: error %q shows the password", bad, err)
		}
	}

	key := strings.Repeat("ab", 32)
	for _, good := range []string{
		"postgres://orgd:hunter2@db:5432/orgd?sslmode=disable",
		"postgres://orgd@db/orgd?password=hunter2",
	} {
		c := mustLoad(t, config.Storage, map[string]string{"ORGD_DATABASE_URL": good, "ORGD_SECRET_KEY": key})
		var log strings.Builder
		slog.New(slog.NewTextHandler(&log, nil)).Info("start", "config", c)
		for what, text := range map[string]string{"log": log.String(), "StorageFlags": c.StorageFlags()} {
			if strings.Contains(text, "hunter2") || strings.Contains(text, key) {
				t.Errorf("%s of ORGD_DATABASE_URL=%s shows a secret: %s", what, good, text)
			}
		}
		if !strings.Contains(c.StorageFlags(), "--database-url 'postgres://orgd") {
			t.Errorf("StorageFlags() = %q, want the database URL without its password", c.StorageFlags())
		}
	}
}

func TestDerivedDefaults(t *testing.T) {
	c := mustLoad(t, config.Storage|config.Server, nil)
	if want := "sqlite:orgd-data/orgd.db"; c.DatabaseURL != want {
		t.Errorf("default DatabaseURL = %q, want %q", c.DatabaseURL, want)
	}
	if want := "http://127.0.0.1:8080"; c.PublicURL != want {
		t.Errorf("default PublicURL = %q, want %q", c.PublicURL, want)
	}
	if got := c.StorageFlags(); got != "" {
		t.Errorf("default StorageFlags() = %q, want none", got)
	}

	dir := t.TempDir()
	c = mustLoad(t, config.Storage, map[string]string{"ORGD_DATA_DIR": dir})
	if want := "sqlite:" + filepath.Join(dir, "orgd.db"); c.DatabaseURL != want {
		t.Errorf("DatabaseURL in %s = %q, want %q", dir, c.DatabaseURL, want)
	}
	if want := " --data-dir '" + dir + "'"; c.StorageFlags() != want {
		t.Errorf("StorageFlags() = %q, want %q", c.StorageFlags(), want)
	}
	// The flags are pasted into a shell: they must name the same files.
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"ORGD_DATABASE_URL": "/srv/my data/orgd.db"}, ` --database-url '/srv/my data/orgd.db'`},
		{map[string]string{"ORGD_DATABASE_URL": "sqlite:/srv/a b/orgd.db"}, ` --database-url 'sqlite:/srv/a b/orgd.db'`},
		{map[string]string{"ORGD_DATA_DIR": "/srv/ann's data"}, ` --data-dir '/srv/ann'\''s data'`},
	} {
		if got := mustLoad(t, config.Storage, tc.vars).StorageFlags(); got != tc.want {
			t.Errorf("StorageFlags() with %v = %q, want %q", tc.vars, got, tc.want)
		}
	}
	if want := filepath.Join(dir, config.KeyFileName); c.KeyFile() != want {
		t.Errorf("KeyFile() = %q, want %q", c.KeyFile(), want)
	}

	for listen, want := range map[string]string{
		"127.0.0.1:9000": "http://127.0.0.1:9000",
		"[::1]:9000":     "http://[::1]:9000",
		"orgd.lan:9000":  "http://orgd.lan:9000",
		":9000":          "http://localhost:9000",
		"0.0.0.0:9000":   "http://localhost:9000",
		"[::]:9000":      "http://localhost:9000",
	} {
		c := mustLoad(t, config.Server, nil, "--listen", listen)
		if c.PublicURL != want {
			t.Errorf("--listen %s: PublicURL = %q, want %q", listen, c.PublicURL, want)
		}
	}
	c = mustLoad(t, config.Server, map[string]string{"ORGD_PUBLIC_URL": "https://orgs.example.com/"}, "--listen", ":9000")
	if want := "https://orgs.example.com"; c.PublicURL != want {
		t.Errorf("PublicURL = %q, want %q", c.PublicURL, want)
	}
}

func TestPrecedence(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "database-url")
	if err := os.WriteFile(secretFile, []byte("postgres://file@db/orgd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"default", nil, nil, "127.0.0.1:8080"},
		{"env", map[string]string{"ORGD_LISTEN": "127.0.0.1:1"}, nil, "127.0.0.1:1"},
		{"flag over env", map[string]string{"ORGD_LISTEN": "127.0.0.1:1"}, []string{"--listen", "127.0.0.1:2"}, "127.0.0.1:2"},
		{"only secrets read files", map[string]string{"ORGD_LISTEN_FILE": secretFile}, nil, "127.0.0.1:8080"},
	} {
		c := mustLoad(t, config.Server, tc.env, tc.args...)
		if c.Listen != tc.want {
			t.Errorf("%s: Listen = %q, want %q", tc.name, c.Listen, tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"file", map[string]string{"ORGD_DATABASE_URL_FILE": secretFile}, nil, "postgres://file@db/orgd"},
		{"env over file", map[string]string{"ORGD_DATABASE_URL_FILE": secretFile, "ORGD_DATABASE_URL": "postgres://env@db/orgd"}, nil, "postgres://env@db/orgd"},
		{"flag over env and file", map[string]string{"ORGD_DATABASE_URL_FILE": secretFile, "ORGD_DATABASE_URL": "postgres://env@db/orgd"},
			[]string{"--database-url", "postgres://flag@db/orgd"}, "postgres://flag@db/orgd"},
	} {
		c := mustLoad(t, config.Storage, tc.env, tc.args...)
		if c.DatabaseURL != tc.want {
			t.Errorf("%s: DatabaseURL = %q, want %q", tc.name, c.DatabaseURL, tc.want)
		}
	}

	// A variable applies to a command that has no flag for it.
	if c := mustLoad(t, config.Storage, map[string]string{"ORGD_INVITE_RATE_LIMIT": "7"}); c.Limits.InvitesPerHour != 7 {
		t.Errorf("InvitesPerHour = %d, want 7 from ORGD_INVITE_RATE_LIMIT", c.Limits.InvitesPerHour)
	}

	missing := filepath.Join(t.TempDir(), "missing")
	_, err := load(t, config.Storage, map[string]string{"ORGD_SECRET_KEY_FILE": missing})
	if err == nil || !strings.Contains(err.Error(), "ORGD_SECRET_KEY_FILE: ") {
		t.Errorf("a missing ORGD_SECRET_KEY_FILE: got error %v, want one that names it", err)
	}
}

func TestDefaultsMatchTheDomain(t *testing.T) {
	c := mustLoad(t, config.Storage|config.Server|config.Rules, nil)
	if diff := cmp.Diff(orgd.DefaultLimits(), c.Limits); diff != "" {
		t.Errorf("the default limits differ from orgd.DefaultLimits() (-domain +config):\n%s", diff)
	}
	if c.MaxBodyBytes != 1<<20 || c.LogFormat != "text" || c.LogLevel != slog.LevelInfo || c.Migrate {
		t.Errorf("defaults: MaxBodyBytes %d, LogFormat %q, LogLevel %v, Migrate %v", c.MaxBodyBytes, c.LogFormat, c.LogLevel, c.Migrate)
	}
}

func TestExpiryBounds(t *testing.T) {
	for _, tc := range []struct {
		min, def, max string
		ok            bool
	}{
		{"1h", "72h", "30d", true},
		{"1h", "1h", "1h", true},
		{"2h", "2h", "1h", false},
		{"1h", "30m", "30d", false},
		{"1h", "31d", "30d", false},
	} {
		env := map[string]string{"ORGD_INVITE_MIN_EXPIRY": tc.min, "ORGD_INVITE_DEFAULT_EXPIRY": tc.def, "ORGD_INVITE_MAX_EXPIRY": tc.max}
		c, err := load(t, config.Rules, env)
		if tc.ok {
			if err != nil {
				t.Errorf("%s <= %s <= %s: %v", tc.min, tc.def, tc.max, err)
				continue
			}
			got := []time.Duration{c.Limits.MinExpiry, c.Limits.DefaultExpiry, c.Limits.MaxExpiry}
			var want []time.Duration
			for _, s := range []string{tc.min, tc.def, tc.max} {
				d, _ := orgd.ParseDuration(s)
				want = append(want, d)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("expiry limits (-want +got):\n%s", diff)
			}
			continue
		}
		if err == nil {
			t.Errorf("min %s, default %s, max %s was accepted", tc.min, tc.def, tc.max)
			continue
		}
		for _, name := range []string{"ORGD_INVITE_MIN_EXPIRY", "ORGD_INVITE_DEFAULT_EXPIRY", "ORGD_INVITE_MAX_EXPIRY"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("min %s, default %s, max %s: error %q does not name %s", tc.min, tc.def, tc.max, err, name)
			}
		}
	}
}

func TestOIDCOptionsGoTogether(t *testing.T) {
	const issuer = "https://idp.example.com/realms/acme"
	for _, tc := range []struct {
		env  map[string]string
		want string // "" when valid
	}{
		{map[string]string{}, ""},
		{map[string]string{"ORGD_OIDC_ISSUER": issuer, "ORGD_OIDC_AUDIENCE": "orgd"}, ""},
		{map[string]string{"ORGD_OIDC_ISSUER": "http://localhost:8080/realms/acme", "ORGD_OIDC_AUDIENCE": "orgd"}, ""},
		{map[string]string{"ORGD_OIDC_ISSUER": issuer, "ORGD_OIDC_AUDIENCE": "orgd", "ORGD_OIDC_CLIENT_ID": "orgd-web"}, ""},
		{map[string]string{"ORGD_OIDC_ISSUER": issuer, "ORGD_OIDC_AUDIENCE": "orgd", "ORGD_OIDC_CLIENT_ID": "orgd-web", "ORGD_OIDC_CLIENT_SECRET": "hunter2"}, ""},
		{map[string]string{"ORGD_OIDC_ISSUER": issuer}, "ORGD_OIDC_AUDIENCE: required when ORGD_OIDC_ISSUER is set"},
		{map[string]string{"ORGD_OIDC_AUDIENCE": "orgd"}, "ORGD_OIDC_ISSUER: required when ORGD_OIDC_AUDIENCE is set"},
		{map[string]string{"ORGD_OIDC_CLIENT_ID": "orgd-web"}, "ORGD_OIDC_ISSUER: required when ORGD_OIDC_CLIENT_ID is set"},
		{map[string]string{"ORGD_OIDC_ISSUER": issuer, "ORGD_OIDC_AUDIENCE": "orgd", "ORGD_OIDC_CLIENT_SECRET": "hunter2"}, "ORGD_OIDC_CLIENT_ID: required when ORGD_OIDC_CLIENT_SECRET is set"},
		{map[string]string{"ORGD_OIDC_ISSUER": issuer, "ORGD_OIDC_AUDIENCE": "orgd", "ORGD_OIDC_CLIENT_ID": "orgd-web", "ORGD_PAGE_REQUIRE_SIGNIN": "true"}, ""},
		{map[string]string{"ORGD_PAGE_REQUIRE_SIGNIN": "true"}, "ORGD_OIDC_ISSUER: required when ORGD_PAGE_REQUIRE_SIGNIN is true"},
		{map[string]string{"ORGD_OIDC_ISSUER": issuer, "ORGD_OIDC_AUDIENCE": "orgd", "ORGD_PAGE_REQUIRE_SIGNIN": "true"}, "ORGD_OIDC_CLIENT_ID: required when ORGD_PAGE_REQUIRE_SIGNIN is true"},
	} {
		c, err := load(t, config.Storage|config.Server, tc.env)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: %v, want %q", tc.env, err, tc.want)
		case err == nil && c.OIDCIssuer != tc.env["ORGD_OIDC_ISSUER"]:
			t.Errorf("%v: issuer %q, want it exactly as given", tc.env, c.OIDCIssuer)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%v: the error shows the client secret", tc.env)
		}
	}

	// The client secret is masked in logs.
	c := mustLoad(t, config.Storage|config.Server, map[string]string{"ORGD_OIDC_ISSUER": issuer, "ORGD_OIDC_AUDIENCE": "orgd",
		"ORGD_OIDC_CLIENT_ID": "orgd-web", "ORGD_OIDC_CLIENT_SECRET": "hunter2"})
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("start", "config", c)
	if strings.Contains(log.String(), "hunter2") || !strings.Contains(log.String(), issuer) {
		t.Errorf("the configuration in the log should name the issuer and hide the secret: %s", log.String())
	}
}

// The SMTP URL is parsed once, at load: the configuration holds the
// server serve sends through, and the log names it without its password.
func TestSMTPServerIsParsedAtLoad(t *testing.T) {
	c := mustLoad(t, config.Storage|config.Server, map[string]string{
		"ORGD_SMTP_URL": "smtp://orgd:hunter2@mail.example?starttls=off", "ORGD_MAIL_FROM": "orgd@x.test"})
	if c.SMTP == nil || c.SMTP.String() != "smtp://mail.example:25" {
		t.Fatalf("SMTP = %v, want smtp://mail.example:25", c.SMTP)
	}
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("start", "config", c)
	if want := `config.smtp="smtp://orgd:xxxxx@mail.example?starttls=off"`; strings.Contains(log.String(), "hunter2") || !strings.Contains(log.String(), want) {
		t.Errorf("the configuration in the log should have %s: %s", want, log.String())
	}

	c = mustLoad(t, config.Storage|config.Server, nil)
	log.Reset()
	slog.New(slog.NewTextHandler(&log, nil)).Info("start", "config", c)
	if want := `config.smtp="none (accept links are logged)"`; c.SMTP != nil || !strings.Contains(log.String(), want) {
		t.Errorf("without ORGD_SMTP_URL: SMTP = %v, log %s; want none and %s", c.SMTP, log.String(), want)
	}
}

// TestSMTPURLQueryHoldsNoSecret: a query parameter ParseSMTPURL does not
// know, such as a password, is refused at load, named without its value,
// so that it never reaches the log with the configuration.
func TestSMTPURLQueryHoldsNoSecret(t *testing.T) {
	c, err := load(t, config.Storage|config.Server, map[string]string{
		"ORGD_SMTP_URL": "smtp://mail.example:587?password=hunter2", "ORGD_MAIL_FROM": "orgd@x.test"})
	if err == nil {
		var log strings.Builder
		slog.New(slog.NewTextHandler(&log, nil)).Info("start", "config", c)
		t.Fatalf("a password in the query was accepted; the log reads: %s", log.String())
	}
	if want := `ORGD_SMTP_URL: has an unknown query parameter "password"`; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q, want one with %s and without the password", err, want)
	}
}

// TestLateMistakesAreRefusedAtLoad: values that only the SMTP client, the
// templates or the listener would have refused are refused with the other
// mistakes, before serve touches the database.
func TestLateMistakesAreRefusedAtLoad(t *testing.T) {
	templates := t.TempDir()
	if err := os.WriteFile(filepath.Join(templates, "invitation.txt"), []byte("{{.NoSuchField}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ flag, value string }{
		{"smtp-url", "smtp://orgd:hunter2@mail.example:abc"},
		{"smtp-url", "smtp://orgd:hunter2@mail.example:99999"},
		{"smtp-url", "smtp://orgd:hunter2@mail.example?starttls=maybe"},
		{"smtp-url", "smtp://orgd:hunter2@:25"},
		{"smtp-url", "smtp://orgd:hunter2%zz@mail.example"},
		{"smtp-url", "smtp://mail.example?password=hunter2"},
		{"mail-templates-dir", templates},
		{"listen", "127.0.0.1:99999"},
		{"listen", ":-1"},
		{"metrics-listen", "127.0.0.1:70000"},
	} {
		_, err := load(t, config.Storage|config.Server|config.Rules, map[string]string{"ORGD_MAIL_FROM": "orgd@x.test"}, "--"+tc.flag+"="+tc.value)
		switch {
		case err == nil:
			t.Errorf("--%s=%s was accepted", tc.flag, tc.value)
		case !strings.Contains(err.Error(), "--"+tc.flag+": "):
			t.Errorf("--%s=%s: error %q does not name the option", tc.flag, tc.value, err)
		case strings.Contains(err.Error(), "hunter2"):
			t.Errorf("--%s=%s: error %q shows the password", tc.flag, tc.value, err)
		}
	}
}
