package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readme returns the README's text from heading on, up to the next "## ".
func readme(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// TestCIRunsTheREADMETestCommand checks that .ci/run runs, word for word,
// the test command of the README's "The two commands".
func TestCIRunsTheREADMETestCommand(t *testing.T) {
	_, block, _ := strings.Cut(readme(t, "## The two commands"), "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	var commands []string
	for line := range strings.Lines(block) {
		if line = strings.TrimSpace(line); strings.Contains(line, "go test") && !strings.HasPrefix(line, "#") {
			commands = append(commands, line)
		}
	}
	if len(commands) != 1 {
		t.Fatalf("README's \"The two commands\" block has %d go test commands, want 1:\n%s", len(commands), block)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(ci), "\n"), commands[0]) {
		t.Errorf(".ci/run does not have the README's test command as a line of its own:\n%s", commands[0])
	}
	if fi, err := os.Stat("../../.ci/run"); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf(".ci/run is not executable (%v)", err)
	}
}

// documentedJSON returns, per admin command ("org create"), the keys the
// README's admin table says it prints with --json, and whether it prints a
// list of such objects.
func documentedJSON(t *testing.T) map[string]jsonShape {
	t.Helper()
	row := regexp.MustCompile("^\\| `orgd admin (\\S+ \\S+)[^`]*` \\| `(\\[?)\\{([^`]*)\\}\\]?` \\|$")
	key := regexp.MustCompile(`^"([a-z_]+)"$`)
	shapes := map[string]jsonShape{}
	for line := range strings.Lines(readme(t, "## From nothing to a working curl")) {
		m := row.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		shape := jsonShape{list: m[2] == "["}
		for k := range strings.SplitSeq(m[3], ",") {
			km := key.FindStringSubmatch(k)
			if km == nil {
				t.Fatalf("README admin table: %q is not a quoted key in %q", k, line)
			}
			shape.keys = append(shape.keys, km[1])
		}
		slices.Sort(shape.keys)
		shapes[m[1]] = shape
	}
	if len(shapes) == 0 {
		t.Fatal("README.md has no admin command table")
	}
	return shapes
}

type jsonShape struct {
	keys []string // sorted
	list bool
}
