package node

import (
	"testing"
	"time"

	"ccoin/ccoin/types"
)

// A transaction that sits in one node's pool without having reached the
// validators (here: put straight into the pool, so never gossiped; in
// production: sent on a connection that was then dropped) is offered again
// after a few slots and included, with no reconnect to trigger it.
func TestStalePendingIsOfferedAgain(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	vals := c.validators(validatorKeys(t))
	b := c.add("N", TypeBasic, outsiderKey(t))
	for _, n := range append(vals, b) {
		n.start()
	}
	waitPeers(t, append(vals, b)...)
	time.Sleep(2 * time.Second) // let redundant connections settle: a connect re-offers the pool too
	u := userKeys(t)[0]
	tx := c.transfer(u, fillerAddr(7), 1, 5)
	for _, err := range b.N().Pool().Add([]*types.Transaction{tx}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "the transfer included by the validators", func() bool {
		acc, err := vals[0].N().Chain().Account(u.Address())
		return err == nil && acc.Nonce == 1
	})
}
