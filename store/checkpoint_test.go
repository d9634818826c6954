package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgd/orgd/store"
)

// TestSQLiteCheckpointsOffTheWriter: the one write connection never copies
// the write-ahead log into the database file itself (wal_autocheckpoint is
// 0 on it); the store's own checkpoints do, in the background, so a commit
// of thousands of pages reaches the database file without another write.
func TestSQLiteCheckpointsOffTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "orgd.db")
	st, err := store.OpenSQLiteCheckpointing(ctx, path, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var auto int
	if err := st.DB().QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("the write connection checkpoints after %d pages of log itself, want 0 (never)", auto)
	}
	// 2,000 rows of 4 KiB in one commit: about 2,000 pages of log, twice
	// SQLite's default threshold.
	const want = 2000 * 4096
	if _, err := st.DB().ExecContext(ctx, `CREATE TABLE filler (b BLOB);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		INSERT INTO filler SELECT randomblob(4096) FROM n`); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Waiting for an event, not timing one: the bound only ends a test whose
	// checkpoints never come.
	for deadline := time.Now().Add(30 * time.Second); size() < want; {
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d bytes 30 s after a commit of %d: nothing copied the log into it", size(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

// TestSQLiteWriterSettings: the writer keeps statement journals in memory
// and has a page cache of 16 MB, so a batch create neither writes a
// temporary file per statement nor spills pages before its commit.
func TestSQLiteWriterSettings(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLiteCheckpointing(ctx, filepath.Join(t.TempDir(), "orgd.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for pragma, want := range map[string]int{"temp_store": 2, "cache_size": -16000} {
		var got int
		if err := st.DB().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s is %d on the write connection, want %d", pragma, got, want)
		}
	}
}
