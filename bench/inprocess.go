package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/orgd/orgd"
	"github.com/orgd/orgd/config"
	"github.com/orgd/orgd/server"
	"github.com/orgd/orgd/store"
)

// orgdServer is a running orgd: the built binary, or, for CPU profiles,
// orgd's handler in this process.
type orgdServer interface {
	url() string
	pid() int
	stop() error
}

// loadConfig reads orgd's configuration from settings the way orgd serve
// reads it from its environment, and the key it seals tokens with.
func loadConfig(settings map[string]string) (*config.Config, []byte, error) {
	fs := flag.NewFlagSet("orgd", flag.ContinueOnError)
	l := config.Register(fs, config.Storage|config.Server|config.Rules)
	if err := fs.Parse(nil); err != nil {
		return nil, nil, err
	}
	cfg, err := l.Load(func(k string) string { return settings[k] })
	if err != nil {
		return nil, nil, err
	}
	key, _, err := cfg.LoadKey()
	return cfg, key, err
}

// inProcess is orgd's handler served from this process.
type inProcess struct {
	base string
	srv  *http.Server
	st   *store.Store
	log  *os.File
}

func (s *inProcess) url() string { return s.base }
func (s *inProcess) pid() int    { return os.Getpid() }

func (s *inProcess) stop() error {
	err := s.srv.Close()
	return errors.Join(err, s.st.Close(), s.log.Close())
}

// serveInProcess serves orgd's handler, configured from settings as orgd
// serve would be, on a free loopback port, logging to logFile.
func serveInProcess(ctx context.Context, settings map[string]string, logFile string) (*inProcess, error) {
	cfg, key, err := loadConfig(settings)
	if err != nil {
		return nil, err
	}
	box, err := orgd.NewBox(key)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: cfg.DBMaxConns})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := writeJobs(st); err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	out, err := os.Create(logFile)
	if err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel}))
	base := "http://" + ln.Addr().String()
	srv := &http.Server{
		Handler:           server.New(orgd.NewService(st, box, orgd.Options{Limits: cfg.Limits, Log: log}), log, server.Options{MaxBodyBytes: cfg.MaxBodyBytes, PublicURL: base}),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.RequestTimeout,
		WriteTimeout:      cfg.RequestTimeout,
		IdleTimeout:       cfg.IdleTimeout,
	}
	go func() { _ = srv.Serve(ln) }()
	return &inProcess{base: base, srv: srv, st: st, log: out}, nil
}
