package txpool

import (
	"slices"
	"testing"
	"time"

	"ccoin/ccoin/types"
)

// Stale hands out pending transactions that have waited, each once per wait,
// so a node re-offering them in bounded rounds covers the whole pool.
func TestStale(t *testing.T) {
	k := testKeys(t)[0]
	st := newState()
	st.set(k.Address(), 1000, 0)
	clk := newClock()
	p := New(Config{ChainID: testChain, Now: clk.Now}, st)
	var txs []*types.Transaction
	for nonce := uint64(1); nonce <= 5; nonce++ {
		txs = append(txs, stx(t, k, nonce, 1))
	}
	txs = append(txs, stx(t, k, 9, 1)) // queued: not executable, never re-offered
	mustAccept(t, p.Add(txs))

	steps := []struct {
		advance time.Duration
		max     int
		want    []uint64
	}{
		{2 * time.Second, 10, nil},              // not waited long enough
		{2 * time.Second, 3, []uint64{1, 2, 3}}, // bounded round
		{0, 10, []uint64{4, 5}},                 // the next round moves on
		{0, 10, nil},                            // each once per wait
		{4 * time.Second, 10, []uint64{1, 2, 3, 4, 5}},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if got := nonces(p.Stale(3*time.Second, s.max)); !slices.Equal(got, s.want) && len(got)+len(s.want) > 0 {
			t.Fatalf("step %d: Stale returned nonces %v, want %v", i, got, s.want)
		}
	}
}
