package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/types"
)

// forger crafts blocks on a node's head the way a hostile peer would.
type forger struct {
	t      *testing.T
	c      *cluster
	n      *Node
	eng    *consensus.Engine
	byAddr map[crypto.Address]*crypto.PrivateKey
}

func newForger(t *testing.T, c *cluster, n *Node) *forger {
	f := &forger{t: t, c: c, n: n, eng: consensus.NewEngine(c.g, nil), byAddr: map[crypto.Address]*crypto.PrivateKey{}}
	for _, k := range allKeys(t) {
		f.byAddr[k.Address()] = k
	}
	return f
}

// slotNow waits, if needed, for a slot after the head's and returns it.
func (f *forger) slotNow() uint64 {
	sched := f.eng.Schedule()
	head, _ := f.n.Chain().Head()
	for {
		s := sched.SlotAt(uint64(time.Now().UnixMilli()))
		if s > head.Slot {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// block builds a block on the head for slot, sealed by sealer with key
// (normally sealer's own), with txs; mutate may spoil it before sealing.
func (f *forger) block(slot uint64, sealer crypto.Address, key *crypto.PrivateKey, txs []*types.Transaction,
	mutate func(b *types.Block)) *types.Block {
	f.t.Helper()
	head, headID := f.n.Chain().Head()
	hdr := f.eng.Prepare(head, headID, slot, uint64(time.Now().UnixMilli()), sealer)
	b, err := f.n.Chain().BuildBlock(headID, hdr, txs)
	if err != nil {
		f.t.Fatal(err)
	}
	if mutate != nil {
		mutate(b)
	}
	// Seal mines and signs; a key that is not the sealer's signs directly.
	if key.Address() == sealer {
		if err := f.eng.Seal(context.Background(), b, key); err != nil {
			f.t.Fatal(err)
		}
	} else {
		b.Header.Mine(0, func() bool { return false })
		id, err := b.Header.CheckPow()
		if err != nil {
			f.t.Fatal(err)
		}
		sig, err := key.Sign(id)
		if err != nil {
			f.t.Fatal(err)
		}
		b.SealerKey, b.Signature = key.Public().DER(), sig
	}
	return b
}

// Blocks that break a rule, delivered through the node's gossip handler,
// are rejected (the sender would be banned), not stored, and leave the head
// alone.
func TestClusterRejectsBadBlocks(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	// One basic node and no running validators: the test plays every sealer.
	tn := c.add("N", TypeBasic, outsiderKey(t))
	tn.start()
	waitFor(t, 10*time.Second, "ready", func() bool { return tn.N().SyncState() == StateReady })
	n := tn.N()
	f := newForger(t, c, n)
	h := n.gossip
	sched := f.eng.Schedule()
	users := userKeys(t)
	u, v, w := users[0], users[1], users[2]
	bal := c.g.Alloc[u.Address()].Balance

	// Control: the slot's leader with a valid transfer is accepted.
	slot := f.slotNow()
	leader := sched.Leader(slot)
	ok := f.block(slot, leader, f.byAddr[leader], []*types.Transaction{c.transfer(u, v.Address(), 1, 10)}, nil)
	if verdict, err := h.HandleBlock(p2p.PeerInfo{}, ok.Encode(nil)); verdict != p2p.Accepted {
		t.Fatalf("control block: %v, %v", verdict, err)
	}
	if _, id := n.Chain().Head(); id != ok.ID() {
		t.Fatal("control block did not become the head")
	}

	slot = f.slotNow()
	leader = sched.Leader(slot)
	var other crypto.Address // a miner that does not lead this slot
	for _, m := range c.g.Miners {
		if m != leader {
			other = m
			break
		}
	}
	spend1 := c.transfer(u, v.Address(), 2, bal-10) // all that is left
	spend2 := c.transfer(u, w.Address(), 3, bal-10) // spent again
	sameNonce := c.transfer(u, w.Address(), 2, 5)   // nonce 2 twice
	cases := []struct {
		name string
		b    *types.Block
		want []error // any of these
	}{
		{"non-miner sealer", f.block(slot, outsiderKey(t).Address(), outsiderKey(t), nil, nil),
			[]error{consensus.ErrNotMiner, consensus.ErrWrongLeader}},
		{"another slot's leader", f.block(slot, other, f.byAddr[other], nil, nil), []error{consensus.ErrWrongLeader}},
		{"signed by a key not the sealer's", f.block(slot, leader, f.byAddr[other], nil, nil), []error{consensus.ErrBadSeal}},
		{"bad signature", func() *types.Block {
			b := f.block(slot, leader, f.byAddr[leader], nil, nil)
			b.Signature[len(b.Signature)/2] ^= 0x40
			return b
		}(), []error{consensus.ErrBadSeal}},
		{"header changed after sealing", func() *types.Block {
			b := f.block(slot, leader, f.byAddr[leader], nil, nil)
			b.Header.Reward++
			return b
		}(), []error{consensus.ErrBadSeal, consensus.ErrBadParams}},
		{"bad state root", f.block(slot, leader, f.byAddr[leader], []*types.Transaction{c.transfer(u, v.Address(), 2, 10)},
			func(b *types.Block) { b.Header.StateRoot[0] ^= 1 }), []error{chain.ErrBadStateRoot}},
		{"bad tx root", f.block(slot, leader, f.byAddr[leader], []*types.Transaction{c.transfer(u, v.Address(), 2, 10)},
			func(b *types.Block) { b.Header.TxRoot[0] ^= 1 }), []error{consensus.ErrBadTxRoot}},
		{"double spend (overspend)", f.block(slot, leader, f.byAddr[leader], []*types.Transaction{spend1},
			func(b *types.Block) {
				b.Txs = append(b.Txs, spend2)
				b.Header.TxRoot = types.TxRoot(b.TxIDs())
			}), []error{chain.ErrInvalidBlock}},
		{"double spend (one nonce twice)", f.block(slot, leader, f.byAddr[leader], []*types.Transaction{spend1},
			func(b *types.Block) {
				b.Txs = append(b.Txs, sameNonce)
				b.Header.TxRoot = types.TxRoot(b.TxIDs())
			}), []error{chain.ErrInvalidBlock}},
		{"replayed transfer", f.block(slot, leader, f.byAddr[leader], nil,
			func(b *types.Block) {
				b.Txs = ok.Txs
				b.Header.TxRoot = types.TxRoot(b.TxIDs())
			}), []error{chain.ErrInvalidBlock}},
	}
	headBefore, headID := n.Chain().Head()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.b.Encode(nil)
			dec, err := types.DecodeBlock(raw) // its id as received, not as cached before spoiling
			if err != nil {
				t.Fatal(err)
			}
			verdict, err := h.HandleBlock(p2p.PeerInfo{}, raw)
			if verdict != p2p.Rejected {
				t.Errorf("verdict %v (%v), want rejected", verdict, err)
			}
			matched := false
			for _, w := range tc.want {
				matched = matched || errors.Is(err, w)
			}
			if !matched {
				t.Errorf("error %v, want one of %v", err, tc.want)
			}
			if n.Chain().HasBlock(dec.ID()) {
				t.Error("rejected block was stored")
			}
			if _, id := n.Chain().Head(); id != headID {
				t.Error("head moved")
			}
		})
	}
	// A block far in the future is not an offence (the clock may be ours)
	// but is not stored either.
	far := f.block(f.slotNow()+10, sched.Leader(f.slotNow()+10), f.byAddr[sched.Leader(f.slotNow()+10)], nil, nil)
	if verdict, err := h.HandleBlock(p2p.PeerInfo{}, far.Encode(nil)); verdict == p2p.Accepted || n.Chain().HasBlock(far.ID()) {
		t.Errorf("far-future block: %v, %v; stored %v", verdict, err, n.Chain().HasBlock(far.ID()))
	}
	if h2, id := n.Chain().Head(); id != headID || h2.Number != headBefore.Number {
		t.Errorf("head moved from %d to %d", headBefore.Number, h2.Number)
	}
	if acc, _ := n.Chain().Account(u.Address()); acc.Nonce != 1 {
		t.Errorf("sender nonce %d after rejected blocks, want 1", acc.Nonce)
	}
	checkSupply(t, n)
}

// Two validator nodes run with the same key, so that key seals two
// different blocks in each of its slots: every node records both headers
// as evidence and all converge on the same one of them.
func TestClusterEquivocationConverges(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	vk := validatorKeys(t)
	a := c.add("A", TypeValidator, vk[0])
	a2 := c.add("A2", TypeValidator, vk[0]) // the same sealer twice
	b := c.add("B", TypeValidator, vk[1])
	cc := c.add("C", TypeValidator, vk[2])
	all := []*tnode{a, a2, b, cc}
	for _, n := range all {
		n.start()
	}
	mon := c.monitor()
	waitPeers(t, all...)
	waitFor(t, 30*time.Second, "evidence of A's double seal on every node", func() bool {
		for _, n := range all {
			ev, err := n.N().Chain().Evidence(100)
			if err != nil || len(ev) == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(3 * c.interval())
	waitConverged(t, 20*time.Second, 1, all...)
	ev, _ := b.N().Chain().Evidence(100)
	pairs := 0
	for _, p := range ev {
		x, y := p[0], p[1]
		if x.Sealer != vk[0].Address() || y.Sealer != x.Sealer || x.Slot != y.Slot || x.ID() == y.ID() {
			t.Errorf("evidence is not two blocks of A for one slot: %+v / %+v", x, y)
			continue
		}
		if x.Number != y.Number {
			continue // built on different parents: they never compete at one height
		}
		pairs++
		var chosen types.Hash
		for i, n := range all {
			id, err := n.N().Chain().CanonicalID(x.Number)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				chosen = id
			} else if id != chosen {
				t.Errorf("height %d: %s has %s, %s has %s", x.Number, all[0].name, short(chosen), n.name, short(id))
			}
			// Every node holds both halves of the evidence.
			if !n.N().Chain().HasBlock(x.ID()) || !n.N().Chain().HasBlock(y.ID()) {
				t.Errorf("%s lacks one of the equivocating blocks at slot %d", n.name, x.Slot)
			}
		}
		if chosen != x.ID() && chosen != y.ID() {
			// A later leader may have built on neither (it saw both late);
			// then both lost, which is also convergence.
			t.Logf("slot %d: canonical block at height %d is neither equivocating block", x.Slot, x.Number)
		}
	}
	if pairs == 0 {
		t.Fatal("no equivocation at one height was recorded")
	}
	for _, n := range all {
		got, _ := n.N().Chain().Evidence(100)
		if len(got) == 0 {
			t.Errorf("%s recorded no evidence", n.name)
		}
	}
	t.Logf("%d equivocations at one height; every node converged", pairs)
	mon.check(t)
}

// A validator stopped right after it sealed a block and restarted at once
// never seals a second block for that slot: its slot guard remembers, and
// no node holds two blocks by it for one slot.
func TestClusterRestartAfterSealNeverResealsSlot(t *testing.T) {
	// TCP: restarts rebind a real port and redial over the real transport.
	c := newTCPCluster(t, defaultSpec(t))
	vals := startValidators(t, c)
	cc := vals[2]
	mon := c.monitor()
	me := cc.key.Address()

	for round := 0; round < 2; round++ {
		h0, _ := cc.head()
		var sealed *types.Header
		waitFor(t, 10*time.Second, "C to seal", func() bool {
			h, _ := cc.N().Chain().Head()
			if h.Sealer == me && h.Number > h0.Number {
				sealed = h
				return true
			}
			return false
		})
		cc.stop() // as soon as its head shows its own new block
		cc.start()
		if last := cc.N().guard.Last(); last < sealed.Slot {
			t.Fatalf("slot guard remembers slot %d, C sealed slot %d", last, sealed.Slot)
		}
		// Let it seal again in later slots.
		waitFor(t, 15*time.Second, "C to seal again after the restart", func() bool {
			h, _ := cc.N().Chain().Head()
			return h.Sealer == me && h.Slot > sealed.Slot
		})
		t.Logf("round %d: C sealed slot %d, stopped, restarted, sealed again", round, sealed.Slot)
	}
	waitConverged(t, 20*time.Second, 1, vals...)
	for _, n := range vals {
		ev, err := n.N().Chain().Evidence(100)
		if err != nil || len(ev) != 0 {
			t.Errorf("%s: evidence %v (%v): a validator signed a slot twice", n.name, ev, err)
		}
		seen := map[[2]uint64]bool{}
		for _, blk := range canonicalBlocks(t, n.N(), 2) {
			if blk.Header.Sealer != me {
				continue
			}
			k := [2]uint64{blk.Header.Slot, 0}
			if seen[k] {
				t.Errorf("%s: two canonical blocks by C in slot %d", n.name, blk.Header.Slot)
			}
			seen[k] = true
		}
	}
	mon.check(t)
}
