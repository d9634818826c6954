package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime returns the CPU time (user plus system) a process has used.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(stat[end+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, errors.New("/proc stat: too few fields")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// statusBytes reads a "kB" field such as VmHWM or VmRSS of /proc/<pid>/status.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusBytes(string(b), field)
}

func parseStatusBytes(status, field string) (int64, error) {
	for line := range strings.Lines(status) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(rest), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || unit != "kB" {
			return 0, fmt.Errorf("/proc status: %s: %q", field, strings.TrimSpace(rest))
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("/proc status: no %s", field)
}

// resetPeakRSS resets a process's VmHWM to its current resident size
// (Linux 4.0 and later; needs the right to write the process's clear_refs).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// machineBusy returns the CPU time every processor of the machine has
// spent busy since boot, from the first line of /proc/stat.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineBusy(string(b))
}

// parseMachineBusy adds user, nice, system, irq, softirq and steal of the
// "cpu" line; idle and iowait are not busy, and guest time is already in user.
func parseMachineBusy(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("/proc/stat: no cpu line")
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// processesCPU adds the CPU time of the processes whose command line
// contains marker: the PostgreSQL backends serving one database show its
// name there. It is 0 for no marker.
func processesCPU(marker string) time.Duration {
	if marker == "" {
		return 0
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var total time.Duration
	for _, dir := range dirs {
		cmdline, err := os.ReadFile(dir + "/cmdline")
		if err != nil || !strings.Contains(string(cmdline), marker) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(dir))
		if cpu, err := cpuTime(pid); err == nil {
			total += cpu
		}
	}
	return total
}

// cpuSnapshot is the CPU time used so far by what a scenario runs on.
type cpuSnapshot struct {
	machine, server, database, self time.Duration
}

// takeCPU reads the CPU times; pid 0 is no server.
func takeCPU(pid int, dbMarker string) (cpuSnapshot, error) {
	var c cpuSnapshot
	var err error
	if pid > 0 {
		if c.server, err = cpuTime(pid); err != nil {
			return c, err
		}
	}
	c.database = processesCPU(dbMarker)
	if pid != os.Getpid() { // else orgd's CPU is this process's
		c.self, _ = cpuTime(os.Getpid())
	}
	c.machine, _ = machineBusy()
	return c, nil
}

// sub returns the CPU time used between s0 and s.
func (s cpuSnapshot) sub(s0 cpuSnapshot) cpuSnapshot {
	return cpuSnapshot{machine: s.machine - s0.machine, server: s.server - s0.server, database: s.database - s0.database, self: s.self - s0.self}
}

// other is the CPU time the rest of the machine used: other programs
// competing with the measurement.
func (s cpuSnapshot) other() time.Duration {
	return max(0, s.machine-s.server-s.database-s.self)
}

// usage measures an interval: the CPU time of orgd's process (pid; 0 for
// none), of the database's backends, of the load generator and of the rest
// of the machine, and orgd's peak resident memory: VmHWM after a reset,
// and, where the reset is not allowed, the highest VmRSS seen by sampling.
type usage struct {
	pid      int
	dbMarker string
	cpu0     cpuSnapshot
	rss0     int64
	hwmReset bool
	stop     chan struct{}
	done     sync.WaitGroup
	sampled  int64
}

func startUsage(pid int, dbMarker string) (*usage, error) {
	u := &usage{pid: pid, dbMarker: dbMarker, stop: make(chan struct{})}
	cpu, err := takeCPU(pid, dbMarker)
	if err != nil {
		return nil, err
	}
	u.cpu0 = cpu
	if pid == 0 {
		close(u.stop)
		return u, nil
	}
	u.hwmReset = resetPeakRSS(pid) == nil
	u.rss0, _ = statusBytes(pid, "VmRSS")
	u.done.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, err := statusBytes(pid, "VmRSS"); err == nil {
				u.sampled = max(u.sampled, rss)
			}
			select {
			case <-u.stop:
				return
			case <-t.C:
			}
		}
	})
	return u, nil
}

// finish returns the CPU time used since start and the peak resident bytes.
func (u *usage) finish() (cpu cpuSnapshot, peak int64, err error) {
	if u.pid > 0 {
		close(u.stop)
	}
	u.done.Wait()
	cpu1, err := takeCPU(u.pid, u.dbMarker)
	if err != nil {
		return cpuSnapshot{}, 0, err
	}
	peak = u.sampled
	if u.hwmReset {
		if hwm, err := statusBytes(u.pid, "VmHWM"); err == nil {
			peak = max(peak, hwm)
		}
	}
	return cpu1.sub(u.cpu0), peak, nil
}
