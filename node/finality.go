package node

import (
	"context"
	"errors"
	"time"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/rulekind"
	"ccoin/ccoin/types"
)

// openFinality builds the vote-based finality gadget on the node's
// database (votes, justifications, certificate, evidence, and a
// validator's last vote all live there) and, for a validator, its voter.
func (n *Node) openFinality(headers consensus.HeaderReader) error {
	store := chain.NewVoteStore(n.db)
	var err error
	n.ffg, err = consensus.NewFinality(consensus.FinalityConfig{Genesis: n.g, Auth: consensus.RSAVotes{Keys: n.keys},
		Headers: headers, DB: store, Logger: n.log.Named("finality")})
	if err != nil {
		return err
	}
	if n.opts.Type == TypeValidator {
		n.voter, err = consensus.NewVoter(n.Address(), n.ffg, headers, store, consensus.KeySigner{Key: n.opts.Key})
		if err != nil {
			return err
		}
		n.voteNow = make(chan uint64, 1)
	}
	return nil
}

// lateHeaders reads headers from the chain, which opens after finality
// (the chain asks finality for fork choice as soon as it opens); openChain
// sets c once the chain is open, before anything reads a header.
type lateHeaders struct{ c *chain.Chain }

func (l *lateHeaders) Header(id types.Hash) (*types.Header, error) { return l.c.Header(id) }

func (n *Node) nowSlot() uint64 {
	return n.engine.Schedule().SlotAt(uint64(n.opts.Now().UnixMilli()))
}

func (h *handler) nowSlot() uint64 {
	return h.engine.Schedule().SlotAt(uint64(h.now().UnixMilli()))
}

// HandleVote judges a vote from a peer.
func (h *handler) HandleVote(from p2p.PeerInfo, raw []byte) (p2p.Verdict, error) {
	v, err := types.DecodeVote(raw)
	if err != nil {
		h.metrics.rejected.WithLabelValues("vote", rulekind.Malformed).Inc()
		return p2p.Rejected, err
	}
	ch, err := h.ffg.AddVote(v, h.nowSlot())
	switch {
	case err == nil:
	case errors.Is(err, consensus.ErrVoteUnknownBlock):
		// Held until the blocks arrive; the sync fetches them from the sender.
		return p2p.MissingParent, err
	case errors.Is(err, consensus.ErrBadVote):
		h.metrics.rejected.WithLabelValues("vote", rulekind.BadVote).Inc()
		return p2p.Rejected, err
	default: // known, stale, far future: not the sender's fault
		return p2p.Known, err
	}
	h.noteVote(v)
	if ch.NeedSource != nil {
		go h.fetchJustification(from.ID, *ch.NeedSource)
	}
	if len(ch.Justified) > 0 || ch.Final {
		h.refreshChain()
	}
	return p2p.Accepted, nil
}

// refreshChain lets fork choice and finality follow what votes decided.
func (n *Node) refreshChain() {
	res, err := n.chain.Refresh()
	if err != nil {
		n.log.Error("fork choice after a vote failed", "error", err)
		return
	}
	if res != nil {
		n.afterImport(res)
	}
}

// retryVotes counts votes that waited for blocks that have now arrived.
func (n *Node) retryVotes() {
	if n.ffg == nil || !n.ffg.HasPending() {
		return
	}
	ch, err := n.ffg.Retry()
	if err != nil {
		n.log.Error("counting held votes failed", "error", err)
		return
	}
	for _, v := range ch.Counted {
		n.noteVote(v)
		n.net.BroadcastVote(v.Encode(nil))
	}
	if len(ch.Justified) > 0 || ch.Final {
		n.refreshChain()
	}
}

// fetchJustification asks a peer for the votes that justified cp, the
// source of a vote it sent us, and counts them.
func (n *Node) fetchJustification(peer uint64, cp types.Checkpoint) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, votes, err := n.net.RequestFinality(ctx, peer, cp.Epoch, cp.ID)
	if err != nil {
		n.log.Debug("asking for a justification failed", "peer", peer, "checkpoint", cp.String(), "error", err)
		return
	}
	for _, raw := range votes {
		switch v, err := n.gossip.HandleVote(p2p.PeerInfo{ID: peer}, raw); v {
		case p2p.Rejected:
			n.net.Ban(peer, "served an invalid justification vote: "+err.Error())
			return
		case p2p.Accepted:
			n.net.BroadcastVote(raw)
		}
	}
}

// learnFinality asks a peer for its newest certificate and, if it proves a
// later final block than ours, adopts it: a joining or restarted node
// learns finality from certificates, never from the chain's shape.
func (n *Node) learnFinality(ctx context.Context, peer uint64) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	raw, _, err := n.net.RequestFinality(rctx, peer, 0, [32]byte{})
	if err != nil || len(raw) == 0 {
		return
	}
	c, err := types.DecodeCertificate(raw)
	if err != nil {
		n.net.Ban(peer, "served a malformed finality certificate")
		return
	}
	advanced, err := n.ffg.AddCertificate(c)
	if err != nil {
		n.net.Ban(peer, "served an invalid finality certificate: "+err.Error())
		return
	}
	if advanced {
		n.log.Info("learned finality from a certificate", "number", c.Header.Number, "epoch", c.Votes[0].Source.Epoch)
		n.refreshChain()
	}
}

// FinalityEvidence serves FIN requests: the newest certificate, and the
// justification of one checkpoint when asked.
func (c *chainView) FinalityEvidence(epoch uint64, id [32]byte) ([]byte, [][]byte) {
	var cert []byte
	if crt := c.ffg.Certificate(); crt != nil {
		cert = crt.Encode(nil)
	}
	var votes [][]byte
	if id != ([32]byte{}) {
		for _, v := range c.ffg.Justification(types.Checkpoint{Epoch: epoch, ID: id}) {
			votes = append(votes, v.Encode(nil))
		}
	}
	return cert, votes
}

// runVoter votes once per epoch: as soon as the leader's block of the slot
// is imported, or at two thirds of the slot if none came. When in the slot
// a validator votes affects only how soon blocks finalize, never safety.
func (n *Node) runVoter(ctx context.Context) error {
	sched := n.engine.Schedule()
	for {
		now := uint64(n.opts.Now().UnixMilli())
		slot := sched.SlotAt(now)
		due := sched.SlotStart(slot) + sched.IntervalMs*2/3
		wait := time.Duration(0)
		if due > now {
			wait = time.Duration(due-now) * time.Millisecond
		}
		t := n.opts.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case e := <-n.voteNow:
			t.Stop()
			n.castVote(e)
		case <-t.C():
			n.castVote(slot)
			// Sleep into the next slot so one slot gets one timed vote.
			next := sched.SlotStart(slot + 1)
			if now := uint64(n.opts.Now().UnixMilli()); next > now {
				select {
				case <-ctx.Done():
					return nil
				case e := <-n.voteNow:
					n.castVote(e)
				case <-n.opts.Clock.After(time.Duration(next-now) * time.Millisecond):
				}
			}
		}
	}
}

// castVote signs, records (fsync) and sends this validator's vote for
// epoch, if the voting rule allows one and the node is synced.
func (n *Node) castVote(epoch uint64) {
	if !n.sync.Ready() {
		return
	}
	_, headID := n.chain.Head()
	v, err := n.voter.Vote(epoch, headID)
	if err != nil {
		if !errors.Is(err, consensus.ErrNoVote) {
			n.log.Error("voting failed", "epoch", epoch, "error", err)
		} else {
			n.log.Debug("not voting", "epoch", epoch, "reason", err)
		}
		return
	}
	ch, err := n.ffg.AddVote(v, n.nowSlot())
	if err != nil && !errors.Is(err, consensus.ErrVoteKnown) {
		n.log.Error("own vote not counted", "epoch", epoch, "error", err)
	}
	n.noteVote(v)
	n.metrics.votes.Inc()
	n.net.BroadcastVote(v.Encode(nil))
	if len(ch.Justified) > 0 || ch.Final {
		n.refreshChain()
	}
}

// voteEarly asks the voter to vote now for the block's slot, if that is the
// current slot: the leader's block is in.
func (n *Node) voteEarly(h *types.Header) {
	if n.voteNow == nil || h.Slot != n.nowSlot() {
		return
	}
	select {
	case n.voteNow <- h.Slot:
	default:
	}
}
