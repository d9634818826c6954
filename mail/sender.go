// Package mail delivers invitation emails: the templates that say who
// invited whom to what, the SMTP sender (or, with no SMTP server, the log),
// and the outbox worker that sends each email once, retrying temporary
// failures and never delivering a token that has been replaced.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is an email to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	Link    string // the accept link the message carries, for the log sender
}

// Sender delivers messages. Its errors are temporary (worth retrying)
// unless marked with Permanent.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// permanentError marks a failure that no retry will fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as a failure that retrying will not fix.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err is a failure that retrying will not fix.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// SMTP sends through an SMTP server.
type SMTP struct {
	host    string
	from    string
	options []gomail.Option
	target  string // for logs, without credentials
}

// SMTPOptions configure an SMTP sender.
type SMTPOptions struct {
	Timeout   time.Duration
	TLSConfig *tls.Config // nil: verify against the system roots
}

// SMTPServer is an SMTP server named by a URL, checked (see
// ParseSMTPURL): where to connect, how to use TLS, and the credentials.
type SMTPServer struct {
	url  *url.URL
	host string
	port int
	tls  gomail.Option // the TLS policy
}

// ParseSMTPURL checks an SMTP URL and returns the server it names:
//
//	smtp://user:password@host:587            STARTTLS when the server offers it
//	smtp://host:587?starttls=required        refuse a server without STARTTLS
//	smtp://host:25?starttls=off              never STARTTLS
//	smtps://user:password@host:465           implicit TLS
//
// starttls is the only query parameter: any other is refused, being a
// typo or a secret in the wrong place (?password=...), which the log would
// show. Its errors say what is wrong without naming the option or showing
// the URL, which may hold a password; an unknown parameter is named, its
// value never.
func ParseSMTPURL(rawURL string) (*SMTPServer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("is not a URL (percent-encode special characters in the user name and password)")
	}
	p := &SMTPServer{url: u, host: u.Hostname()}
	if p.host == "" {
		return nil, errors.New("has no host")
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("has a query that is not name=value pairs joined by & (percent-encode special characters)")
	}
	var unknown []string
	for name := range query {
		if name != "starttls" {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		what := "an unknown query parameter"
		if len(unknown) > 1 {
			what = "unknown query parameters"
		}
		return nil, fmt.Errorf("has %s %s: the only one is starttls (a user name and password go before the host: smtp://user:password@host:587)",
			what, strings.Join(unknown, ", "))
	}
	p.port = 587
	switch u.Scheme {
	case "smtp":
		switch query.Get("starttls") {
		case "", "opportunistic":
			p.tls = gomail.WithTLSPolicy(gomail.TLSOpportunistic)
		case "required":
			p.tls = gomail.WithTLSPolicy(gomail.TLSMandatory)
		case "off":
			p.tls = gomail.WithTLSPolicy(gomail.NoTLS)
			p.port = 25
		default:
			return nil, errors.New("starttls must be required, off or opportunistic")
		}
	case "smtps":
		p.tls = gomail.WithSSL()
		p.port = 465
	default:
		return nil, errors.New("must start with smtp:// or smtps://")
	}
	if port := u.Port(); port != "" {
		if p.port, err = strconv.Atoi(port); err != nil || p.port < 1 || p.port > 65535 {
			return nil, fmt.Errorf("has a bad port %q", port)
		}
	}
	return p, nil
}

// String names the server, without credentials: scheme://host:port.
func (s *SMTPServer) String() string {
	return s.url.Scheme + "://" + net.JoinHostPort(s.host, strconv.Itoa(s.port))
}

// Redacted is the URL as given, for logs: its scheme, user name, host,
// port and query (starttls alone, ParseSMTPURL saw to it), its password
// masked; a path or fragment, which nothing reads, is left out.
func (s *SMTPServer) Redacted() string {
	u := url.URL{Scheme: s.url.Scheme, User: s.url.User, Host: s.url.Host, RawQuery: s.url.RawQuery}
	return u.Redacted()
}

// NewSMTP returns a sender through server from the address from.
// Credentials are sent only over TLS (or to a server on localhost).
func NewSMTP(server *SMTPServer, from string, opts SMTPOptions) (*SMTP, error) {
	if err := gomail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("ORGD_MAIL_FROM %q is not an address: %v", from, err)
	}
	options := []gomail.Option{server.tls, gomail.WithPort(server.port)}
	if opts.Timeout > 0 {
		options = append(options, gomail.WithTimeout(opts.Timeout))
	}
	tlsConfig := opts.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tlsConfig = tlsConfig.Clone()
	tlsConfig.ServerName = server.host
	options = append(options, gomail.WithTLSConfig(tlsConfig))
	if u := server.url; u.User != nil && u.User.Username() != "" {
		password, _ := u.User.Password()
		// go-mail's own discovery never offers PLAIN or LOGIN without TLS,
		// not even to localhost; asked for them by name, it sends them over
		// TLS or to localhost only (its PlainAuth and LoginAuth refuse an
		// unencrypted connection to any other host).
		options = append(options, gomail.WithOpportunisticSMTPAuth(authPreference...),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(password))
	}
	if hello := helloName(from); hello != "" {
		options = append(options, gomail.WithHELO(hello))
	}
	return &SMTP{host: server.host, from: from, options: options, target: server.String()}, nil
}

// authPreference is the order in which AUTH mechanisms are chosen among
// those the server offers: go-mail's own, NTLM aside.
var authPreference = []gomail.SMTPAuthType{
	gomail.SMTPAuthSCRAMSHA256PLUS, gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1PLUS, gomail.SMTPAuthSCRAMSHA1,
	gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin,
}

// helloName is the domain of the sender address, announced in EHLO.
func helloName(from string) string {
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		return strings.TrimRight(from[i+1:], ">")
	}
	return ""
}

// String names the server, without credentials.
func (s *SMTP) String() string { return s.target }

// Send delivers m in one SMTP conversation. A 5xx answer is permanent;
// everything else (4xx answers, refused or dropped connections, timeouts)
// is temporary.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return Permanent(fmt.Errorf("sender address: %w", err))
	}
	if err := msg.To(m.To); err != nil {
		return Permanent(fmt.Errorf("%w: %w", errRecipient, err))
	}
	msg.Subject(m.Subject)
	msg.SetMessageID()
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	client, err := gomail.NewClient(s.host, s.options...)
	if err != nil {
		return Permanent(fmt.Errorf("SMTP client: %w", err))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return Permanent(fmt.Errorf("%s refused the message: %w", s.target, err))
		}
		return fmt.Errorf("send through %s: %w", s.target, err)
	}
	return nil
}

// errRecipient marks a recipient address the mail library cannot use.
var errRecipient = errors.New("the recipient address cannot be used for email")

// PublicReason says why a delivery attempt failed in words fit for the
// administrators of the organization, who read it as email_error: the mail
// server's answer (its code, enhanced code and the command it answered)
// when it gave one, else what kind of failure it was. It never carries the
// mail server's address, the connection's details or orgd's own
// configuration: those are the operator's, and the log has them.
func PublicReason(err error) string {
	var se *gomail.SendError
	var ne net.Error
	switch {
	case errors.As(err, &se) && se.ErrorCode() > 0:
		answer := strconv.Itoa(se.ErrorCode())
		if code := se.EnhancedStatusCode(); code != "" {
			answer += " " + code
		}
		return fmt.Sprintf("the mail server answered %s (%s)", answer, se.Reason)
	case errors.Is(err, errRecipient):
		return errRecipient.Error()
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "the mail server did not answer in time"
	}
	return "the mail server could not be reached, or the conversation with it failed (orgd's log has the cause)"
}

// Log writes messages to the server log instead of sending them, so that a
// server without SMTP still shows every accept link.
type Log struct{ Logger *slog.Logger }

// Send logs the recipient, subject and accept link.
func (l Log) Send(ctx context.Context, m Message) error {
	l.Logger.LogAttrs(ctx, slog.LevelInfo, "invitation email not sent (no SMTP server configured); accept link follows",
		slog.String("to", m.To), slog.String("subject", m.Subject), slog.String("accept_link", m.Link))
	return nil
}
