package txpool

import (
	"slices"
	"testing"

	"ccoin/ccoin/types"
)

// A reorg's abandoned transactions come back even when the pool still
// shows the abandoned branch's nonces: the node calls Readmit before it
// refreshes the pool for the new head (node.afterImport), and the sender's
// later transactions stay pending behind them.
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
	p.Reset(nil)
	// A reorg replaces A by B, which includes 1..5 only: 6..10 come back
	// while the pool still holds the account at nonce 10.
	st.set(a, 995, 5)
	mustAccept(t, p.Readmit(txs[5:10]))
	p.Reset(nil)
	if got := nonces(p.Pending(100)); !slices.Equal(got, []uint64{6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}) {
		t.Fatalf("pending %v, want 6..20", got)
	}
}
