package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/orgd/orgd/internal/testdb"
)

func TestVersion(t *testing.T) {
	r := newTestEnv(t, "").run("version")
	if r.code != exitOK || !regexp.MustCompile(`^orgd \S+ \(go[^,]+, \w+/\w+\)\n$`).MatchString(r.stdout) {
		t.Errorf("orgd version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string // part of stderr; for exitOK, of stdout or stderr
	}{
		{nil, exitUsage, "Usage:"},
		{[]string{"frob"}, exitUsage, `unknown command "frob"`},
		{[]string{"serve", "stray"}, exitUsage, `unexpected argument "stray"`},
		{[]string{"serve", "--no-such-flag"}, exitUsage, "flag provided but not defined: -no-such-flag"},
		{[]string{"serve", "--listen", "8080"}, exitUsage, "--listen: must be host:port"},
		{[]string{"migrate", "stray"}, exitUsage, `unexpected argument "stray"`},
		{[]string{"admin"}, exitUsage, "admin needs a command"},
		{[]string{"admin", "org"}, exitUsage, `unknown admin command "org"`},
		{[]string{"admin", "org", "frob"}, exitUsage, `unknown admin command "org frob"`},
		{[]string{"admin", "org", "create"}, exitUsage, "--name is required"},
		{[]string{"admin", "org", "create", "--name", "Acme", "stray"}, exitUsage, `unexpected argument "stray"`},
		{[]string{"admin", "user", "create", "--name", "Ann"}, exitUsage, "--email is required"},
		{[]string{"admin", "member", "add", "--org", "acme", "--email", "a@example.com"}, exitUsage, "--role is required"},
		{[]string{"admin", "key", "create", "--email", "a@example.com", "--expires-in", "soon"}, exitUsage, `invalid value "soon" for flag -expires-in`},
		{[]string{"admin", "key", "create", "--email", "a@example.com", "--expires-in", "0s"}, exitUsage, "the lifetime must be positive"},
		{[]string{"-h"}, exitOK, "Usage:"},
		{[]string{"help"}, exitOK, "Usage:"},
		{[]string{"serve", "-h"}, exitOK, "Usage: orgd serve"},
		{[]string{"migrate", "-h"}, exitOK, "Usage: orgd migrate"},
		{[]string{"admin", "-h"}, exitOK, "Usage: orgd admin"},
		{[]string{"admin", "org", "create", "-h"}, exitOK, "Usage: orgd admin org create"},
		{[]string{"admin", "key", "create", "--help"}, exitOK, "--expires-in"},
	} {
		e := newTestEnv(t, "")
		dataDir := filepath.Join(e.vars["ORGD_DATA_DIR"], "data")
		e.vars["ORGD_DATA_DIR"] = dataDir
		r := e.run(tc.args...)
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("orgd %s created the data directory (stat: %v)", strings.Join(tc.args, " "), err)
		}
		out := r.stderr
		if tc.code == exitOK {
			out += r.stdout
		}
		if r.code != tc.code || !strings.Contains(out, tc.stderr) {
			t.Errorf("orgd %s: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), r.code, tc.code, tc.stderr, r.stdout, r.stderr)
		}
	}
}

func TestFlagErrorsArePrintedOnce(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"serve", "--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"migrate", "--data-dir"}, "flag needs an argument: -data-dir"},
		{[]string{"admin", "org", "create", "--name"}, "flag needs an argument: -name"},
	} {
		r := newTestEnv(t, "").run(tc.args...)
		if r.code != exitUsage || strings.Count(r.stderr, tc.msg) != 1 || !strings.HasSuffix(r.stderr, "\norgd: "+tc.msg+"\n") {
			t.Errorf("orgd %s: exit %d, want %d with the usage, then %q once:\n%s", strings.Join(tc.args, " "), r.code, exitUsage, tc.msg, r.stderr)
		}
	}
}

func TestAdminErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		e := newTestEnv(t, databaseURL)
		e.must("migrate")
		e.must("admin", "org", "create", "--name", "Acme")
		e.must("admin", "user", "create", "--email", "ann@example.com")
		for _, tc := range []struct {
			args   []string
			stderr string
		}{
			{[]string{"user", "create", "--email", "ANN@example.com "}, "user.already_exists"},
			{[]string{"user", "create", "--email", "not an address"}, "The email address is not valid"},
			{[]string{"user", "create", "--email", "Ann <ann@example.com>"}, "The email address is not valid"},
			{[]string{"org", "create", "--name", "Acme"}, `An organization with the key "acme" already exists`},
			{[]string{"org", "create", "--name", "A"}, "organization.invalid_name"},
			{[]string{"member", "add", "--org", "nope", "--email", "ann@example.com", "--role", "owner"}, "organization.not_found"},
			{[]string{"member", "add", "--org", "acme", "--email", "bob@example.com", "--role", "owner"}, "user.not_found"},
			{[]string{"member", "add", "--org", "acme", "--email", "ann@example.com", "--role", "boss"}, `"boss" is not a role; the roles are owner,`},
			{[]string{"key", "create", "--email", "bob@example.com"}, "user.not_found"},
			{[]string{"user", "platform-admin", "--email", "bob@example.com"}, "user.not_found"},
		} {
			r := e.run(append([]string{"admin"}, tc.args...)...)
			if r.code != exitError || !strings.HasPrefix(r.stderr, "orgd: ") || !strings.Contains(r.stderr, tc.stderr) || r.stdout != "" {
				t.Errorf("orgd admin %s: exit %d, want %d with %q on stderr\nstdout:\n%s\nstderr:\n%s",
					strings.Join(tc.args, " "), r.code, exitError, tc.stderr, r.stdout, r.stderr)
			}
		}
	})
}
