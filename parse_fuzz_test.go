package orgd_test

import (
	"strings"
	"testing"

	"github.com/orgd/orgd"
)

// FuzzParseEmail checks what every accepted address promises: its Norm is
// what comparisons use, so it must be stable, lower-case, ASCII, one '@'
// and within the RFC 5321 limit, however the address was written.
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{
		"bob@example.com", " Bob@Example.COM ", "a.b+tag@sub.example.co.uk", "o'brien@example.ie",
		"user@bücher.example", "USER@BÜCHER.EXAMPLE", "ü@example.com", "a@xn--bcher-kva.example",
		"a@b", "a@1.2.3.4", "a@[127.0.0.1]", "\"quoted\"@example.com", "Bob <bob@example.com>",
		"a..b@example.com", ".a@example.com", "a.@example.com", "a@-example.com", "a@example-.com",
		"a@@example.com", "@example.com", "a@", "", "   ", "a@example.com\n", "a@exa mple.com",
		"a@example.com.", "a@.example.com", "a@example..com", "a@EXAMPLE.123", "a@example.c0m",
		strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 65) + "@example.com",
		"a@" + strings.Repeat("b", 63) + ".com", "a@" + strings.Repeat("b", 64) + ".com",
		"a@" + strings.Repeat(strings.Repeat("c", 60)+".", 4) + "com",
		strings.Repeat("x", 64) + "@" + strings.Repeat("ü", 30) + "." + strings.Repeat("é", 30) + ".example",
		"a@ǅ.example", "a@ß.example", "a@ＥＸＡＭＰＬＥ.com", "a@example。com", "a@\u200d.example",
		"a@xn--.example", "a@xn--a.example", "a@ab--cd.example", "a\x00@example.com", "a@exa\x00mple.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := orgd.ParseEmail(s)
		if err != nil {
			if e != (orgd.Email{}) {
				t.Fatalf("ParseEmail(%q) failed with a value %+v", s, e)
			}
			return
		}
		if e.Address != strings.TrimSpace(s) {
			t.Errorf("ParseEmail(%q).Address = %q, want the trimmed input", s, e.Address)
		}
		checkNorm(t, s, e.Norm)
		for _, again := range []string{e.Address, e.Norm, flipASCIICase(e.Address), " " + e.Address + "\t"} {
			e2, err := orgd.ParseEmail(again)
			if err != nil {
				t.Fatalf("ParseEmail(%q) accepted %q but refuses %q: %v", s, e.Address, again, err)
			}
			if e2.Norm != e.Norm {
				t.Errorf("ParseEmail(%q).Norm = %q, but %q gives %q", s, e.Norm, again, e2.Norm)
			}
		}
		if n := orgd.NormalizeEmail(e.Address); n != e.Norm {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", e.Address, n, e.Norm)
		}
		if d := orgd.EmailDomain(e.Norm); !strings.HasSuffix(e.Norm, "@"+d) || strings.Contains(d, "@") {
			t.Errorf("EmailDomain(%q) = %q", e.Norm, d)
		}
	})
}

func checkNorm(t *testing.T, input, norm string) {
	t.Helper()
	if norm != strings.ToLower(norm) {
		t.Errorf("Norm of %q is %q, not lower-case", input, norm)
	}
	if strings.Count(norm, "@") != 1 {
		t.Errorf("Norm of %q is %q, not one '@'", input, norm)
	}
	if len(norm) > 254 {
		t.Errorf("Norm of %q is %d bytes, more than 254", input, len(norm))
	}
	for i := 0; i < len(norm); i++ {
		if norm[i] <= ' ' || norm[i] >= 0x7f {
			t.Errorf("Norm of %q is %q, with byte %#x", input, norm, norm[i])
			break
		}
	}
}

// flipASCIICase swaps the case of ASCII letters: addresses compare
// case-insensitively.
func flipASCIICase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// FuzzParseDuration checks that accepted durations are never negative (zero,
// "0s", is a duration; every caller bounds it), are read case-insensitively,
// and are written back by FormatDuration in a form that reads as the same
// duration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{
		"72h", "3d", "2w", "30m", "45s", "1d12h", "1w2d3h4m5s", "5s4m3h2d1w", "1h1h", "72H", "3D",
		"0s", "0h0m", "00001h", "", "h", "72", "-1h", "+1h", "1.5h", "1 h", " 1h", "1h ", "1x", "1hh",
		"1µs", "1ms", "9223372036854775807s", "4611686018427387904ns", "106751d", "15250w", "15251w",
		"99999999999999999999h", "153722867h", "2562047h47m16s", "1" + strings.Repeat("0", 31), "١h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := orgd.ParseDuration(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("ParseDuration(%q) failed with %v", s, d)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		if u, err := orgd.ParseDuration(strings.ToUpper(s)); err != nil || u != d {
			t.Errorf("ParseDuration(%q) = %v, but the upper-case form gives %v, %v", s, d, u, err)
		}
		text := orgd.FormatDuration(d)
		back, err := orgd.ParseDuration(text)
		if err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, written as %q, which reads as %v, %v", s, d, text, back, err)
		}
		if again := orgd.FormatDuration(back); again != text {
			t.Errorf("FormatDuration is not stable: %q, then %q", text, again)
		}
	})
}
