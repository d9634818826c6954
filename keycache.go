package orgd

import (
	"sync"
	"time"
)

// keyCache remembers resolved API keys for a short time, so that a request
// with a key needs no database round trip to authenticate. A change to keys
// or users on this instance (revoking a key, a platform role, an address)
// empties it at once; another instance may trust a revoked key for up to
// the TTL.
type keyCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]keyEntry // by key hash
}

type keyEntry struct {
	key     APIKey
	user    User
	fetched time.Time
}

// maxCachedKeys bounds the cache; past it, it starts over.
const maxCachedKeys = 10_000

func (c *keyCache) get(hash string, now time.Time) (*APIKey, *User, bool) {
	if c.ttl <= 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || now.Sub(e.fetched) >= c.ttl || now.Before(e.fetched) {
		return nil, nil, false
	}
	k, u := e.key, e.user
	return &k, &u, true
}

func (c *keyCache) put(hash string, k *APIKey, u *User, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedKeys {
		c.entries = map[string]keyEntry{}
	}
	c.entries[hash] = keyEntry{key: *k, user: *u, fetched: now}
}

// used records that a key's use was written at now.
func (c *keyCache) used(hash string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[hash]; ok {
		e.key.LastUsedAt = now
		c.entries[hash] = e
	}
}

// clear forgets every key, after a change to keys or users.
func (c *keyCache) clear() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}
