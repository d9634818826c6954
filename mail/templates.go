package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/orgd/orgd"
)

//go:embed templates/*
var embedded embed.FS

// The template files; an operator replaces any of them by putting a file of
// the same name in ORGD_MAIL_TEMPLATES_DIR.
const (
	subjectFile = "invitation_subject.txt"
	textFile    = "invitation.txt"
	htmlFile    = "invitation.html"
)

// Templates render invitation emails.
type Templates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// InvitationData is what the templates can use. Every value that comes from
// a user is cleaned of control characters and line breaks.
type InvitationData struct {
	OrgName         string
	Inviter         string // "Alice Smith (alice@example.com)", "alice@example.com" or "An administrator"
	InviterName     string
	InviterEmail    string
	InviteeEmail    string
	Role            string
	RoleArticle     string // "a" or "an"
	RoleDescription string
	ExpiresAt       string // "Friday, 27 November 2026 at 14:05 UTC"
	ExpiresIn       string // "in 3 days"
	AcceptURL       string
}

// LoadTemplates parses the embedded templates, replaced by any file of the
// same name in dir (when dir is not empty), and checks that they render.
func LoadTemplates(dir string) (*Templates, error) {
	read := func(name string) (string, error) {
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err == nil {
				return string(b), nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("mail template %s: %w", name, err)
			}
		}
		b, err := embedded.ReadFile("templates/" + name)
		return string(b), err
	}
	var t Templates
	src, err := read(subjectFile)
	if err != nil {
		return nil, err
	}
	if t.subject, err = texttemplate.New(subjectFile).Option("missingkey=error").Parse(src); err != nil {
		return nil, fmt.Errorf("mail template %s: %w", subjectFile, err)
	}
	if src, err = read(textFile); err != nil {
		return nil, err
	}
	if t.text, err = texttemplate.New(textFile).Option("missingkey=error").Parse(src); err != nil {
		return nil, fmt.Errorf("mail template %s: %w", textFile, err)
	}
	if src, err = read(htmlFile); err != nil {
		return nil, err
	}
	if t.html, err = htmltemplate.New(htmlFile).Option("missingkey=error").Parse(src); err != nil {
		return nil, fmt.Errorf("mail template %s: %w", htmlFile, err)
	}
	sample := InvitationData{OrgName: "Acme", Inviter: "Alice (alice@example.com)", InviteeEmail: "bob@example.com",
		Role: "reader", RoleArticle: "a", RoleDescription: "view", ExpiresAt: "Friday", ExpiresIn: "in 3 days", AcceptURL: "https://orgd.example/invitations/t"}
	if _, err := t.render(sample); err != nil {
		return nil, err
	}
	return &t, nil
}

// Data builds the template data of a delivery.
func Data(d *orgd.Delivery, acceptURL string, now time.Time) InvitationData {
	name, email := clean(d.InviterName), clean(d.InviterEmail)
	inviter := "An administrator"
	switch {
	case name != "" && email != "":
		inviter = name + " (" + email + ")"
	case email != "":
		inviter = email
	case name != "":
		inviter = name
	}
	role := string(d.Role)
	article := "a"
	if strings.ContainsRune("aeiou", rune(role[0])) {
		article = "an"
	}
	return InvitationData{
		OrgName: clean(d.OrgName), Inviter: inviter, InviterName: name, InviterEmail: email,
		InviteeEmail: clean(d.Invitation.Email), Role: role, RoleArticle: article, RoleDescription: d.Role.Description(),
		ExpiresAt: orgd.TimeInWords(d.Invitation.ExpiresAt),
		ExpiresIn: orgd.ExpiresInWords(d.Invitation.ExpiresAt, now), AcceptURL: acceptURL,
	}
}

// Invitation renders the email of a delivery.
func (t *Templates) Invitation(d *orgd.Delivery, acceptURL string, now time.Time) (Message, error) {
	m, err := t.render(Data(d, acceptURL, now))
	if err != nil {
		return Message{}, err
	}
	m.To, m.Link = d.Invitation.Email, acceptURL
	return m, nil
}

func (t *Templates) render(data InvitationData) (Message, error) {
	var subject, text, html bytes.Buffer
	if err := t.subject.Execute(&subject, data); err != nil {
		return Message{}, fmt.Errorf("mail template %s: %w", subjectFile, err)
	}
	if err := t.text.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail template %s: %w", textFile, err)
	}
	if err := t.html.Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail template %s: %w", htmlFile, err)
	}
	return Message{Subject: clean(subject.String()), Text: text.String(), HTML: html.String()}, nil
}

// maxValue bounds a user-provided value in an email.
const maxValue = 200

// clean makes a user-provided value safe for a header or a line: control
// characters (line breaks included) become spaces, runs of spaces one.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxValue {
		s = string(r[:maxValue]) + "…"
	}
	return s
}
