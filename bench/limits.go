package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/orgd/orgd/store"
)

// The two limits every figure is written against: what a bare Go HTTP
// server answers on this machine with this load generator, and what the
// database takes in one-row inserts through the driver orgd uses.

// bareServer serves small JSON from this process on a loopback port.
func bareServer() (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := json.Marshal(map[string]any{"status": "ok", "path": r.URL.Path, "n": 42})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// httpLimit serves the bare server and returns the HTTP limit's scenario,
// a client of clients connections asking it; stop ends both.
func httpLimit(clients int) (sc scenario, stop func(), err error) {
	base, stopServer, err := bareServer()
	if err != nil {
		return scenario{}, nil, err
	}
	c := newClient(base, clients)
	sc = scenario{surface: surfaceLimit, name: limitHTTP, warmup: true, op: func(ctx context.Context, _ int) (string, error) {
		return c.do(ctx, bareCall())
	}}
	return sc, func() { c.close(); stopServer() }, nil
}

func bareCall() call {
	return call{name: "bare handler", method: http.MethodGet, path: "/limit", want: http.StatusOK,
		check: decodeAs(func(v *struct {
			Status string `json:"status"`
			Path   string `json:"path"`
			N      int    `json:"n"`
		}) error {
			return nonEmpty("status", v.Status, "path", v.Path)
		})}
}

// insertTable is the table of the insert limit, created and dropped by it.
const insertTable = "bench_insert_limit"

// insertLimit returns the insert limit's scenario, one-row inserts into
// the database of databaseURL, opened the way orgd opens it (the same
// driver, pragmas and, for SQLite, the one writer), with a connection per
// client on PostgreSQL. done drops the table and closes the pool.
func insertLimit(ctx context.Context, databaseURL string, clients int) (sc scenario, done func() error, err error) {
	st, err := store.Open(ctx, databaseURL, store.Options{MaxConns: clients})
	if err != nil {
		return scenario{}, nil, err
	}
	db := st.DB()
	if _, err := db.ExecContext(ctx, `CREATE TABLE `+insertTable+` (id TEXT PRIMARY KEY, worker INTEGER NOT NULL,
		email TEXT NOT NULL, created_at BIGINT NOT NULL)`); err != nil {
		st.Close()
		return scenario{}, nil, fmt.Errorf("create %s: %w", insertTable, err)
	}
	seqs := make([]int, clients)
	op := func(ctx context.Context, worker int) (string, error) {
		seqs[worker]++
		id := strconv.Itoa(worker) + "-" + strconv.Itoa(seqs[worker])
		res, err := db.ExecContext(ctx, `INSERT INTO `+insertTable+` (id, worker, email, created_at) VALUES ($1, $2, $3, $4)`,
			id, worker, "row-"+id+"@example.com", time.Now().UnixMicro())
		if err != nil {
			return limitInsert, fmt.Errorf("insert: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return limitInsert, fmt.Errorf("insert: %d rows, %v", n, err)
		}
		return limitInsert, nil
	}
	done = func() error {
		_, err := db.ExecContext(context.Background(), `DROP TABLE `+insertTable)
		return errors.Join(err, st.Close())
	}
	return scenario{surface: surfaceLimit, name: limitInsert, warmup: true, op: op}, done, nil
}
