package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestLimitsOfWritesEachFigureAsARatio(t *testing.T) {
	results := []Result{
		{Surface: surfaceLimit, Scenario: limitHTTP, RPS: 80_000},
		{Engine: "postgres", Surface: surfaceLimit, Scenario: limitInsert, RPS: 16_000},
		{Engine: "sqlite", Surface: surfaceLimit, Scenario: limitInsert, RPS: 40_000},
		{Engine: "postgres", Surface: surfaceElastic, Scenario: "create-1", RPS: 4_000, Limit: limitInsert},
		{Engine: "sqlite", Surface: surfaceElastic, Scenario: "create-1", RPS: 4_000, Limit: limitInsert},
		{Engine: "sqlite", Surface: surfaceSlug, Scenario: "list-invitations-20", RPS: 8_000, Limit: limitHTTP},
	}
	limitsOf(results)
	for i, want := range []float64{0, 0, 0, 0.25, 0.1, 0.1} {
		if got := results[i].RatioToLimit; got != want {
			t.Errorf("%s %s/%s: ratio %v, want %v", results[i].Engine, results[i].Surface, results[i].Scenario, got, want)
		}
	}
}

func rss(mb float64) *float64 { return &mb }

func TestJudge(t *testing.T) {
	results := []Result{
		{Engine: "postgres", Surface: surfaceLimit, Scenario: limitInsert, RPS: 16_000},
		{Engine: "postgres", Surface: surfaceElastic, Scenario: "create-1", RPS: 9_000, P99ms: 20, ServerPeakRSSMB: rss(40)},
		{Engine: "postgres", Surface: surfaceSlug, Scenario: "list-invitations-100-first20", RPS: 8_000, ServerPeakRSSMB: rss(30)},
		{Engine: "postgres", Surface: surfaceSlug, Scenario: "list-invitations-100000-first20", RPS: 5_000, ServerPeakRSSMB: rss(30)},
		{Engine: "postgres", Surface: surfaceSlug, Scenario: "list-invitations-100000-first100", RPS: 1_000, ServerPeakRSSMB: rss(30)},
		{Engine: "postgres", Surface: surfaceSlug, Scenario: "list-invitations-100000-deep20", RPS: 4_000, ServerPeakRSSMB: rss(900)},
		// Fast because every request failed: not a result.
		{Engine: "postgres", Surface: surfaceElastic, Scenario: "accept", RPS: 40_000, Requests: 1000, Errors: 1000, Exhausted: true},
		{Engine: "postgres", Surface: surfaceElastic, Scenario: "create-1000-single", P99ms: 120},
	}
	type v struct {
		target, scenario string
		met              bool
		shortfall        string
	}
	want := []v{
		{"create one invitation: half the insert limit", "elastic/create-1", true, ""},
		{"create one invitation: p99 under 15 ms", "elastic/create-1", false, "1.3× over the bound"},
		{"a page of 20 invitations: 20,000 req/s", "slug/list-invitations-100000-first20", false, "4.0× the throughput needed"},
		{"a page of 100 invitations: 8,000 req/s", "slug/list-invitations-100000-first100", false, "8.0× the throughput needed"},
		{"accept: a third of the insert limit", "elastic/accept", false, "not judged: 1000 of 1000 requests of elastic/accept failed"},
		{"1,000 emails in one request: under 300 ms end to end (p99, one client)", "elastic/create-1000-single", true, ""},
		{"page time does not grow: a deep page at 100000 within 20% of a page at 100", "slug/list-invitations-100000-deep20", false, "1.6× the throughput needed"},
		{"memory: under 150 MB resident at the peak of any scenario", "slug/list-invitations-100000-deep20", false, "6.0× over the bound"},
	}
	got := judge(results)
	if len(got) != len(want) {
		t.Fatalf("%d verdicts, want %d: %+v", len(got), len(want), got)
	}
	for i, g := range got {
		if w := want[i]; g.Engine != "postgres" || g.Target != w.target || g.Scenario != w.scenario || g.Met != w.met || g.Shortfall != w.shortfall {
			t.Errorf("verdict %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestJudgeLeavesOutWhatDidNotRun(t *testing.T) {
	if got := judge([]Result{{Surface: surfaceLimit, Scenario: limitHTTP, RPS: 1}}); len(got) != 0 {
		t.Errorf("verdicts without scenarios: %+v", got)
	}
}

func TestPrintTableNamesEveryError(t *testing.T) {
	var b bytes.Buffer
	printTable(&b, []Result{{Engine: "sqlite", Surface: surfaceElastic, Scenario: "accept", Clients: 16, RPS: 12.5, Errors: 2,
		Exhausted: true, ErrorKinds: map[string]int{"accept-organization-invitation: status 400, want 200": 2}}})
	out := b.String()
	for _, want := range []string{"accept (pool used up)", "12.5", "sqlite elastic/accept: 2× accept-organization-invitation: status 400"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestCommandLineQuotesWhatTheShellWouldSplit(t *testing.T) {
	got := commandLine([]string{"-engines", "sqlite", "-run", "elastic/(create|list)", "-postgres", "postgres://p@h/db?sslmode=disable"})
	want := `go run . -engines sqlite -run 'elastic/(create|list)' -postgres 'postgres://p@h/db?sslmode=disable'`
	if got != want {
		t.Errorf("commandLine = %s\nwant            %s", got, want)
	}
}

func TestParseOptions(t *testing.T) {
	getenv := func(string) string { return "" }
	o, err := parseOptions([]string{"-engines", "sqlite", "-invitations", "100,20,100", "-surfaces", "slug"}, getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.invitationSizes) != 2 || o.invitationSizes[0] != 20 || o.surfaces[0] != surfaceSlug || o.clients != 16 {
		t.Errorf("options %+v", o)
	}
	for _, args := range [][]string{
		{"-engines", "mysql"},
		{"-engines", "postgres"}, // no server named
		{"-invitations", "0"},
		{"-run", "("},
		{"-clients", "0"},
		{"extra"},
	} {
		if _, err := parseOptions(args, getenv, &bytes.Buffer{}); err == nil {
			t.Errorf("parseOptions(%q): no error", args)
		}
	}
}

func TestPlanBootstrapsOnlyWhatTheSelectedScenariosNeed(t *testing.T) {
	o, err := parseOptions([]string{"-engines", "sqlite", "-run", "elastic/(list-invitations-100$|get-invitation)"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	p := o.plan()
	if len(p.invitationSizes) != 1 || p.invitationSizes[0] != 100 || len(p.memberSizes) != 0 || p.acceptPool != 0 || p.mixedOrgs != 0 {
		t.Errorf("plan %+v, want only the organization of 100 invitations", p)
	}
	// A scenario's full name selects its organization too.
	o, err = parseOptions([]string{"-engines", "sqlite", "-run", "slug/list-members-10000-deep20$"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	p = o.plan()
	if len(p.memberSizes) != 1 || p.memberSizes[0] != 10000 || len(p.invitationSizes) != 0 || p.acceptPool != 0 || p.mixedOrgs != 0 {
		t.Errorf("plan %+v, want only the organization of 10,000 members", p)
	}
}

func TestWriteMarkdown(t *testing.T) {
	r := &Report{Command: "go run . -engines sqlite", Machine: Machine{CPU: "AMD EPYC", Cores: 2, SQLite: "3.50"},
		Results: []Result{{Engine: "sqlite", Surface: surfaceElastic, Scenario: "create-1", Clients: 16, RPS: 2263}},
		Targets: []Verdict{{Engine: "sqlite", Target: "create", Scenario: "elastic/create-1", Got: "2263 req/s", Need: ">= 9768 req/s", Shortfall: "4.3×"}}}
	var b bytes.Buffer
	r.writeMarkdown(&b)
	for _, want := range []string{"`go run . -engines sqlite`", "AMD EPYC, 2 cores", "| sqlite | elastic/create-1 | 16 | 2263 |", "| **missed** | 4.3× |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, b.String())
		}
	}
}

// The JSON report says what a workload of several kinds of request sent
// of each; a scenario of one kind has no such breakdown.
func TestResultCountsRequestsByKindWhenTheyAreMixed(t *testing.T) {
	mixed := newResult("sqlite", surfaceElastic, "mixed", 1, &Run{Requests: 3, Kinds: map[string]int{"get-organization": 2, "accept-organization-invitation": 1}})
	b, err := json.Marshal(mixed)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"requests_by_kind":{"accept-organization-invitation":1,"get-organization":2}`; !strings.Contains(string(b), want) {
		t.Errorf("JSON of a mixed run lacks %s:\n%s", want, b)
	}
	one := newResult("sqlite", surfaceElastic, "create-1", 1, &Run{Requests: 3, Kinds: map[string]int{"create-organization-invitations": 3}})
	if one.RequestsByKind != nil {
		t.Errorf("a run of one kind of request reports kinds %v, want none", one.RequestsByKind)
	}
}
