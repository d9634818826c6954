package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/orgd/orgd"
)

// Failures limits failed look-ups of credentials and invitation tokens per
// client address: each failure takes a token from the address's bucket; an
// address whose bucket is empty is refused before any look-up until the
// bucket refills. Guessing keys or tokens from one address is thus slow,
// while a client that fails now and then never notices.
type Failures struct {
	mu       sync.Mutex
	limiters map[netip.Addr]*failureEntry
	every    rate.Limit
	burst    int
	now      func() time.Time
	trusted  []netip.Prefix
	sweepAt  time.Time
}

type failureEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewFailures allows burst failures from one address, refilled at perMinute
// a minute. Requests from a trusted proxy are attributed to the client its
// X-Forwarded-For names.
func NewFailures(perMinute, burst int, trusted []netip.Prefix, now func() time.Time) *Failures {
	if now == nil {
		now = time.Now
	}
	return &Failures{limiters: map[netip.Addr]*failureEntry{}, every: rate.Limit(float64(perMinute) / 60),
		burst: burst, now: now, trusted: trusted}
}

// msgTooManyFailures is the answer to an address with no failures left.
const msgTooManyFailures = "Too many failed attempts from this address; retry later."

// Check refuses a request from an address that has used up its failures.
func (f *Failures) Check(r *http.Request) error {
	if f == nil {
		return nil
	}
	addr := f.ClientAddr(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.limiters[addr]
	if e == nil {
		return nil
	}
	now := f.now()
	if tokens := e.lim.TokensAt(now); tokens < 1 {
		wait := time.Duration((1 - tokens) / float64(f.every) * float64(time.Second))
		return &orgd.Error{Kind: orgd.KindRateLimited, Code: orgd.CodeTooManyFailures, Message: msgTooManyFailures, RetryAfter: max(wait, time.Second)}
	}
	return nil
}

// Fail records a failed look-up from the request's address.
func (f *Failures) Fail(r *http.Request) {
	if f == nil {
		return
	}
	addr := f.ClientAddr(r)
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweep(now)
	e := f.limiters[addr]
	if e == nil {
		e = &failureEntry{lim: rate.NewLimiter(f.every, f.burst)}
		e.lim.SetLimitAt(now, f.every) // start the bucket at the injected time
		f.limiters[addr] = e
	}
	e.seen = now
	e.lim.AllowN(now, 1)
}

// sweep forgets addresses whose bucket has refilled, at most once a minute.
func (f *Failures) sweep(now time.Time) {
	if now.Before(f.sweepAt) {
		return
	}
	f.sweepAt = now.Add(time.Minute)
	for addr, e := range f.limiters {
		if e.lim.TokensAt(now) >= float64(f.burst) {
			delete(f.limiters, addr)
		}
	}
}

// ClientAddr is the address a request comes from: the peer, or, when the
// peer is a trusted proxy, the last address of X-Forwarded-For that is not
// a trusted proxy.
func (f *Failures) ClientAddr(r *http.Request) netip.Addr {
	peer := remoteAddr(r)
	if f == nil || !f.isTrusted(peer) {
		return peer
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !f.isTrusted(a) {
			return a
		}
	}
	return peer
}

func (f *Failures) isTrusted(a netip.Addr) bool {
	for _, p := range f.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ParsePrefixes reads a comma-separated list of addresses and CIDR prefixes.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range SplitCSV(s) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR prefix", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
