package txpool

import (
	"errors"
	"slices"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// A reorg's abandoned transactions come back even when the pool still
// shows the abandoned branch's nonces, and the sender's later transactions
// stay pending behind them.
func TestReadmitAgainstStaleNonces(t *testing.T) {
	a := addr(1)
	st := newState()
	st.set(a, 1000, 0)
	p := New(Config{ChainID: testChain}, st)
	var txs []*types.Transaction
	for n := uint64(1); n <= 20; n++ {
		txs = append(txs, utx(a, n, 1))
	}
	mustAccept(t, p.AddVerified(txs))

	// Block A includes 1..10; the pool catches up with it.
	st.set(a, 990, 10)
	p.Reset(Head{})
	// A reorg replaces A by B, which includes 1..5 only: 6..10 come back.
	st.set(a, 995, 5)
	mustAccept(t, p.Reset(Head{Touched: []crypto.Address{a}, Abandoned: txs[5:10]}))
	if got := nonces(p.Pending(100)); !slices.Equal(got, []uint64{6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}) {
		t.Fatalf("pending %v, want 6..20", got)
	}
}

// Between a reorg's commit and the pool's Reset, the chain's head state
// already has the abandoned nonces undone. A client's next transactions
// checked against it looked far ahead of a sender the pool no longer held
// (its transactions were all included): nonce_gap refusals under load, and
// the transactions accepted after them then waited behind the refused
// ones. The pool reads the state of the head it was reset to, so they are
// accepted, and the Reset that brings the abandoned ones back makes the
// whole run pending.
func TestNoGapWhileTheChainIsAheadOfThePool(t *testing.T) {
	a := addr(1)
	st := newState()
	st.set(a, 1000, 0)
	rootA, rootB := types.Hash{0xa}, types.Hash{0xb}
	p := New(Config{ChainID: testChain, MaxFutureGap: 8}, st)
	var txs []*types.Transaction
	for n := uint64(1); n <= 40; n++ {
		txs = append(txs, utx(a, n, 1))
	}
	mustAccept(t, p.AddVerified(txs[:30]))

	// Block A includes 1..30 and the pool moves to it: a leaves the pool.
	st.set(a, 970, 30)
	st.commit(rootA)
	p.Reset(Head{Root: rootA})
	if p.Stats().Senders != 0 {
		t.Fatalf("pool still holds %+v", p.Stats())
	}
	// A reorg to B (which includes none of them) is committed: the chain's
	// head state is back at nonce 0, but the pool has not been told.
	st.set(a, 1000, 0)
	st.commit(rootB)
	for _, add := range []func([]*types.Transaction) []error{p.AddVerified, p.Add} {
		errs := add(txs[30:35])
		for i, err := range errs {
			if err != nil && !errors.Is(err, ErrKnown) {
				t.Fatalf("nonce %d refused while the chain is ahead of the pool: %v", txs[30+i].Nonce, err)
			}
		}
	}
	if next, err := p.NextNonce(a); err != nil || next != 36 {
		t.Fatalf("next nonce %d, %v; want 36", next, err)
	}

	// The Reset for B brings 1..30 back under the same lock.
	errs := p.Reset(Head{Root: rootB, Touched: []crypto.Address{a}, Abandoned: txs[:30]})
	mustAccept(t, errs)
	mustAccept(t, p.AddVerified(txs[35:]))
	want := make([]uint64, 40)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	if got := nonces(p.Pending(100)); !slices.Equal(got, want) {
		t.Fatalf("pending %v, want 1..40", got)
	}
	checkIndex(t, p)
}
