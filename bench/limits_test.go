package main

import (
	"context"
	"testing"
)

// The HTTP limit's check must accept the bare server's answer: every
// request of that scenario is checked like orgd's.
func TestBareCallAcceptsTheBareServer(t *testing.T) {
	base, stop, err := bareServer()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c := newClient(base, 1)
	defer c.close()
	if _, err := c.do(context.Background(), bareCall()); err != nil {
		t.Fatal(err)
	}
}
