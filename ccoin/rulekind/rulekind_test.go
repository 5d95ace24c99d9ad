package rulekind

import (
	"errors"
	"fmt"
	"testing"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/state"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

func TestOf(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, Other},
		{errors.New("disk on fire"), Other},
		{txpool.ErrKnown, Known},
		{fmt.Errorf("%w: nonce 3", txpool.ErrNonceTaken), NonceTaken},
		{txpool.ErrQueueFull, QueueFull},
		{fmt.Errorf("block 9: %w", consensus.ErrWrongLeader), WrongLeader},
		{fmt.Errorf("%w: %w", chain.ErrInvalidBlock, chain.ErrBadStateRoot), BadStateRoot},
		{fmt.Errorf("tx 2: %w", state.ErrDuplicateTx), DuplicateTx},
		{state.ErrWrongChain, WrongChain},
		{crypto.ErrWeakKey, BadSignature},
		{crypto.ErrBadAddress, BadAddress},
		{types.ErrEncoding, Malformed},
		{fmt.Errorf("%w: %w", consensus.ErrBadVote, types.ErrBadVoteSig), BadVote},
		// First match wins: the pool's kind over what it wraps, a precise
		// key error over the decoder's generic one.
		{fmt.Errorf("%w: %w", txpool.ErrBadSignature, crypto.ErrBadKey), BadSignature},
		{fmt.Errorf("%w: %w", txpool.ErrInsufficientFunds, state.ErrOverflow), InsufficientFunds},
		{fmt.Errorf("%w: %w", types.ErrEncoding, crypto.ErrBadKey), BadSignature},
	}
	for _, c := range cases {
		if got := Of(c.err); got != c.want {
			t.Errorf("Of(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestAllIsBounded: every kind Of can return is listed once in All, so a
// metric labelled by kind has a fixed set of series.
func TestAllIsBounded(t *testing.T) {
	all := All()
	seen := map[string]bool{}
	for _, k := range all {
		if seen[k] {
			t.Errorf("kind %q listed twice", k)
		}
		seen[k] = true
	}
	for _, r := range table {
		if !seen[Of(r.err)] {
			t.Errorf("Of(%v) = %q, not in All", r.err, Of(r.err))
		}
	}
	if !seen[Other] || all[len(all)-1] != Other {
		t.Errorf("All must end with %q: %v", Other, all)
	}
}
