// Command bench is orgd's load tool. From nothing, it builds orgd, starts
// it on a fresh SQLite file or PostgreSQL database, bootstraps the
// organizations, users, API keys and invitations its scenarios need, drives
// both API surfaces with concurrent clients for a fixed time per scenario,
// and reports throughput, latency percentiles, errors (every answer is
// checked), and orgd's CPU time per request and peak memory. It also
// measures two limits in the same run, a bare net/http JSON handler and a
// one-row INSERT through the same driver, so that each figure can be
// written as a ratio to its limit. See README.md.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orgd/orgd/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	engines         []string
	postgres        string
	clients         int
	duration        time.Duration
	warmup          time.Duration
	only            *regexp.Regexp
	surfaces        []string
	limits          bool
	invitationSizes []int
	memberSizes     []int
	mixedOrgs       int
	acceptPool      int
	createOrgs      int
	jsonOut         string
	markdownOut     string
	quietBelow      float64
	quietWait       time.Duration
	cpuprofile      string
	src             string
	keep            bool
	loadGOGC        string // the generator's garbage collector target
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	engines := fs.String("engines", "sqlite,postgres", "database engines to run on: sqlite, postgres or both")
	fs.StringVar(&o.postgres, "postgres", getenv("ORGD_TEST_POSTGRES_URL"), "URL of a PostgreSQL server where a fresh database is created and dropped (default $ORGD_TEST_POSTGRES_URL)")
	fs.IntVar(&o.clients, "clients", 16, "concurrent clients")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before scenarios that can take it (0: none)")
	only := fs.String("run", "", "regular expression: run only the scenarios whose surface/name it matches, such as 'elastic/create|limit/'")
	surfaces := fs.String("surfaces", "elastic,slug", "API surfaces to drive")
	fs.BoolVar(&o.limits, "limits", true, "measure the limits: a bare net/http JSON handler and a one-row INSERT per engine")
	invitations := fs.String("invitations", "100,10000,100000", "sizes of the organizations whose invitations are listed")
	members := fs.String("members", "100,10000,100000", "sizes of the organizations whose members are listed")
	fs.IntVar(&o.mixedOrgs, "orgs", 1000, "organizations of the mixed workload")
	fs.IntVar(&o.acceptPool, "accept-pool", 40000, "invitations bootstrapped for each accept scenario (a scenario ends early if it uses them up)")
	fs.Float64Var(&o.quietBelow, "quiet-below", 0.5, "before each scenario, wait until the rest of the machine uses fewer cores than this over a second (0: do not wait)")
	fs.DurationVar(&o.quietWait, "quiet-wait", 2*time.Minute, "the longest wait for a quiet machine before a scenario; it then runs anyway")
	fs.IntVar(&o.createOrgs, "create-orgs", 1, "organizations the create scenarios spread over (client i uses organization i mod N)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.markdownOut, "markdown", "", "also write the machine, the command and the results as Markdown tables to this file")
	fs.StringVar(&o.src, "orgd", "..", "directory of the orgd module to build")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "serve orgd's handler in this process instead of the built binary and write a CPU profile per scenario into this directory (orgd's CPU and memory figures then include the load generator's)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binary, SQLite files, orgd's logs)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.engines, err = oneOf("-engines", *engines, string(store.SQLite), string(store.Postgres)); err != nil {
		return nil, err
	}
	if o.surfaces, err = oneOf("-surfaces", *surfaces, surfaceElastic, surfaceSlug); err != nil {
		return nil, err
	}
	if slices.Contains(o.engines, string(store.Postgres)) && o.postgres == "" {
		return nil, errors.New("-engines has postgres: name a server with -postgres or $ORGD_TEST_POSTGRES_URL")
	}
	if o.only, err = regexp.Compile(*only); err != nil {
		return nil, fmt.Errorf("-run: %w", err)
	}
	if o.invitationSizes, err = sizes("-invitations", *invitations); err != nil {
		return nil, err
	}
	if o.memberSizes, err = sizes("-members", *members); err != nil {
		return nil, err
	}
	if o.clients < 1 || o.duration <= 0 || o.createOrgs < 1 || o.warmup < 0 {
		return nil, errors.New("-clients and -create-orgs must be at least 1, -duration positive")
	}
	return o, nil
}

func oneOf(flagName, list string, allowed ...string) ([]string, error) {
	var out []string
	for v := range strings.SplitSeq(list, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if !slices.Contains(allowed, v) {
			return nil, fmt.Errorf("%s: %q is not one of %s", flagName, v, strings.Join(allowed, ", "))
		}
		out = append(out, v)
	}
	return out, nil
}

func sizes(flagName, list string) ([]int, error) {
	var out []int
	for v := range strings.SplitSeq(list, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive whole number", flagName, v)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	o.loadGOGC = tuneLoadGC(o, getenv)
	rep, err := measureAll(ctx, o, args, stderr)
	if rep != nil && len(rep.Results) > 0 {
		fmt.Fprintln(stdout)
		printTable(stdout, rep.Results)
		fmt.Fprintln(stdout)
		printVerdicts(stdout, rep.Targets)
		if o.jsonOut != "" {
			err = errors.Join(err, rep.writeJSON(o.jsonOut))
		}
		if o.markdownOut != "" {
			var b strings.Builder
			rep.writeMarkdown(&b)
			err = errors.Join(err, os.WriteFile(o.markdownOut, []byte(b.String()), 0o644))
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// tuneLoadGC sets the load generator's garbage collector target and
// returns it. The generator shares the machine with orgd: every CPU second
// it spends is one orgd does not get, and every answer it checks is garbage
// at once. GOGC in the environment wins, and reaches orgd too (see
// orgdEnv); with -cpuprofile orgd's handler runs in this process and keeps
// Go's default.
func tuneLoadGC(o *options, getenv func(string) string) string {
	if v := getenv("GOGC"); v != "" {
		return v
	}
	if o.cpuprofile != "" {
		return "100"
	}
	debug.SetGCPercent(400)
	return "400"
}

// measureAll runs every selected scenario on every engine. It returns what
// it measured even when it stops on an error.
func measureAll(ctx context.Context, o *options, args []string, stderr io.Writer) (*Report, error) {
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	src, err := filepath.Abs(o.src)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "orgd-bench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		progress("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	rep := &Report{Command: commandLine(args), Started: time.Now().UTC().Truncate(time.Second),
		Machine: describeMachine(ctx, src, o.postgres, o.engines),
		Settings: Settings{Clients: o.clients, Duration: o.duration.String(), Warmup: o.warmup.String(), CreateOrgs: o.createOrgs,
			MixedOrgs: o.mixedOrgs, InvitationSizes: o.invitationSizes, MemberSizes: o.memberSizes, LoadGOGC: o.loadGOGC}}
	progress("building orgd from %s", src)
	bin, err := buildOrgd(ctx, src, tmp)
	if err != nil {
		return rep, err
	}
	if o.limits && o.only.MatchString(surfaceLimit+"/"+limitHTTP) {
		r, err := o.measureHTTPLimit(ctx)
		if err != nil {
			return rep, err
		}
		rep.add(r, stderr)
	}
	for _, e := range o.engines {
		if err := o.measureEngine(ctx, store.Engine(e), bin, tmp, rep, progress, stderr); err != nil {
			return rep.finish(), fmt.Errorf("%s: %w", e, err)
		}
	}
	if len(rep.Results) == 0 {
		return rep.finish(), fmt.Errorf("no scenario matches -run %q", o.only)
	}
	return rep.finish(), nil
}

func (r *Report) add(res Result, stderr io.Writer) {
	r.Results = append(r.Results, res)
	fmt.Fprintf(stderr, "bench: %-9s %-8s %-26s %9s req/s  p50 %7s ms  p99 %7s ms  errors %d\n",
		res.Engine, res.Surface, res.Scenario, num(res.RPS), num(res.P50ms), num(res.P99ms), res.Errors)
}

func (r *Report) finish() *Report {
	r.Machine.LoadAfter = loadAverage()
	limitsOf(r.Results)
	r.Targets = judge(r.Results)
	return r
}

func (o *options) measureHTTPLimit(ctx context.Context) (Result, error) {
	sc, stop, err := httpLimit(o.clients)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	return o.measure(ctx, "", sc, measured{})
}

// orgdSettings are the settings orgd runs with: limits that would refuse
// the load lifted, and a request timeout long enough for whole lists of
// 100,000 invitations to be written.
func orgdSettings(db *database, dataDir, key string) map[string]string {
	return map[string]string{
		"ORGD_DATABASE_URL":        db.url,
		"ORGD_DATA_DIR":            dataDir,
		"ORGD_SECRET_KEY":          key,
		"ORGD_INVITE_RATE_LIMIT":   "0",
		"ORGD_DEFAULT_MAX_MEMBERS": "0",
		"ORGD_INVITE_MAX_EMAILS":   "1000",
		"ORGD_REQUEST_TIMEOUT":     "10m",
	}
}

// fill bootstraps p into the migrated database orgd will run on with
// settings, under the limits and with the key orgd reads from them.
func fill(ctx context.Context, settings map[string]string, p plan, progress func(string)) (*fixture, error) {
	cfg, key, err := loadConfig(settings)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := writeJobs(st); err != nil {
		return nil, err
	}
	f, err := bootstrap(ctx, st, key, cfg.Limits, p, progress)
	if err == nil && st.Engine() == store.Postgres {
		// What autovacuum would have done by the time a database holds this
		// much: without statistics the planner takes the users table for
		// a few hundred rows and scans it whole to list 100 members.
		_, err = st.DB().ExecContext(ctx, "VACUUM ANALYZE")
	}
	return f, err
}

// measureEngine runs the scenarios on a fresh database of engine e.
func (o *options) measureEngine(ctx context.Context, e store.Engine, bin, tmp string, rep *Report, progress func(string, ...any), stderr io.Writer) (err error) {
	dir := filepath.Join(tmp, string(e))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var db *database
	if e == store.Postgres {
		if db, err = newPostgres(ctx, o.postgres); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, db.drop()) }()
	} else {
		db = newSQLite(dir)
	}
	key := randomHex(32)
	settings := orgdSettings(db, dir, key)
	env := orgdEnv(settings)
	if len(rep.Settings.OrgdEnv) == 0 {
		for k, v := range settings {
			if k != "ORGD_DATABASE_URL" && k != "ORGD_DATA_DIR" && k != "ORGD_SECRET_KEY" {
				rep.Settings.OrgdEnv = append(rep.Settings.OrgdEnv, k+"="+v)
			}
		}
		slices.Sort(rep.Settings.OrgdEnv)
	}
	progress("%s: orgd migrate", e)
	if err := runOrgd(ctx, bin, env, "migrate"); err != nil {
		return err
	}
	f, err := fill(ctx, settings, o.plan(), func(s string) { progress("%s: bootstrapped %s", e, s) })
	if err != nil {
		return err
	}
	var srv orgdServer
	if o.cpuprofile != "" {
		progress("%s: orgd's handler in this process, for CPU profiles", e)
		srv, err = serveInProcess(ctx, settings, filepath.Join(dir, "orgd.log"))
	} else {
		progress("%s: orgd serve", e)
		srv, err = startOrgd(ctx, bin, env, filepath.Join(dir, "orgd.log"))
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()

	var jobs *sql.DB // nil in process, where nobody runs the outbox's jobs
	if o.cpuprofile == "" {
		if jobs, err = openJobs(db); err != nil {
			return err
		}
		defer jobs.Close()
	}
	if o.limits && o.only.MatchString(surfaceLimit+"/"+limitInsert) {
		sc, done, err := insertLimit(ctx, db.url, o.clients)
		if err != nil {
			return err
		}
		r, err := o.measure(ctx, string(e), sc, measured{dbName: db.name, jobs: jobs})
		if err := errors.Join(err, done()); err != nil {
			return err
		}
		rep.add(r, stderr)
	}
	c := newClient(srv.url(), o.clients)
	defer c.close()
	set := &loadSet{f: f, c: c, clients: o.clients}
	for _, sc := range set.scenarios(o.surfaces) {
		if !o.only.MatchString(sc.id()) {
			continue
		}
		if sc.setup != nil {
			if err := sc.setup(ctx); err != nil {
				return fmt.Errorf("%s: set-up: %w", sc.id(), err)
			}
		}
		r, err := o.measure(ctx, string(e), sc, measured{pid: srv.pid(), dbName: db.name, jobs: jobs})
		if err != nil {
			return err
		}
		r.Limit = sc.limit
		rep.add(r, stderr)
	}
	return ctx.Err()
}

// measured is what a scenario's figures are taken from: orgd's process
// (pid 0 for none), the name of the PostgreSQL database ("" for none) and
// the database orgd's outbox is in.
type measured struct {
	pid    int
	dbName string
	jobs   *sql.DB // the database of orgd's outbox; nil for none
}

// measure runs one scenario, after its warm-up, and measures what runs it.
func (o *options) measure(ctx context.Context, engine string, sc scenario, m measured) (Result, error) {
	clients := cmp.Or(sc.clients, o.clients)
	o.waitQuiet(ctx, m)
	waiting, err := outboxJobs(ctx, m.jobs)
	if err != nil {
		return Result{}, fmt.Errorf("%s: reading orgd's outbox: %w", sc.id(), err)
	}
	if sc.warmup && o.warmup > 0 {
		drive(ctx, clients, o.warmup, sc.op)
	}
	u, err := startUsage(m.pid, m.dbName)
	if err != nil {
		return Result{}, err
	}
	stopProfile, err := o.startProfile(engine, sc)
	if err != nil {
		return Result{}, err
	}
	run := drive(ctx, clients, o.duration, sc.op)
	if err := stopProfile(); err != nil {
		return Result{}, err
	}
	r := newResult(engine, sc.surface, sc.name, clients, run)
	r.OutboxJobsAtStart = waiting
	cpu, peak, err := u.finish()
	if err != nil {
		return Result{}, err
	}
	r.OtherCPUCores = perSecond(cpu.other(), run.Elapsed)
	if run.Requests > 0 && m.pid > 0 {
		r.ServerCPUMsPerRequest = perRequest(cpu.server, run.Requests)
		r.ServerPeakRSSMB, r.ServerStartRSSMB = megabytes(peak), megabytes(u.rss0)
	}
	if run.Requests > 0 && m.dbName != "" {
		r.DatabaseCPUMsPerRequest = perRequest(cpu.database, run.Requests)
	}
	if run.Requests > 0 && m.pid > 0 && m.pid != os.Getpid() { // the limits run in this process
		r.LoadCPUMsPerRequest = perRequest(cpu.self, run.Requests)
	}
	return r, ctx.Err()
}

// waitQuiet waits, up to o.quietWait, until the rest of the machine uses
// fewer than o.quietBelow cores over a second, so that other work disturbs
// the measurement less.
func (o *options) waitQuiet(ctx context.Context, m measured) {
	if o.quietBelow <= 0 {
		return
	}
	deadline := time.Now().Add(o.quietWait)
	for time.Now().Before(deadline) {
		s0, err := takeCPU(m.pid, m.dbName)
		if err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		s1, err := takeCPU(m.pid, m.dbName)
		if err != nil || s1.sub(s0).other() < time.Duration(o.quietBelow*float64(time.Second)) {
			return
		}
	}
}

// startProfile starts a CPU profile of a scenario when profiles are asked for.
func (o *options) startProfile(engine string, sc scenario) (stop func() error, err error) {
	if o.cpuprofile == "" || sc.surface == surfaceLimit {
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(o.cpuprofile, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(o.cpuprofile, engine+"-"+sc.surface+"-"+sc.name+".pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}

func perRequest(cpu time.Duration, requests int) *float64 {
	v := math.Round(float64(cpu)/float64(requests)/1e3) / 1e3
	return &v
}

func perSecond(cpu, elapsed time.Duration) *float64 {
	v := math.Round(cpu.Seconds()/elapsed.Seconds()*100) / 100
	return &v
}

func megabytes(b int64) *float64 {
	mb := math.Round(float64(b)/(1<<20)*10) / 10
	return &mb
}

// plan derives what to bootstrap from the scenarios selected.
func (o *options) plan() plan {
	wants := func(name string) bool {
		for _, s := range o.surfaces {
			if o.only.MatchString(s + "/" + name) {
				return true
			}
		}
		return false
	}
	// An organization to list is bootstrapped when -run names it
	// ("list-invitations-100") or one of its scenarios.
	wantsList := func(kind string, n int) bool {
		return wants(fmt.Sprintf("%s-%d", kind, n)) || slices.ContainsFunc(listScenarios(kind, n), wants)
	}
	p := plan{createOrgs: o.createOrgs, surfaces: o.surfaces}
	for _, n := range o.invitationSizes {
		if wantsList("list-invitations", n) {
			p.invitationSizes = append(p.invitationSizes, n)
		}
	}
	if len(p.invitationSizes) == 0 && len(o.invitationSizes) > 0 && slices.Contains(o.surfaces, surfaceElastic) && wants("get-invitation") {
		p.invitationSizes = o.invitationSizes[:1] // tokens to read
	}
	for _, n := range o.memberSizes {
		if wantsList("list-members", n) {
			p.memberSizes = append(p.memberSizes, n)
		}
	}
	if wants("accept") || wants("respond") {
		p.acceptPool = o.acceptPool
	}
	if wants("mixed") {
		p.mixedOrgs = o.mixedOrgs
	}
	return p
}
