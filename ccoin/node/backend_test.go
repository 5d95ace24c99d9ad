package node

import (
	"errors"
	"fmt"
	"testing"

	"ccoin/api"
	"ccoin/ccoin/chain"
)

func TestNotFoundKeepsOneMessage(t *testing.T) {
	err := notFound(fmt.Errorf("%w: no block %d", chain.ErrNotFound, 99999))
	if got, want := err.Error(), "not found: no block 99999"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if !errors.Is(err, api.ErrNotFound) || !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("%v must be both api.ErrNotFound and chain.ErrNotFound", err)
	}
	other := errors.New("disk on fire")
	if notFound(other) != other || notFound(nil) != nil {
		t.Error("other errors must pass through unchanged")
	}
}
