package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/orgd/orgd/internal/smtptest"
	"github.com/orgd/orgd/internal/testdb"
)

// buildOrgd builds this binary once per test run, as the Dockerfile does:
// without cgo.
var buildOrgd = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "orgd-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "orgd")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// TestStaticBinary checks what the Dockerfile relies on: built without cgo,
// orgd needs no dynamic loader, so it runs on a distroless static image.
func TestStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := buildOrgd()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader (PT_INTERP)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "orgd ") {
		t.Errorf("orgd version: %v %s", err, out)
	}
}

// process is orgd serve running as a child process.
type process struct {
	cmd    *exec.Cmd
	URL    string
	stdout *syncBuffer
	stderr *syncBuffer
}

func (e *testEnv) startProcess(args ...string) *process {
	e.t.Helper()
	bin, err := buildOrgd()
	if err != nil {
		e.t.Fatal(err)
	}
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	p.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = os.Environ()
	for k, v := range e.vars {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	deadline := time.Now().Add(time.Minute)
	for {
		if m := listeningLine.FindStringSubmatch(p.stdout.String()); m != nil {
			p.URL = m[1]
			return p
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("orgd serve did not listen\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKilledWhileInvitingAndSending kills orgd with SIGKILL while
// invitations are being created and their emails sent, restarts it, and
// checks that every invitation answered 201 exists and is delivered.
func TestKilledWhileInvitingAndSending(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and waits for the outbox to rescue jobs")
	}
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		t.Parallel()
		smtpSrv := smtptest.Start(t, smtptest.Options{})
		smtpSrv.Stall(150 * time.Millisecond) // keep conversations in flight when the process dies
		e := newTestEnv(t, databaseURL)
		e.vars["ORGD_SMTP_URL"] = smtpSrv.URL("starttls=off")
		e.vars["ORGD_MAIL_FROM"] = "orgd@acme.test"
		e.vars["ORGD_SMTP_TIMEOUT"] = "2s"
		e.vars["ORGD_INVITE_RATE_LIMIT"] = "0"
		e.vars["ORGD_DEFAULT_MAX_MEMBERS"] = "0"
		e.must("migrate")
		var org struct{ ID string }
		e.mustJSON(&org, "admin", "org", "create", "--name", "Acme")
		e.must("admin", "user", "create", "--email", "owner@acme.test")
		e.must("admin", "member", "add", "--org", org.ID, "--email", "owner@acme.test", "--role", "owner")
		var key struct{ Key string }
		e.mustJSON(&key, "admin", "key", "create", "--email", "owner@acme.test")

		p := e.startProcess()
		var answered sync.Map // email -> true for every 201
		var created atomic.Int32
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for c := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					email := fmt.Sprintf("c%d-%d@x.test", c, i)
					body, _ := json.Marshal(map[string]any{"emails": []string{email}})
					req, _ := http.NewRequest("POST", p.URL+"/api/v1/organizations/"+org.ID+"/invitations", bytes.NewReader(body))
					req.Header.Set("Authorization", "ApiKey "+key.Key)
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						return // the server died: this answer never came
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusCreated {
						answered.Store(email, true)
						created.Add(1)
					}
				}
			}()
		}
		// Kill it once invitations are flowing and some emails are in flight.
		deadline := time.Now().Add(30 * time.Second)
		for created.Load() < 40 || smtpSrv.Attempts() < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("only %d invitations and %d SMTP attempts in 30s\n%s", created.Load(), smtpSrv.Attempts(), p.stderr)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		close(stop)
		wg.Wait()
		var want []string
		answered.Range(func(k, _ any) bool { want = append(want, k.(string)); return true })
		t.Logf("%d invitations were answered 201 before SIGKILL; %d emails were delivered", len(want), len(smtpSrv.Messages()))

		// Restart: every answered invitation exists and its email arrives.
		smtpSrv.Stall(0)
		p = e.startProcess()
		status, listed := (&serveProc{URL: p.URL}).get(t, "/api/v1/organizations/"+org.ID+"/invitations", key.Key)
		if status != http.StatusOK {
			t.Fatalf("list after restart: %d %s", status, listed)
		}
		for _, email := range want {
			if !strings.Contains(listed, `"email":"`+email+`"`) {
				t.Errorf("invitation to %s was answered 201 but is gone after the restart", email)
			}
		}
		smtpSrv.Wait(3*time.Minute, "an email for every invitation answered 201", func(msgs []smtptest.Message) bool {
			got := map[string]bool{}
			for _, m := range msgs {
				got[m.To[0]] = true
			}
			for _, email := range want {
				if !got[email] {
					return false
				}
			}
			return true
		})
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("orgd did not stop cleanly on SIGTERM: %v\n%s", err, p.stderr)
		}
	})
}
