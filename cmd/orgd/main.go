// Command orgd runs the orgd service and administers its database.
//
//	orgd serve      run the HTTP service
//	orgd migrate    apply database migrations
//	orgd admin ...  create organizations, users, API keys and members
//	orgd version    print the version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
