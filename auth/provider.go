package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

// Defaults of Config.
const (
	DefaultLeeway            = time.Minute
	DefaultHTTPTimeout       = 10 * time.Second
	DefaultKeyRefresh        = time.Hour
	DefaultUnknownKeyRefresh = 5 * time.Minute
	DefaultRetryMin          = time.Second
	DefaultRetryMax          = time.Minute
)

// Config configures a Provider. Issuer and Audience are required.
type Config struct {
	Issuer   string // the issuer URL, exactly as its tokens carry it in iss
	Audience string // what API tokens must carry in aud
	// Client fetches the discovery document and the JWKS; default: a client
	// with a DefaultHTTPTimeout timeout per request.
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
	// Leeway is the clock skew allowed for exp, nbf and iat.
	Leeway time.Duration
	// KeyRefresh is how often the JWKS is fetched again in the background.
	KeyRefresh time.Duration
	// UnknownKeyRefresh is the least time between the fetches a token with
	// an unknown key id may cause.
	UnknownKeyRefresh time.Duration
	// RetryMin and RetryMax bound the backoff between start-up attempts.
	RetryMin, RetryMax time.Duration
}

// Provider is an OpenID Connect issuer that orgd trusts. It is ready once
// Run has fetched the discovery document and the JWKS; until then every
// token is refused with ErrNotReady.
type Provider struct {
	cfg   Config
	log   *slog.Logger
	keys  *jwkset.MemoryJWKSet
	kf    keyfunc.Keyfunc
	api   *parser // the parser of API tokens (Audience)
	meta  atomic.Pointer[Metadata]
	ready chan struct{}

	// fetches counts the JWKS fetches that succeeded; refreshMu makes one
	// fetch at a time, so that tokens with the same unknown key id wait for
	// one fetch instead of making one each.
	fetches    atomic.Uint64
	refreshMu  sync.Mutex
	unknownKey *rate.Limiter
}

// New returns a Provider for cfg. It does not reach the issuer; Run does.
func New(cfg Config) (*Provider, error) {
	if err := CheckURL(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("OpenID Connect issuer %q: %w", cfg.Issuer, err)
	}
	if cfg.Audience == "" {
		return nil, errors.New("OpenID Connect: an audience is required with an issuer")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	cfg.Log = cmp.Or(cfg.Log, slog.Default())
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Leeway = cmp.Or(cfg.Leeway, DefaultLeeway)
	cfg.KeyRefresh = cmp.Or(cfg.KeyRefresh, DefaultKeyRefresh)
	cfg.UnknownKeyRefresh = cmp.Or(cfg.UnknownKeyRefresh, DefaultUnknownKeyRefresh)
	cfg.RetryMin = cmp.Or(cfg.RetryMin, DefaultRetryMin)
	cfg.RetryMax = max(cmp.Or(cfg.RetryMax, DefaultRetryMax), cfg.RetryMin)
	keys := jwkset.NewMemoryStorage()
	kf, err := keyfunc.New(keyfunc.Options{Storage: keys})
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, log: cfg.Log.With("issuer", cfg.Issuer), keys: keys, kf: kf, ready: make(chan struct{}),
		unknownKey: rate.NewLimiter(rate.Every(cfg.UnknownKeyRefresh), 1)}
	p.api = p.parser(cfg.Audience)
	return p, nil
}

// Issuer returns the issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Ready is closed once the provider verifies tokens.
func (p *Provider) Ready() <-chan struct{} { return p.ready }

// Metadata returns the issuer's discovery document, nil until ready.
func (p *Provider) Metadata() *Metadata { return p.meta.Load() }

// Run makes the provider ready and keeps its keys fresh until ctx ends. It
// fetches the discovery document and then the JWKS, retrying both with
// backoff (RetryMin doubling to RetryMax) for as long as it takes, so that
// an issuer that is slow or down when orgd starts delays JWTs, never the
// start. Once ready it fetches the JWKS again every KeyRefresh; a failed
// refresh keeps the keys it has.
func (p *Provider) Run(ctx context.Context) {
	delay := p.cfg.RetryMin
	for {
		err := p.start(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		p.log.WarnContext(ctx, "the OpenID Connect issuer cannot be used yet; JWTs are refused until it can", "error", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, p.cfg.RetryMax)
	}
	close(p.ready)
	p.log.InfoContext(ctx, "OpenID Connect issuer ready", "jwks_uri", p.Metadata().JWKSURI, "keys", p.keyCount(ctx))
	tick := time.NewTicker(p.cfg.KeyRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.refreshKeys(ctx)
		}
	}
}

func (p *Provider) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*DefaultHTTPTimeout)
	defer cancel()
	m, err := Discover(ctx, p.cfg.Client, p.cfg.Issuer)
	if err != nil {
		return err
	}
	p.meta.Store(m)
	p.refreshMu.Lock()
	defer p.refreshMu.Unlock()
	return p.fetchKeys(ctx)
}

// refreshKeys is the periodic fetch of the JWKS.
func (p *Provider) refreshKeys(ctx context.Context) {
	fetchCtx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	p.refreshMu.Lock()
	defer p.refreshMu.Unlock()
	if err := p.fetchKeys(fetchCtx); err != nil && ctx.Err() == nil {
		p.log.WarnContext(ctx, "refreshing the JWKS failed; the keys fetched before stay in use", "error", err)
	}
}

func (p *Provider) keyCount(ctx context.Context) int {
	all, _ := p.keys.KeyReadAll(ctx)
	return len(all)
}

// fetchKeys replaces the keys with the issuer's current JWKS. Only signing
// keys of asymmetric types are kept. The caller holds refreshMu.
func (p *Provider) fetchKeys(ctx context.Context) error {
	where := p.meta.Load().JWKSURI
	var set jwkset.JWKSMarshal
	if err := getJSON(ctx, p.cfg.Client, where, &set); err != nil {
		return fmt.Errorf("JWKS: %w", err)
	}
	keys := make([]jwkset.JWK, 0, len(set.Keys))
	for _, m := range set.Keys {
		switch {
		case m.USE == jwkset.UseEnc:
			continue
		case m.KTY != jwkset.KtyRSA && m.KTY != jwkset.KtyEC && m.KTY != jwkset.KtyOKP:
			continue // a symmetric key has no place in a JWKS; never trust one
		}
		k, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			p.log.DebugContext(ctx, "skipping a JWKS key orgd cannot use", "kid", m.KID, "error", err)
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return fmt.Errorf("JWKS: %s has no signing key orgd can use", where)
	}
	if err := p.keys.KeyReplaceAll(ctx, keys); err != nil {
		return fmt.Errorf("JWKS: %w", err)
	}
	p.fetches.Add(1)
	return nil
}

// refreshForUnknownKey fetches the JWKS again for a token whose key id was
// unknown when the keys had been fetched seen times. It reports whether the
// keys may have changed since, so the token is worth another check: true if
// another request fetched them meanwhile, or this one may fetch (at most
// once per UnknownKeyRefresh) and did.
func (p *Provider) refreshForUnknownKey(ctx context.Context, seen uint64) bool {
	p.refreshMu.Lock()
	defer p.refreshMu.Unlock()
	if p.fetches.Load() != seen {
		return true
	}
	if !p.unknownKey.AllowN(p.cfg.Now(), 1) {
		return false
	}
	// The fetch serves every request waiting on refreshMu: the one that
	// caused it may go away without cancelling it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultHTTPTimeout)
	defer cancel()
	if err := p.fetchKeys(ctx); err != nil {
		p.log.WarnContext(ctx, "fetching the JWKS for an unknown key id failed", "error", err)
		return false
	}
	return true
}
