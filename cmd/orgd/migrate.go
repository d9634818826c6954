package main

import (
	"fmt"

	"github.com/orgd/orgd/config"
	"github.com/orgd/orgd/store"
)

// migrate applies pending migrations and reports the schema version.
func (e *env) migrate(args []string) error {
	fs := e.newFlags("orgd migrate", "orgd migrate [flags]")
	loader := config.Register(fs, config.Storage)
	cfg, err := e.parse(fs, loader, args)
	if err != nil {
		return err
	}
	st, err := store.Open(e.ctx, cfg.DatabaseURL, store.Options{MaxConns: cfg.DBMaxConns})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, _, err := refuseNewerSchema(e.ctx, st); err != nil {
		return err
	}
	err = migrateAll(e.ctx, st, func(what string, version int64, name string) {
		fmt.Fprintf(e.stdout, "applied %s migration %d (%s)\n", what, version, name)
	})
	if err != nil {
		return err
	}
	current, _, err := st.MigrationStatus(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s database %s is at schema version %d\n", st.Engine(), st.Target(), current)
	return nil
}
