package orgd

import (
	"errors"
	"strings"

	"golang.org/x/net/idna"
)

// Email is a validated address: Address as the caller wrote it (trimmed), and
// Norm, the form every comparison and uniqueness rule uses (lower case, domain
// in IDNA ASCII form).
type Email struct {
	Address string
	Norm    string
}

const (
	maxEmailLength  = 254 // RFC 5321 path limit minus the angle brackets
	maxLocalLength  = 64
	maxDomainLength = 253
	maxLabelLength  = 63
)

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.VerifyDNSLength(true))

// ParseEmail validates an address strictly: a bare addr-spec (no display
// name, no comments, no quoted local part), an ASCII dot-atom local part, a
// DNS domain name with at least two labels (no IP literals, no numeric top
// level), and the RFC 5321 length limits.
func ParseEmail(s string) (Email, error) {
	addr := strings.TrimSpace(s)
	if addr == "" {
		return Email{}, errors.New("the address is empty")
	}
	if len(addr) > maxEmailLength {
		return Email{}, errors.New("the address is longer than 254 characters")
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return Email{}, errors.New("the address has no @")
	}
	local, domain := addr[:at], addr[at+1:]
	if err := checkLocalPart(local); err != nil {
		return Email{}, err
	}
	asciiDomain, err := checkDomain(domain)
	if err != nil {
		return Email{}, err
	}
	norm := strings.ToLower(local) + "@" + asciiDomain
	if len(norm) > maxEmailLength {
		// An internationalized domain is longer in its ASCII form, which
		// is what the limit is about.
		return Email{}, errors.New("the address is longer than 254 characters once its domain is in ASCII form")
	}
	return Email{Address: addr, Norm: norm}, nil
}

// NormalizeEmail returns the comparison form of an address that may not be
// valid: trimmed and lower-cased, with the domain in IDNA form when it can be
// converted. Use it to match a stored or claimed address, never to validate one.
func NormalizeEmail(s string) string {
	if e, err := ParseEmail(s); err == nil {
		return e.Norm
	}
	return strings.ToLower(strings.TrimSpace(s))
}

func checkLocalPart(local string) error {
	if local == "" {
		return errors.New("the part before @ is empty")
	}
	if len(local) > maxLocalLength {
		return errors.New("the part before @ is longer than 64 characters")
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return errors.New("the part before @ has a misplaced dot")
	}
	for i := 0; i < len(local); i++ {
		if !isAtext(local[i]) && local[i] != '.' {
			return errors.New("the part before @ has a character that is not allowed (" + quoteByte(local[i]) + ")")
		}
	}
	return nil
}

// isAtext reports whether c is an RFC 5322 atext character.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return "a control or non-ASCII character"
	}
	return "'" + string(c) + "'"
}

func checkDomain(domain string) (string, error) {
	if domain == "" {
		return "", errors.New("the domain is empty")
	}
	if strings.HasPrefix(domain, "[") {
		return "", errors.New("IP address literals are not accepted as domains")
	}
	ascii, err := idnaProfile.ToASCII(strings.ToLower(domain))
	if err != nil {
		return "", errors.New("the domain is not a valid domain name")
	}
	if len(ascii) > maxDomainLength {
		return "", errors.New("the domain is longer than 253 characters")
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", errors.New("the domain needs at least one dot")
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLength || l[0] == '-' || l[len(l)-1] == '-' {
			return "", errors.New("the domain has an empty, over-long or hyphen-edged label")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "", errors.New("the domain has a character that is not allowed")
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return "", errors.New("the domain looks like an IP address")
	}
	return ascii, nil
}

// EmailDomain returns the normalized domain of a normalized address.
func EmailDomain(norm string) string {
	return norm[strings.LastIndexByte(norm, '@')+1:]
}
