package main

import (
	"os"
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
