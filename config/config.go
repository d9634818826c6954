// Package config is orgd's one typed configuration. Every option has a
// flag and an environment variable of the same meaning (the flag wins),
// a default, and a line in the README's table, which a test keeps in step
// with Options. Secrets can also come from a file named by VAR_FILE.
package config

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/auth"
	"github.com/orgd/orgd/httpx"
	orgdmail "github.com/orgd/orgd/mail"
	"github.com/orgd/orgd/store"
)

// Config is the configuration of every orgd command.
type Config struct {
	DataDir     string
	DatabaseURL string
	SecretKey   string // 64 hex digits; "" means the key file in the data directory
	DBMaxConns  int
	LogFormat   string
	LogLevel    slog.Level

	Listen            string
	PublicURL         string
	Migrate           bool
	MaxBodyBytes      int64
	ReadHeaderTimeout time.Duration
	RequestTimeout    time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration

	SMTP            *orgdmail.SMTPServer // ORGD_SMTP_URL, parsed; nil: none (accept links are logged)
	MailFrom        string
	MailTemplates   *orgdmail.Templates // the built-in ones, or those of ORGD_MAIL_TEMPLATES_DIR
	SMTPTimeout     time.Duration
	MailRetryPeriod time.Duration
	MailWorkers     int
	AcceptRedirect  string
	PageSignIn      bool

	MetricsListen      string
	WebhookTimeout     time.Duration
	WebhookRetryPeriod time.Duration
	WebhookWorkers     int
	ExpiryScanInterval time.Duration

	AuthFailuresPerMinute int
	AuthFailureBurst      int
	TrustedProxies        []netip.Prefix
	OIDCIssuer            string
	OIDCAudience          string
	OIDCClientID          string
	OIDCClientSecret      string

	Limits orgd.Limits

	publicURLDerived bool // PublicURL was made from Listen
}

// Group selects the options a command takes.
type Group int

const (
	Storage Group = 1 << iota // the database, the server key, logs
	Server                    // the HTTP server
	Rules                     // the limits of the rules
)

// Option is one setting. An option whose default is "true" or "false" is a
// boolean flag: --migrate alone means --migrate=true.
type Option struct {
	Flag    string
	Env     string
	Default string
	Usage   string
	Group   Group
	Secret  bool // masked in logs; may come from Env+"_FILE"
	set     func(c *Config, v string) error
}

// Options lists every setting of orgd.
var Options = []Option{
	{"data-dir", "ORGD_DATA_DIR", "./orgd-data", "directory for the SQLite database and the generated server key", Storage, false,
		func(c *Config, v string) error { c.DataDir = v; return nonEmpty(v) }},
	{"database-url", "ORGD_DATABASE_URL", "", "database: postgres://... for PostgreSQL, or a SQLite file (default: orgd.db in the data directory)", Storage, true,
		func(c *Config, v string) error {
			if v != "" {
				if _, _, err := store.Parse(v); err != nil {
					return err
				}
			}
			c.DatabaseURL = v
			return nil
		}},
	{"secret-key", "ORGD_SECRET_KEY", "", "server key, 64 hex digits, that seals invitation tokens (default: generated into secret.key in the data directory; set it when instances share a database)", Storage, true,
		func(c *Config, v string) error {
			if v != "" {
				if _, err := decodeKey(v); err != nil {
					return err
				}
			}
			c.SecretKey = v
			return nil
		}},
	{"db-max-conns", "ORGD_DB_MAX_CONNS", "0", "most connections of the store's pool (0: 4 per CPU for PostgreSQL); on PostgreSQL the outbox's workers keep a pool of their own (docs/deployment.md)", Storage, false,
		intSetter(func(c *Config) *int { return &c.DBMaxConns }, 0)},
	{"log-format", "ORGD_LOG_FORMAT", "text", "log format: text or json", Storage, false,
		func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New(`must be "text" or "json"`)
			}
			c.LogFormat = v
			return nil
		}},
	{"log-level", "ORGD_LOG_LEVEL", "info", "log level: debug, info, warn or error", Storage, false,
		func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},

	{"listen", "ORGD_LISTEN", "127.0.0.1:8080", "address the HTTP server listens on", Server, false,
		func(c *Config, v string) error {
			if err := hostPort(v); err != nil {
				return err
			}
			c.Listen = v
			return nil
		}},
	{"public-url", "ORGD_PUBLIC_URL", "", "base URL people and clients reach orgd at, for links (default: http:// and the listen address, with localhost for a wildcard host)", Server, false,
		func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an absolute http:// or https:// URL")
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
	{"migrate", "ORGD_MIGRATE", "false", "apply pending migrations when serve starts (always done for SQLite)", Server, false,
		boolSetter(func(c *Config) *bool { return &c.Migrate })},
	{"max-body-bytes", "ORGD_MAX_BODY_BYTES", "1048576", "largest request body accepted", Server, false,
		func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return errors.New("must be a whole number of bytes, at least 1024")
			}
			c.MaxBodyBytes = n
			return nil
		}},
	{"read-header-timeout", "ORGD_READ_HEADER_TIMEOUT", "10s", "time allowed to read request headers", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{"request-timeout", "ORGD_REQUEST_TIMEOUT", "30s", "time allowed to read a request and write its response", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.RequestTimeout })},
	{"idle-timeout", "ORGD_IDLE_TIMEOUT", "120s", "time an idle keep-alive connection stays open", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"shutdown-timeout", "ORGD_SHUTDOWN_TIMEOUT", "15s", "time given to requests in flight when the server stops, then to deliveries (emails, webhooks) in progress", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},

	{"smtp-url", "ORGD_SMTP_URL", "", "SMTP server for invitation emails: smtp://user:password@host:587 (STARTTLS when offered; ?starttls=required or ?starttls=off, the only query parameter), smtps://... for implicit TLS (default: none; accept links are written to the log)", Server, true,
		func(c *Config, v string) (err error) {
			if v != "" {
				c.SMTP, err = orgdmail.ParseSMTPURL(v)
			}
			return err
		}},
	{"mail-from", "ORGD_MAIL_FROM", "", "sender of invitation emails, such as \"Acme <noreply@acme.example>\" (required with ORGD_SMTP_URL)", Server, false,
		func(c *Config, v string) error {
			if v != "" {
				if _, err := mail.ParseAddress(v); err != nil {
					return errors.New(`must be an address such as "noreply@acme.example" or "Acme <noreply@acme.example>"`)
				}
			}
			c.MailFrom = v
			return nil
		}},
	{"mail-templates-dir", "ORGD_MAIL_TEMPLATES_DIR", "", "directory whose invitation_subject.txt, invitation.txt or invitation.html replace the built-in email templates", Server, false,
		func(c *Config, v string) error {
			if v != "" {
				if fi, err := os.Stat(v); err != nil || !fi.IsDir() {
					return errors.New("must be an existing directory")
				}
			}
			// Loaded once, here: a template that does not parse stops
			// orgd before it starts, and serve uses these.
			t, err := orgdmail.LoadTemplates(v)
			c.MailTemplates = t
			return err
		}},
	{"smtp-timeout", "ORGD_SMTP_TIMEOUT", "30s", "time allowed for one SMTP conversation", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.SMTPTimeout })},
	{"mail-retry-period", "ORGD_MAIL_RETRY_PERIOD", "24h", "how long temporary delivery failures are retried before an email is marked failed", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.MailRetryPeriod })},
	{"mail-workers", "ORGD_MAIL_WORKERS", "4", "emails sent at once", Server, false,
		intSetter(func(c *Config) *int { return &c.MailWorkers }, 1)},
	{"accept-redirect-url", "ORGD_ACCEPT_REDIRECT_URL", "", `where the invitation page sends people after they accept, and where its "already a member" page links (default: a success page)`, Server, false,
		func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an absolute http:// or https:// URL")
			}
			c.AcceptRedirect = v
			return nil
		}},
	{"page-require-signin", "ORGD_PAGE_REQUIRE_SIGNIN", "false", "sign people in at the OpenID Connect issuer (authorization code with PKCE) before they accept or decline on the invitation page, as a user whose verified address is the invited one (any verified address with ORGD_ACCEPT_ANY_EMAIL); the issuer must allow the redirect URI {public URL}/invitations/signin/callback (requires ORGD_OIDC_ISSUER and ORGD_OIDC_CLIENT_ID)", Server, false,
		boolSetter(func(c *Config) *bool { return &c.PageSignIn })},
	{"oidc-issuer", "ORGD_OIDC_ISSUER", "", "OpenID Connect issuer whose JWTs both APIs accept as bearer credentials, exactly as its tokens name it in iss (https://, or http:// on localhost); discovery at {issuer}/.well-known/openid-configuration (default: none, API keys only)", Server, false,
		func(c *Config, v string) error {
			if v != "" {
				if err := auth.CheckURL(v); err != nil {
					return err
				}
			}
			c.OIDCIssuer = v
			return nil
		}},
	{"oidc-audience", "ORGD_OIDC_AUDIENCE", "", "audience the issuer's API tokens must carry in aud (required with ORGD_OIDC_ISSUER)", Server, false,
		func(c *Config, v string) error { c.OIDCAudience = v; return printable(v, false) }},
	{"oidc-client-id", "ORGD_OIDC_CLIENT_ID", "", "client id of orgd at the issuer, for signing in on the invitation page (required with ORGD_PAGE_REQUIRE_SIGNIN)", Server, false,
		func(c *Config, v string) error { c.OIDCClientID = v; return printable(v, false) }},
	{"oidc-client-secret", "ORGD_OIDC_CLIENT_SECRET", "", "client secret of orgd at the issuer, for signing in on the invitation page, sent by client_secret_basic or client_secret_post as the issuer advertises (none for a public client, which PKCE alone protects)", Server, true,
		func(c *Config, v string) error { c.OIDCClientSecret = v; return printable(v, true) }},

	{"metrics-listen", "ORGD_METRICS_LISTEN", "", "address to serve Prometheus metrics on alone (default: /metrics on the main listener)", Server, false,
		func(c *Config, v string) error {
			if v != "" {
				if err := hostPort(v); err != nil {
					return err
				}
			}
			c.MetricsListen = v
			return nil
		}},
	{"webhook-timeout", "ORGD_WEBHOOK_TIMEOUT", "10s", "time allowed for one webhook request, from connecting to the answer's status", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.WebhookTimeout })},
	{"webhook-retry-period", "ORGD_WEBHOOK_RETRY_PERIOD", "24h", "how long after an event failed webhook deliveries (no answer, 408, 429, 5xx) are retried before they are given up", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.WebhookRetryPeriod })},
	{"webhook-workers", "ORGD_WEBHOOK_WORKERS", "4", "webhook requests made at once", Server, false,
		intSetter(func(c *Config) *int { return &c.WebhookWorkers }, 1)},
	{"expiry-scan-interval", "ORGD_EXPIRY_SCAN_INTERVAL", "1m", "how often expired invitations are looked for, to announce each once (invitation.expired)", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.ExpiryScanInterval })},

	{"auth-failure-burst", "ORGD_AUTH_FAILURE_BURST", "20", "failed key or token look-ups one client address may make before it is refused with 429", Server, false,
		intSetter(func(c *Config) *int { return &c.AuthFailureBurst }, 1)},
	{"auth-failures-per-minute", "ORGD_AUTH_FAILURES_PER_MINUTE", "10", "rate at which an address regains failed look-ups", Server, false,
		intSetter(func(c *Config) *int { return &c.AuthFailuresPerMinute }, 1)},
	{"trusted-proxies", "ORGD_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For names the client", Server, false,
		func(c *Config, v string) error {
			p, err := httpx.ParsePrefixes(v)
			c.TrustedProxies = p
			return err
		}},
	{"key-cache-ttl", "ORGD_KEY_CACHE_TTL", "5s", "how long an instance trusts an API key it has looked up without asking the database again; a key revoked through another instance works there up to this long (0: always ask)", Server, false,
		func(c *Config, v string) error {
			d, err := orgd.ParseDuration(v)
			if err != nil || d < 0 {
				return errors.New(`must be a duration such as "5s", or 0 to look every key up`)
			}
			c.Limits.KeyCacheTTL = d
			return nil
		}},
	{"idempotency-ttl", "ORGD_IDEMPOTENCY_TTL", "24h", "how long the answer to a POST with an Idempotency-Key is kept and replayed to retries; after that the key is new again", Server, false,
		durationSetter(func(c *Config) *time.Duration { return &c.Limits.IdempotencyTTL })},

	{"invite-max-emails", "ORGD_INVITE_MAX_EMAILS", "100", "most addresses in one create-invitations request", Rules, false,
		intSetter(func(c *Config) *int { return &c.Limits.MaxEmailsPerRequest }, 1)},
	{"invite-rate-limit", "ORGD_INVITE_RATE_LIMIT", "1000", "invitations an organization may create or refresh per hour (0: no limit)", Rules, false,
		intSetter(func(c *Config) *int { return &c.Limits.InvitesPerHour }, 0)},
	{"invite-cooldown", "ORGD_INVITE_COOLDOWN", "60s", "time before an invitation can be refreshed or resent again", Rules, false,
		durationSetter(func(c *Config) *time.Duration { return &c.Limits.RefreshCooldown })},
	{"invite-default-expiry", "ORGD_INVITE_DEFAULT_EXPIRY", "72h", "expiry of an invitation whose request names none", Rules, false,
		durationSetter(func(c *Config) *time.Duration { return &c.Limits.DefaultExpiry })},
	{"invite-min-expiry", "ORGD_INVITE_MIN_EXPIRY", "1h", "shortest expires_in accepted", Rules, false,
		durationSetter(func(c *Config) *time.Duration { return &c.Limits.MinExpiry })},
	{"invite-max-expiry", "ORGD_INVITE_MAX_EXPIRY", "30d", "longest expires_in accepted", Rules, false,
		durationSetter(func(c *Config) *time.Duration { return &c.Limits.MaxExpiry })},
	{"default-max-members", "ORGD_DEFAULT_MAX_MEMBERS", "500", "max_members of new organizations: members plus pending invitations (0: no limit)", Rules, false,
		intSetter(func(c *Config) *int { return &c.Limits.DefaultMaxMembers }, 0)},
	{"accept-any-email", "ORGD_ACCEPT_ANY_EMAIL", "false", "let the holder of an invitation token accept it whatever their own address", Rules, false,
		boolSetter(func(c *Config) *bool { return &c.Limits.AcceptAnyEmail })},
	{"webhook-allow-private", "ORGD_WEBHOOK_ALLOW_PRIVATE", "false", "let webhook endpoints be on loopback, private and link-local addresses (receivers on this machine or its network); otherwise such URLs are refused and deliveries never connect to such addresses", Rules, false,
		boolSetter(func(c *Config) *bool { return &c.Limits.WebhookAllowPrivate })},
}

// hostPort checks an address to listen on: host:port, the port a number
// from 0 to 65535 or a service name.
func hostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("must be host:port: %w", err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("must be host:port with a port from 0 to 65535: %w", err)
	}
	return nil
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

// printable refuses control characters, and spaces unless spaces are allowed.
func printable(v string, spaces bool) error {
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || !spaces && unicode.IsSpace(r) }) >= 0 {
		if spaces {
			return errors.New("must not contain control characters")
		}
		return errors.New("must not contain spaces or control characters")
	}
	return nil
}

func intSetter(field func(*Config) *int, min int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return fmt.Errorf("must be a whole number, at least %d", min)
		}
		*field(c) = n
		return nil
	}
}

func boolSetter(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*field(c) = b
		return nil
	}
}

func durationSetter(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := orgd.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New(`must be a positive duration such as "30s", "72h" or "3d"`)
		}
		*field(c) = d
		return nil
	}
}

// Loader reads the options of some groups from a flag set and the environment.
type Loader struct {
	groups Group
	values map[string]*string
	fs     *flag.FlagSet
}

// Register adds the flags of groups to fs.
func Register(fs *flag.FlagSet, groups Group) *Loader {
	l := &Loader{groups: groups, values: map[string]*string{}, fs: fs}
	for _, o := range Options {
		if o.Group&groups == 0 {
			continue
		}
		usage := fmt.Sprintf("%s (env %s, default %q)", o.Usage, o.Env, o.Default)
		v := new(string)
		l.values[o.Flag] = v
		if o.isBool() {
			fs.Var(boolFlag{v}, o.Flag, usage)
		} else {
			fs.StringVar(v, o.Flag, "", usage)
		}
	}
	return l
}

func (o Option) isBool() bool { return o.Default == "true" || o.Default == "false" }

// boolFlag is a flag that may be given without a value; its text is
// validated by the option like any other.
type boolFlag struct{ v *string }

func (b boolFlag) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}
func (b boolFlag) Set(s string) error { *b.v = s; return nil }
func (b boolFlag) IsBoolFlag() bool   { return true }

// Load builds the configuration after fs has parsed its arguments: a flag
// that was set wins, then the environment variable, then VAR_FILE for
// secrets, then the default. Every error names the option.
func (l *Loader) Load(getenv func(string) string) (*Config, error) {
	set := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c := &Config{Limits: orgd.DefaultLimits(), LogFormat: "text", MaxBodyBytes: 1 << 20}
	var errs []error
	for _, o := range Options {
		v, from := o.Default, "default"
		if o.Group&l.groups != 0 && set[o.Flag] {
			v, from = *l.values[o.Flag], "--"+o.Flag
		} else if e := getenv(o.Env); e != "" {
			v, from = e, o.Env
		} else if f := getenv(o.Env + "_FILE"); o.Secret && f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", o.Env, err))
				continue
			}
			v, from = strings.TrimSpace(string(b)), o.Env+"_FILE"
		}
		if err := o.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", from, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, c.resolve()
}

// publicURLOf is the URL of a listen address. A wildcard address (":8080",
// "0.0.0.0:8080") is no address to reach; this machine is.
func publicURLOf(listen string) string {
	if host, port, err := net.SplitHostPort(listen); err == nil {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			return "http://" + net.JoinHostPort("localhost", port)
		}
	}
	return "http://" + listen
}

// ListeningOn tells the configuration where the server really listens (the
// port of ":0" is known only then); a public URL derived from the listen
// address follows it.
func (c *Config) ListeningOn(addr string) {
	if c.publicURLDerived {
		c.PublicURL = publicURLOf(addr)
	}
}

// resolve fills the derived defaults and checks what spans several options.
func (c *Config) resolve() error {
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "orgd.db")
	}
	if c.PublicURL == "" {
		c.publicURLDerived = true
		c.PublicURL = publicURLOf(c.Listen)
	}
	if c.SMTP != nil && c.MailFrom == "" {
		return errors.New("ORGD_MAIL_FROM: required when ORGD_SMTP_URL is set")
	}
	switch {
	case c.OIDCIssuer != "" && c.OIDCAudience == "":
		return errors.New("ORGD_OIDC_AUDIENCE: required when ORGD_OIDC_ISSUER is set")
	case c.OIDCIssuer == "" && c.OIDCAudience != "":
		return errors.New("ORGD_OIDC_ISSUER: required when ORGD_OIDC_AUDIENCE is set")
	case c.OIDCIssuer == "" && c.OIDCClientID != "":
		return errors.New("ORGD_OIDC_ISSUER: required when ORGD_OIDC_CLIENT_ID is set")
	case c.OIDCClientID == "" && c.OIDCClientSecret != "":
		return errors.New("ORGD_OIDC_CLIENT_ID: required when ORGD_OIDC_CLIENT_SECRET is set")
	case c.PageSignIn && c.OIDCIssuer == "":
		return errors.New("ORGD_OIDC_ISSUER: required when ORGD_PAGE_REQUIRE_SIGNIN is true: the page signs people in there")
	case c.PageSignIn && c.OIDCClientID == "":
		return errors.New("ORGD_OIDC_CLIENT_ID: required when ORGD_PAGE_REQUIRE_SIGNIN is true: the page signs people in as this client")
	}
	l := c.Limits
	if l.MinExpiry > l.MaxExpiry || l.DefaultExpiry < l.MinExpiry || l.DefaultExpiry > l.MaxExpiry {
		return fmt.Errorf("invitation expiry: need ORGD_INVITE_MIN_EXPIRY (%s) <= ORGD_INVITE_DEFAULT_EXPIRY (%s) <= ORGD_INVITE_MAX_EXPIRY (%s)",
			orgd.FormatDuration(l.MinExpiry), orgd.FormatDuration(l.DefaultExpiry), orgd.FormatDuration(l.MaxExpiry))
	}
	return nil
}

// StorageFlags returns the flags another orgd command needs to reach the
// same database and key as this configuration, "" for the defaults.
func (c *Config) StorageFlags() string {
	var flags []string
	if c.DataDir != "./orgd-data" {
		flags = append(flags, "--data-dir "+shellQuote(c.DataDir))
	}
	if c.DatabaseURL != "sqlite:"+filepath.Join(c.DataDir, "orgd.db") {
		flags = append(flags, "--database-url "+shellQuote(store.Redact(c.DatabaseURL)))
	}
	if len(flags) == 0 {
		return ""
	}
	return " " + strings.Join(flags, " ")
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Engine reports the database engine the configuration selects.
func (c *Config) Engine() store.Engine {
	e, _, _ := store.Parse(c.DatabaseURL)
	return e
}

// LogValue lists the configuration for logs, secrets masked.
func (c *Config) LogValue() slog.Value {
	key := "generated in data directory"
	if c.SecretKey != "" {
		key = "set"
	}
	smtp := "none (accept links are logged)"
	if c.SMTP != nil {
		smtp = c.SMTP.Redacted()
	}
	return slog.GroupValue(
		slog.String("data_dir", c.DataDir), slog.String("database", store.Redact(c.DatabaseURL)),
		slog.String("secret_key", key), slog.String("listen", c.Listen), slog.String("public_url", c.PublicURL),
		slog.Int("invite_rate_limit", c.Limits.InvitesPerHour), slog.Int("invite_max_emails", c.Limits.MaxEmailsPerRequest),
		slog.String("smtp", smtp), slog.String("oidc_issuer", cmp.Or(c.OIDCIssuer, "none")),
	)
}
