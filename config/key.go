package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/orgd/orgd"
)

// KeyFileName is the server key file in the data directory.
const KeyFileName = "secret.key"

func decodeKey(text string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(text))
	if err != nil || len(key) != orgd.KeySize {
		return nil, fmt.Errorf("must be %d hex digits (generate one with: openssl rand -hex %d)", 2*orgd.KeySize, orgd.KeySize)
	}
	return key, nil
}

// KeyFile is the path of the generated server key.
func (c *Config) KeyFile() string { return filepath.Join(c.DataDir, KeyFileName) }

// LoadKey returns the server key: the configured one, or the one in the data
// directory, which is generated on first use. created reports a new key.
// Two processes starting at once end up with the same key: it is written to
// a temporary file and linked into place only if none exists yet.
func (c *Config) LoadKey() (key []byte, created bool, err error) {
	if c.SecretKey != "" {
		key, err := decodeKey(c.SecretKey)
		return key, false, err
	}
	path := c.KeyFile()
	if b, err := os.ReadFile(path); err == nil {
		key, err := decodeKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("server key file %s: %w", path, err)
		}
		return key, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read server key: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
	}
	key = make([]byte, orgd.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	tmp, err := os.CreateTemp(c.DataDir, ".secret-*.tmp")
	if err != nil {
		return nil, false, fmt.Errorf("write server key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("write server key: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if err := tmp.Close(); err != nil {
		return nil, false, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return c.LoadKey() // another process was first
	} else if err != nil {
		return nil, false, fmt.Errorf("write server key: %w", err)
	}
	return key, true, nil
}
