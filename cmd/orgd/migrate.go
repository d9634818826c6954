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
	applied, err := st.Migrate(e.ctx)
	if err != nil {
		return err
	}
	for _, m := range applied {
		fmt.Fprintf(e.stdout, "applied migration %d (%s)\n", m.Version, m.Name)
	}
	current, _, err := st.MigrationStatus(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s database %s is at schema version %d\n", st.Engine(), st.Target(), current)
	return nil
}
