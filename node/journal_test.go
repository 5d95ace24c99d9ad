package node

import (
	"os"
	"testing"
	"time"

	"ccoin/ccoin/types"
)

// Transactions a node accepted but had not yet seen included survive its
// restart: it journals its pool on the way down and restores it on start.
func TestPoolSurvivesRestart(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	b := c.add("B", TypeBasic, outsiderKey(t)) // alone: nothing seals, so the pool keeps them
	b.start()
	u := userKeys(t)[0]
	var to [20]byte
	to[0] = 0x77
	const count = 5
	var txs []*types.Transaction
	for nonce := uint64(1); nonce <= count; nonce++ {
		txs = append(txs, c.transfer(u, to, nonce, 1))
	}
	for _, err := range b.N().Pool().Add(txs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	b.stop()
	if _, err := os.Stat(JournalPath(b.dir)); err != nil {
		t.Fatalf("no journal after a clean stop: %v", err)
	}
	b.start()
	waitFor(t, 10*time.Second, "the pool restored", func() bool { return b.N().Pool().Stats().Pending == count })
	next, err := b.N().Pool().NextNonce(u.Address())
	if err != nil || next != count+1 {
		t.Fatalf("next nonce after restart = %d, %v; want %d", next, err, count+1)
	}
	b.stop()
}
