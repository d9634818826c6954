package apitest

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgd/orgd/mail"
)

// Mailbox is a mail.Sender that keeps every message it is given: the fake
// of the mail boundary for tests that read what orgd sent.
type Mailbox struct {
	mu   sync.Mutex
	msgs []mail.Message
}

// Send implements mail.Sender.
func (m *Mailbox) Send(_ context.Context, msg mail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// To returns the messages sent to addr so far, oldest first.
func (m *Mailbox) To(addr string) []mail.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []mail.Message
	for _, msg := range m.msgs {
		if strings.EqualFold(msg.To, addr) {
			out = append(out, msg)
		}
	}
	return out
}

// Wait returns the first message to addr, waiting for the outbox to send
// it for up to 15 seconds.
func (m *Mailbox) Wait(t testing.TB, addr string) mail.Message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if msgs := m.To(addr); len(msgs) > 0 {
			return msgs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email to %s within 15 s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var acceptLink = regexp.MustCompile(`https?://\S+/invitations/[A-Za-z0-9_-]+`)

// AcceptLink returns the accept link in the plain text of an invitation
// email.
func AcceptLink(t testing.TB, msg mail.Message) string {
	t.Helper()
	links := acceptLink.FindAllString(msg.Text, -1)
	if len(links) == 0 {
		t.Fatalf("no accept link in the email to %s:\n%s", msg.To, msg.Text)
	}
	return links[0]
}
