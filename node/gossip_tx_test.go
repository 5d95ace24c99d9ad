package node

import (
	"errors"
	"testing"
	"time"

	"ccoin/ccoin/p2p"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// A TXN frame holding a forgery is rejected whole (the network then bans
// the sender): the pool stops verifying at the first bad signature and
// pools nothing of the batch, not even its valid transactions. Before
// (issue 16), every one of thousands of forged signatures was verified
// and the valid transactions of the batch were pooled.
func TestGossipedBatchWithForgeryRejectedWhole(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	tn := c.add("N", TypeBasic, outsiderKey(t))
	tn.start()
	waitFor(t, 10*time.Second, "ready", func() bool { return tn.N().SyncState() == StateReady })
	n := tn.N()
	users := userKeys(t)
	u, v := users[0], users[1]
	good := c.transfer(u, v.Address(), 1, 10)
	raws := [][]byte{good.Encode(nil)}
	for i := range 2000 {
		forged := &types.Transaction{ChainID: good.ChainID, Nonce: uint64(2 + i), From: good.From, To: good.To, Amount: 1,
			Time: good.Time, PublicKey: good.PublicKey, Signature: good.Signature}
		raws = append(raws, forged.Encode(nil))
	}
	relay, verdict, err := n.gossip.HandleTxs(p2p.PeerInfo{}, raws)
	if verdict != p2p.Rejected || !errors.Is(err, txpool.ErrBadSignature) {
		t.Fatalf("verdict %v, %v", verdict, err)
	}
	if len(relay) != 0 && verdict != p2p.Rejected {
		t.Fatal("a forged batch would be relayed")
	}
	if n.Pool().Has(good.ID()) {
		t.Fatal("a transaction of the forged batch was pooled")
	}
	// The same valid transaction alone is accepted.
	if _, verdict, err := n.gossip.HandleTxs(p2p.PeerInfo{}, raws[:1]); verdict != p2p.Accepted {
		t.Fatalf("valid transaction alone: %v, %v", verdict, err)
	}
}
