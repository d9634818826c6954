package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgd/orgd/config"
)

// readmeRow is how the README's configuration table shows an option.
type readmeRow struct{ Variable, Flag, Default, Meaning string }

// TestREADMEListsEveryOption keeps the README's configuration table, between
// <!-- config:begin --> and <!-- config:end -->, equal to Options.
func TestREADMEListsEveryOption(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(b), "<!-- config:begin -->\n")
	table, _, ok2 := strings.Cut(rest, "<!-- config:end -->")
	if !ok1 || !ok2 {
		t.Fatal("README.md has no <!-- config:begin --> ... <!-- config:end --> block")
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) < 2 || lines[0] != "| variable | flag | default | meaning |" || lines[1] != "|---|---|---|---|" {
		t.Fatalf("the configuration table starts with %q, want the header | variable | flag | default | meaning |", lines[:min(2, len(lines))])
	}
	var got []readmeRow
	for _, line := range lines[2:] {
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 4 {
			t.Errorf("README row %q does not have 4 cells", line)
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		got = append(got, readmeRow{cells[0], cells[1], cells[2], cells[3]})
	}

	var want []readmeRow
	for _, o := range config.Options {
		r := readmeRow{Variable: "`" + o.Env + "`", Flag: "`--" + o.Flag + "`", Default: "—", Meaning: o.Usage}
		if o.Secret {
			r.Variable += " (or `" + o.Env + "_FILE`)"
		}
		if o.Default != "" {
			r.Default = "`" + o.Default + "`"
		}
		want = append(want, r)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README.md's configuration table differs from config.Options (-Options +README):\n%s", diff)
	}
}
