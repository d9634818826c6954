// Package smtptest runs a real SMTP server (emersion/go-smtp) on a loopback
// port inside a test process. It captures what it receives and can be told
// to refuse (4xx, 5xx), to stall, or to go down and come back on the same
// port, so tests see orgd's delivery through a real SMTP conversation.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is an email the server accepted.
type Message struct {
	From    string
	To      []string
	Header  mail.Header
	Subject string // decoded
	Text    string // the text/plain part
	HTML    string // the text/html part
	Raw     []byte
}

// Server is a running SMTP server.
type Server struct {
	t    testing.TB
	addr string

	mu       sync.Mutex
	ln       net.Listener
	srv      *smtp.Server
	messages []Message
	attempts int               // MAIL commands received: delivery attempts that reached the server
	refuse   []*smtp.SMTPError // answers to the next DATA commands, in order
	stall    time.Duration     // delay before answering MAIL
	user     string
	password string
	tls      *tls.Config
	changed  chan struct{} // closed and replaced on every delivery attempt
}

// Options configure a Server.
type Options struct {
	TLS      bool   // offer STARTTLS with a self-signed certificate (see CertPool)
	User     string // require AUTH PLAIN with these credentials
	Password string
}

// Start runs a server on 127.0.0.1 until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, user: opts.User, password: opts.Password, changed: make(chan struct{})}
	if opts.TLS {
		s.tls = selfSigned(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(s)
	srv.Domain = "mail.test"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.AllowInsecureAuth = s.tls == nil
	srv.TLSConfig = s.tls
	s.mu.Lock()
	s.ln, s.srv = ln, srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL is an smtp:// URL for the server; query is appended as is (such as
// "starttls=required").
func (s *Server) URL(query string) string {
	u := "smtp://"
	if s.user != "" {
		u += s.user + ":" + s.password + "@"
	}
	u += s.addr
	if query != "" {
		u += "?" + query
	}
	return u
}

// CertPool trusts the server's certificate.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if s.tls != nil {
		pool.AddCert(s.tls.Certificates[0].Leaf)
	}
	return pool
}

// Stop closes the server: connections are refused until Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Restart serves again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after Stop
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("restart SMTP server on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// Refuse makes the next DATA commands fail with the given codes (such as
// 451 or 550), one code per attempt.
func (s *Server) Refuse(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		enhanced := smtp.EnhancedCode{4, 3, 0}
		if c >= 500 {
			enhanced = smtp.EnhancedCode{5, 7, 1}
		}
		s.refuse = append(s.refuse, &smtp.SMTPError{Code: c, EnhancedCode: enhanced, Message: "refused by the test"})
	}
}

// Stall makes the server wait d before answering each MAIL command, so a
// client with a shorter timeout gives up before sending any message.
func (s *Server) Stall(d time.Duration) {
	s.mu.Lock()
	s.stall = d
	s.mu.Unlock()
}

// Messages returns the accepted messages so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Attempts counts MAIL commands: delivery attempts, whatever became of them.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Wait blocks until cond holds for the accepted messages, failing the test
// after timeout.
func (s *Server) Wait(timeout time.Duration, what string, cond func([]Message) bool) []Message {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		msgs, changed := append([]Message(nil), s.messages...), s.changed
		s.mu.Unlock()
		if cond(msgs) {
			return msgs
		}
		select {
		case <-changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			s.t.Fatalf("SMTP server: waited %s for %s; got %d messages", timeout, what, len(msgs))
		}
	}
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }

type session struct {
	srv    *Server
	from   string
	to     []string
	authed bool
}

func (c *session) AuthMechanisms() []string {
	if c.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (c *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != c.srv.user || password != c.srv.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		c.authed = true
		return nil
	}), nil
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	if c.srv.user != "" && !c.authed {
		return smtp.ErrAuthRequired
	}
	s := c.srv
	s.mu.Lock()
	s.attempts++
	stall := s.stall
	s.mu.Unlock()
	if stall > 0 {
		time.Sleep(stall)
		defer s.notify()
	}
	c.from = from
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := c.srv
	s.mu.Lock()
	var refusal *smtp.SMTPError
	if len(s.refuse) > 0 {
		refusal, s.refuse = s.refuse[0], s.refuse[1:]
	}
	s.mu.Unlock()
	defer s.notify()
	if refusal != nil {
		return refusal
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparseable message: " + err.Error()}
	}
	m.From, m.To = c.from, append([]string(nil), c.to...)
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	return nil
}

func (s *Server) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (c *session) Reset()        { c.from, c.to = "", nil }
func (c *session) Logout() error { return nil }

// parse reads the subject and the text and HTML parts of a message.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: msg.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Message{}, err
	}
	err = walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m)
	return m, err
}

func walk(contentType, encoding string, body io.Reader, m *Message) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, m); err != nil {
				return err
			}
		}
	}
	text, err := decode(encoding, body)
	if err != nil {
		return err
	}
	switch mediaType {
	case "text/plain":
		m.Text = text
	case "text/html":
		m.HTML = text
	}
	return nil
}

func decode(encoding string, r io.Reader) (string, error) {
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = newQPReader(r)
	case "base64":
		r = newBase64Reader(r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

func selfSigned(t testing.TB) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}}
}

func newQPReader(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }

func newBase64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: r})
}

// stripNewlines drops the line breaks of a base64 body.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	out := p[:0]
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return len(out), err
}
