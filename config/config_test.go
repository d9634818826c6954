package config_test

import (
	"flag"
	"io"
	"testing"

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
