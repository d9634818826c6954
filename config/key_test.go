package config_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/config"
)

func TestLoadKeyGeneratesOnceAndReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := mustLoad(t, config.Storage, map[string]string{"ORGD_DATA_DIR": dir})
	key, created, err := c.LoadKey()
	if err != nil || !created || len(key) != orgd.KeySize {
		t.Fatalf("first LoadKey() = %x, %v, %v; want a new %d-byte key", key, created, err, orgd.KeySize)
	}
	fi, err := os.Stat(c.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", c.KeyFile(), fi.Mode().Perm())
	}
	again, created, err := c.LoadKey()
	if err != nil || created || !bytes.Equal(again, key) {
		t.Errorf("second LoadKey() = %x, %v, %v; want the first key %x, not created", again, created, err, key)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the data directory holds %d files, want only %s", len(entries), config.KeyFileName)
	}
}

func TestLoadKeyConcurrently(t *testing.T) {
	c := mustLoad(t, config.Storage, map[string]string{"ORGD_DATA_DIR": t.TempDir()})
	const n = 16
	keys := make([][]byte, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Go(func() {
			start.Wait()
			keys[i], created[i], errs[i] = c.LoadKey()
		})
	}
	start.Done()
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LoadKey %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Errorf("LoadKey %d returned %x, LoadKey 0 %x", i, keys[i], keys[0])
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Errorf("%d calls report they created the key, want 1", creators)
	}
	onDisk, _ := os.ReadFile(c.KeyFile())
	if strings.TrimSpace(string(onDisk)) != hex.EncodeToString(keys[0]) {
		t.Errorf("%s holds %q, want the key all calls returned", c.KeyFile(), onDisk)
	}
}

func TestConfiguredKey(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte{0xab}, orgd.KeySize)
	c := mustLoad(t, config.Storage, map[string]string{"ORGD_DATA_DIR": dir, "ORGD_SECRET_KEY": hex.EncodeToString(want)})
	key, created, err := c.LoadKey()
	if err != nil || created || !bytes.Equal(key, want) {
		t.Errorf("LoadKey() = %x, %v, %v; want the configured key", key, created, err)
	}
	if _, err := os.Stat(c.KeyFile()); !os.IsNotExist(err) {
		t.Errorf("with a configured key, %s should not be written (stat: %v)", c.KeyFile(), err)
	}

	for _, bad := range []string{hex.EncodeToString(want[:31]), strings.Repeat("zz", 32), hex.EncodeToString(want) + "00"} {
		_, err := load(t, config.Storage, map[string]string{"ORGD_DATA_DIR": dir, "ORGD_SECRET_KEY": bad})
		if err == nil || !strings.Contains(err.Error(), "ORGD_SECRET_KEY: must be 64 hex digits") {
			t.Errorf("ORGD_SECRET_KEY=%s: got %v, want an error that names ORGD_SECRET_KEY and the format", bad, err)
		} else if strings.Contains(err.Error(), bad) {
			t.Errorf("the error %q shows the key", err)
		}
	}
}

func TestDamagedKeyFile(t *testing.T) {
	c := mustLoad(t, config.Storage, map[string]string{"ORGD_DATA_DIR": t.TempDir()})
	if err := os.WriteFile(c.KeyFile(), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.LoadKey()
	if err == nil || !strings.Contains(err.Error(), c.KeyFile()) {
		t.Errorf("LoadKey() with a damaged key file: %v, want an error naming %s", err, c.KeyFile())
	}
}
