package node

import (
	"testing"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/types"
)

type lateChainHeaders struct{ c **chain.Chain }

func (l lateChainHeaders) Header(id types.Hash) (*types.Header, error) { return (*l.c).Header(id) }

func signedVote(t testing.TB, g *genesis.Genesis, k *crypto.PrivateKey, src, tgt types.Checkpoint) *types.Vote {
	v := &types.Vote{Version: types.VoteVersion, ChainID: g.ChainID, Source: src, Target: tgt, Voter: k.Address()}
	if err := v.Sign(k); err != nil {
		t.Fatal(err)
	}
	return v
}

// certifiedChain opens db's chain (as buildHistory left it: one block per
// slot) with a finality gadget and has every miner vote so that the head's
// parent is final: (0, genesis) -> parent, then parent -> head. It returns
// the chain and the gadget, whose certificate is of the final block.
func certifiedChain(t testing.TB, db kv.Store, g *genesis.Genesis, miners []*crypto.PrivateKey) (*chain.Chain, *consensus.Finality) {
	t.Helper()
	var c *chain.Chain
	ffg, err := consensus.NewFinality(consensus.FinalityConfig{Genesis: g, Auth: consensus.RSAVotes{}, Headers: lateChainHeaders{&c}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = chain.Open(db, chain.Config{Genesis: g, Verifier: consensus.NewEngine(g, nil), Finality: ffg}); err != nil {
		t.Fatal(err)
	}
	head, headID := c.Head()
	parent, err := c.Header(head.Parent)
	if err != nil {
		t.Fatal(err)
	}
	pcp := types.Checkpoint{Epoch: parent.Slot, ID: head.Parent}
	for _, l := range [][2]types.Checkpoint{{{ID: g.ChainID}, pcp}, {pcp, {Epoch: head.Slot, ID: headID}}} {
		for _, k := range miners {
			if _, err := ffg.AddVote(signedVote(t, g, k, l[0], l[1]), head.Slot+1); err != nil {
				t.Fatalf("vote %v -> %v: %v", l[0], l[1], err)
			}
		}
	}
	if _, err := c.Refresh(); err != nil {
		t.Fatal(err)
	}
	if _, id := c.Finalized(); ffg.Certificate() == nil || id != head.Parent {
		t.Fatalf("the votes did not make block %d final", parent.Number)
	}
	return c, ffg
}
