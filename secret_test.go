package orgd_test

import (
	"bytes"
	"testing"

	"github.com/orgd/orgd"
)

func TestDeriveKey(t *testing.T) {
	box := func(b byte) *orgd.Box {
		x, err := orgd.NewBox(bytes.Repeat([]byte{b}, orgd.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	a, b := box(1), box(2)
	k := a.DeriveKey("csrf")
	if len(k) != orgd.KeySize {
		t.Fatalf("derived key of %d bytes, want %d", len(k), orgd.KeySize)
	}
	if !bytes.Equal(k, box(1).DeriveKey("csrf")) {
		t.Error("the same server key and purpose derive different keys")
	}
	if bytes.Equal(k, a.DeriveKey("other")) {
		t.Error("two purposes derive the same key")
	}
	if bytes.Equal(k, b.DeriveKey("csrf")) {
		t.Error("two server keys derive the same key")
	}
	if bytes.Equal(k, bytes.Repeat([]byte{1}, orgd.KeySize)) {
		t.Error("the derived key is the server key")
	}
}
