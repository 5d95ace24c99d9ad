package sim

import (
	"context"

	"ccoin/ccoin/types"
)

// A byzantine validator breaks every rule an honest one keeps, in the ways
// that can mislead honest nodes while each message still checks on its
// own: it seals two blocks for its slots and shows each to half of the
// network, votes for two targets of one epoch (double votes), and now and
// then votes from an old justified source over its earlier votes
// (surround votes). The simulator holds only honest validators to the
// voting rule; safety must survive up to f of these with "two_thirds".

// halves splits the other nodes by index parity.
func (n *node) half(j int) int { return (j + n.idx) % 2 }

func (n *node) sendSplit(a, b msg) {
	for j := range n.s.nodes {
		if j == n.idx {
			continue
		}
		if n.half(j) == 0 {
			n.s.send(n.idx, j, a)
		} else {
			n.s.send(n.idx, j, b)
		}
	}
}

// equivocate sends the block it sealed to one half and a second block for
// the same slot, on the same parent without transactions, to the other.
func (n *node) equivocate(raw []byte) {
	b, err := types.DecodeBlock(raw)
	if err != nil {
		return
	}
	parent, err := n.chain.Header(b.Header.Parent)
	if err != nil {
		return
	}
	hdr := n.s.engine.Prepare(parent, b.Header.Parent, b.Header.Slot, b.Header.Time+1, n.key.Address())
	twin, err := n.chain.BuildBlock(b.Header.Parent, hdr, nil)
	if err != nil || twin.Header.ID() == b.ID() {
		n.sendSplit(msg{kind: mBlock, raw: raw}, msg{kind: mBlock, raw: raw})
		return
	}
	if err := n.s.engine.Seal(context.Background(), twin, n.key); err != nil {
		n.sendSplit(msg{kind: mBlock, raw: raw}, msg{kind: mBlock, raw: raw})
		return
	}
	n.s.trace("%s equivocates at slot %d: %s and %s", n.name, b.Header.Slot, b.ID(), twin.ID())
	n.sendSplit(msg{kind: mBlock, raw: raw}, msg{kind: mBlock, raw: twin.Encode(nil)})
}

// checkpointOn is the checkpoint of epoch on the chain ending at id.
func (n *node) checkpointOn(epoch uint64, id types.Hash) (types.Checkpoint, bool) {
	h, err := n.chain.Header(id)
	for err == nil && h.Slot > epoch {
		id = h.Parent
		h, err = n.chain.Header(id)
	}
	return types.Checkpoint{Epoch: epoch, ID: id}, err == nil
}

// sourceFor is the highest (or, lowest) justified checkpoint below the
// target's epoch lying on the target's chain.
func (n *node) sourceFor(t types.Checkpoint, lowest bool) (types.Checkpoint, bool) {
	js := n.ffg.Justified()
	var out types.Checkpoint
	found := false
	for _, cp := range js {
		if cp.Epoch >= t.Epoch {
			continue
		}
		if ok, err := n.chain.IsAncestor(cp.ID, t.ID); err != nil || !ok {
			continue
		}
		if !found || (!lowest && cp.Epoch > out.Epoch) || (lowest && cp.Epoch < out.Epoch) {
			out, found = cp, true
		}
	}
	return out, found
}

func (n *node) signed(src, tgt types.Checkpoint) *types.Vote {
	v := &types.Vote{Version: types.VoteVersion, ChainID: n.s.g.ChainID, Source: src, Target: tgt, Voter: n.key.Address()}
	_ = simAuth{}.SignVote(v)
	return v
}

func (n *node) byzantineVotes(epoch uint64) {
	_, headID := n.chain.Head()
	t1, ok := n.checkpointOn(epoch, headID)
	if !ok {
		return
	}
	lowest := epoch%5 == 0 // every fifth epoch: from the oldest source, over earlier votes
	s1, ok := n.sourceFor(t1, lowest)
	if !ok {
		return
	}
	v1 := n.signed(s1, t1)
	v2 := v1
	// A second target for the same epoch: the checkpoint block's parent.
	if h, err := n.chain.Header(t1.ID); err == nil && h.Number > 1 {
		t2 := types.Checkpoint{Epoch: epoch, ID: h.Parent}
		if s2, ok := n.sourceFor(t2, lowest); ok {
			v2 = n.signed(s2, t2)
		}
	}
	n.s.trace("%s votes byzantine %s -> %s and %s -> %s", n.name, v1.Source, v1.Target, v2.Source, v2.Target)
	for _, v := range []*types.Vote{v1, v2} {
		n.seenVote[v.ID()] = true
		if ch, err := n.ffg.AddVote(v, n.localSlot()); err == nil && (len(ch.Justified) > 0 || ch.Final) {
			n.refresh()
		}
	}
	n.sendSplit(msg{kind: mVote, raw: v1.Encode(nil)}, msg{kind: mVote, raw: v2.Encode(nil)})
}
