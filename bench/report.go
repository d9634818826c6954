package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the measurement of one scenario on one engine.
type Result struct {
	Engine     string         `json:"engine,omitempty"` // "" for the HTTP limit, which has no database
	Surface    string         `json:"surface"`
	Scenario   string         `json:"scenario"`
	Clients    int            `json:"clients"`
	Seconds    float64        `json:"seconds"`
	Requests   int            `json:"requests"`
	Errors     int            `json:"errors"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	Exhausted  bool           `json:"exhausted,omitempty"` // its pool ran out before the time was up
	RPS        float64        `json:"requests_per_second"`
	P50ms      float64        `json:"p50_ms"`
	P90ms      float64        `json:"p90_ms"`
	P99ms      float64        `json:"p99_ms"`
	MaxMs      float64        `json:"max_ms"`
	MeanMs     float64        `json:"mean_ms"`
	// What a workload that mixes kinds of request (the mixed one) sent of
	// each: the mix its figures come from.
	RequestsByKind map[string]int `json:"requests_by_kind,omitempty"`
	// The orgd process over the measured interval; absent for the limits.
	ServerCPUMsPerRequest *float64 `json:"server_cpu_ms_per_request,omitempty"`
	ServerPeakRSSMB       *float64 `json:"server_peak_rss_mb,omitempty"`
	ServerStartRSSMB      *float64 `json:"server_start_rss_mb,omitempty"` // left by earlier scenarios
	// CPU time of the PostgreSQL backends of the run's database.
	DatabaseCPUMsPerRequest *float64 `json:"database_cpu_ms_per_request,omitempty"`
	// CPU time of the load generator (this tool), which shares the
	// machine; absent when orgd's handler runs in its process.
	LoadCPUMsPerRequest *float64 `json:"load_cpu_ms_per_request,omitempty"`
	// CPU the rest of the machine used meanwhile, in cores: work that
	// competed with the measurement.
	OtherCPUCores *float64 `json:"other_cpu_cores,omitempty"`
	// Jobs waiting or running in orgd's outbox when the scenario started:
	// emails earlier scenarios asked for, delivered meanwhile.
	OutboxJobsAtStart int     `json:"outbox_jobs_at_start,omitempty"`
	Limit             string  `json:"limit,omitempty"` // limitHTTP or limitInsert
	LimitRPS          float64 `json:"limit_requests_per_second,omitempty"`
	RatioToLimit      float64 `json:"ratio_to_limit,omitempty"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// newResult summarises a run.
func newResult(engine, surface, scenario string, clients int, r *Run) Result {
	lat := summarize(r.Latencies)
	var kinds map[string]int
	if len(r.Kinds) > 1 {
		kinds = r.Kinds
	}
	return Result{
		Engine: engine, Surface: surface, Scenario: scenario, Clients: clients,
		Seconds: math.Round(r.Elapsed.Seconds()*100) / 100, Requests: r.Requests, Errors: r.Errors, Exhausted: r.Exhausted,
		RPS:   math.Round(r.RPS()*10) / 10,
		P50ms: ms(lat.P50), P90ms: ms(lat.P90), P99ms: ms(lat.P99), MaxMs: ms(lat.Max), MeanMs: ms(lat.Mean),
		ErrorKinds: r.ErrorKind, RequestsByKind: kinds,
	}
}

// Machine is where the figures were measured.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	MemoryGB   int    `json:"memory_gb"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	PostgreSQL string `json:"postgresql,omitempty"`
	SQLite     string `json:"sqlite,omitempty"`
	Orgd       string `json:"orgd_commit,omitempty"`
	// The machine's load average when the run started and ended: other
	// work on the machine takes CPU from orgd and the load generator.
	LoadBefore string `json:"load_before,omitempty"`
	LoadAfter  string `json:"load_after,omitempty"`
}

// Report is everything one run measured.
type Report struct {
	Command  string    `json:"command"`
	Started  time.Time `json:"started"`
	Machine  Machine   `json:"machine"`
	Settings Settings  `json:"settings"`
	Results  []Result  `json:"results"`
	Targets  []Verdict `json:"targets"`
}

// Settings are the options of the run that shape the figures.
type Settings struct {
	Clients         int      `json:"clients"`
	Duration        string   `json:"duration"`
	Warmup          string   `json:"warmup"`
	CreateOrgs      int      `json:"create_orgs"`
	MixedOrgs       int      `json:"mixed_orgs"`
	InvitationSizes []int    `json:"invitation_sizes"`
	MemberSizes     []int    `json:"member_sizes"`
	OrgdEnv         []string `json:"orgd_env"`
	LoadGOGC        string   `json:"load_gogc"` // the load generator's GOGC
}

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// limitsOf fills each result's limit figure and its ratio to it: the HTTP
// limit is one for the run, the insert limit one per engine.
func limitsOf(results []Result) {
	limit := map[string]float64{}
	for _, r := range results {
		if r.Surface == surfaceLimit {
			limit[r.Engine+"/"+r.Scenario] = r.RPS
		}
	}
	for i := range results {
		r := &results[i]
		var l float64
		switch r.Limit {
		case limitHTTP:
			l = limit["/"+limitHTTP]
		case limitInsert:
			l = limit[r.Engine+"/"+limitInsert]
		}
		if l > 0 {
			r.LimitRPS = l
			r.RatioToLimit = r.RPS / l
		}
	}
}

// writeMarkdown writes the machine, the command, the results and the
// verdicts as Markdown, for docs/benchmarks.md.
func (r *Report) writeMarkdown(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "- command: `%s`\n- started: %s\n", r.Command, r.Started.Format(time.RFC3339))
	fmt.Fprintf(w, "- machine: %s, %d cores, %d GB, Linux %s, %s\n", m.CPU, m.Cores, m.MemoryGB, m.Kernel, m.Go)
	if m.PostgreSQL != "" {
		fmt.Fprintf(w, "- PostgreSQL %s\n", m.PostgreSQL)
	}
	if m.SQLite != "" {
		fmt.Fprintf(w, "- SQLite %s\n", m.SQLite)
	}
	fmt.Fprintf(w, "- orgd %s, with %s\n", m.Orgd, strings.Join(r.Settings.OrgdEnv, " "))
	fmt.Fprintf(w, "- load generator: GOGC=%s, answers decoded with encoding/json/v2's implementation\n", r.Settings.LoadGOGC)
	fmt.Fprintf(w, "- load average (1, 5, 15 min): %s at the start, %s at the end\n\n", m.LoadBefore, m.LoadAfter)
	fmt.Fprintln(w, "| engine | scenario | clients | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | orgd CPU ms/req | db CPU ms/req | load CPU ms/req | orgd peak MB | other cores | ratio to limit |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, x := range r.Results {
		fmt.Fprintf(w, "| %s | %s/%s | %d | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n",
			cmp.Or(x.Engine, "-"), x.Surface, x.Scenario+exhaustedMark(x), x.Clients, num(x.RPS), num(x.P50ms), num(x.P90ms),
			num(x.P99ms), num(x.MaxMs), x.Errors, optional(x.ServerCPUMsPerRequest), optional(x.DatabaseCPUMsPerRequest),
			optional(x.LoadCPUMsPerRequest), optional(x.ServerPeakRSSMB), optional(x.OtherCPUCores), ratio(x))
	}
	fmt.Fprintln(w, "\n| engine | target | scenario | got | need | met | shortfall |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|---|---|")
	for _, v := range r.Targets {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", v.Engine, v.Target, v.Scenario, v.Got, v.Need, metWord(v), v.Shortfall)
	}
}

func metWord(v Verdict) string {
	if v.Met {
		return "met"
	}
	if v.NotJudged {
		return "**not judged**"
	}
	return "**missed**"
}

// printTable writes the results for people.
func printTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tsurface\tscenario\tclients\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\torgd cpu ms/req\tdb cpu ms/req\tload cpu ms/req\tpeak MB\tother cores\tvs limit\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			cmp.Or(r.Engine, "-"), r.Surface, r.Scenario+exhaustedMark(r), r.Clients, num(r.RPS),
			num(r.P50ms), num(r.P90ms), num(r.P99ms), num(r.MaxMs), r.Errors,
			optional(r.ServerCPUMsPerRequest), optional(r.DatabaseCPUMsPerRequest), optional(r.LoadCPUMsPerRequest), optional(r.ServerPeakRSSMB),
			optional(r.OtherCPUCores), ratio(r))
	}
	tw.Flush()
	for _, r := range results {
		for msg, n := range r.ErrorKinds {
			fmt.Fprintf(w, "  %s %s/%s: %d× %s\n", r.Engine, r.Surface, r.Scenario, n, msg)
		}
	}
}

func exhaustedMark(r Result) string {
	if r.Exhausted {
		return " (pool used up)"
	}
	return ""
}

// num writes a figure with precision that suits its size.
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func optional(v *float64) string {
	if v == nil {
		return "-"
	}
	return num(*v)
}

func ratio(r Result) string {
	if r.LimitRPS == 0 {
		return "-"
	}
	if r.RatioToLimit < 0.001 {
		return "<0.001 " + r.Limit
	}
	return fmt.Sprintf("%.3f %s", r.RatioToLimit, r.Limit)
}

// Verdict judges one figure against a target of issue 6.
type Verdict struct {
	Engine    string `json:"engine"`
	Target    string `json:"target"`
	Scenario  string `json:"scenario"`
	Got       string `json:"got"`
	Need      string `json:"need"`
	Met       bool   `json:"met"`
	NotJudged bool   `json:"not_judged,omitempty"` // the figures come from a run with failed requests
	Shortfall string `json:"shortfall,omitempty"`  // how far off a missed target is, or why it was not judged
}

// judge compares results with the targets of issue 6 ("where orgd must
// be"). The targets are stated for PostgreSQL; SQLite must be at least as
// fast, so it is held to the same figures (its ratios to its own insert
// limit). A target whose scenario did not run is left out.
func judge(results []Result) []Verdict {
	find := func(engine, id string) *Result {
		for i := range results {
			if r := &results[i]; r.Engine == engine && r.Surface+"/"+r.Scenario == id {
				return r
			}
		}
		return nil
	}
	var engines []string
	for _, r := range results {
		if r.Engine != "" && !slices.Contains(engines, r.Engine) {
			engines = append(engines, r.Engine)
		}
	}
	var out []Verdict
	// A target is judged on results whose every request succeeded: a
	// failed or exhausted scenario measured something else.
	invalid := func(rs []*Result) string {
		for _, r := range rs {
			if r.Errors > 0 {
				return fmt.Sprintf("not judged: %d of %d requests of %s/%s failed", r.Errors, r.Requests, r.Surface, r.Scenario)
			}
			if r.Exhausted {
				return fmt.Sprintf("not judged: %s/%s ran out of work", r.Surface, r.Scenario)
			}
		}
		return ""
	}
	judged := func(v Verdict, rs []*Result, shortfall string) {
		if why := invalid(rs); why != "" {
			v.Met, v.NotJudged, v.Shortfall = false, true, why
		} else if !v.Met {
			v.Shortfall = shortfall
		}
		out = append(out, v)
	}
	// atLeast and below judge rs[0] (and the other results the figures
	// come from).
	atLeast := func(e, target string, got, need float64, unit string, rs ...*Result) {
		v := Verdict{Engine: e, Target: target, Scenario: rs[0].Surface + "/" + rs[0].Scenario, Got: num(got) + unit, Need: ">= " + num(need) + unit, Met: got >= need}
		judged(v, rs, factor(need, got)+" the throughput needed")
	}
	below := func(e, target string, got, need float64, unit string, rs ...*Result) {
		v := Verdict{Engine: e, Target: target, Scenario: rs[0].Surface + "/" + rs[0].Scenario, Got: num(got) + unit, Need: "< " + num(need) + unit, Met: got < need}
		judged(v, rs, factor(got, need)+" over the bound")
	}
	for _, e := range engines {
		insert := find(e, surfaceLimit+"/"+limitInsert)
		for _, id := range []string{"elastic/create-1", "slug/create-1"} {
			r := find(e, id)
			if r == nil {
				continue
			}
			if insert != nil {
				atLeast(e, "create one invitation: half the insert limit", r.RPS, insert.RPS/2, " req/s", r, insert)
			}
			below(e, "create one invitation: p99 under 15 ms", r.P99ms, 15, " ms", r)
		}
		// The page targets are judged in the largest organization measured.
		for _, s := range []string{surfaceElastic, surfaceSlug} {
			n := largestList(results, e, s)
			if r := find(e, fmt.Sprintf("%s/list-invitations-%d-first20", s, n)); r != nil {
				atLeast(e, "a page of 20 invitations: 20,000 req/s", r.RPS, 20_000, " req/s", r)
			}
			if r := find(e, fmt.Sprintf("%s/list-invitations-%d-first100", s, n)); r != nil {
				atLeast(e, "a page of 100 invitations: 8,000 req/s", r.RPS, 8_000, " req/s", r)
			}
		}
		for _, id := range []string{"elastic/accept", "slug/respond"} {
			if r := find(e, id); r != nil && insert != nil {
				atLeast(e, "accept: a third of the insert limit", r.RPS, insert.RPS/3, " req/s", r, insert)
			}
		}
		if r := find(e, "elastic/create-1000-single"); r != nil {
			below(e, "1,000 emails in one request: under 300 ms end to end (p99, one client)", r.P99ms, 300, " ms", r)
		}
		for _, s := range []string{surfaceElastic, surfaceSlug} {
			n := largestList(results, e, s)
			small, big := find(e, s+"/list-invitations-100-first20"), find(e, fmt.Sprintf("%s/list-invitations-%d-deep20", s, n))
			if small != nil && big != nil && n > 100 {
				atLeast(e, fmt.Sprintf("page time does not grow: a deep page at %d within 20%% of a page at 100", n),
					big.RPS, 0.8*small.RPS, " req/s", big, small)
			}
		}
		var worst *Result
		for i := range results {
			r := &results[i]
			if r.Engine == e && r.ServerPeakRSSMB != nil && (worst == nil || *r.ServerPeakRSSMB > *worst.ServerPeakRSSMB) {
				worst = r
			}
		}
		if worst != nil {
			below(e, "memory: under 150 MB resident at the peak of any scenario", *worst.ServerPeakRSSMB, 150, " MB", worst)
		}
	}
	return out
}

// factor says how many times bigger is than smaller.
func factor(bigger, smaller float64) string {
	if smaller <= 0 {
		return "∞×"
	}
	return fmt.Sprintf("%.1f×", bigger/smaller)
}

func printVerdicts(w io.Writer, vs []Verdict) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "engine\ttarget\tscenario\tgot\tneed\tmet\tshortfall")
	for _, v := range vs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Engine, v.Target, v.Scenario, v.Got, v.Need, strings.Trim(metWord(v), "*"), v.Shortfall)
	}
	tw.Flush()
}

// commandLine writes the command as it can be typed again.
func commandLine(args []string) string {
	out := []string{"go run ."}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$&|;<>()*?[]{}\\`!#") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// largestList is the size of the largest organization whose invitations
// were listed on surface s with engine e, 0 for none.
func largestList(results []Result, e, s string) int {
	n := 0
	for _, r := range results {
		var size int
		if r.Engine == e && r.Surface == s && strings.HasPrefix(r.Scenario, "list-invitations-") {
			if _, err := fmt.Sscanf(r.Scenario, "list-invitations-%d-", &size); err == nil {
				n = max(n, size)
			}
		}
	}
	return n
}
