package node

import (
	"sync/atomic"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/types"
)

// netView is the Chain the network serves from. The network starts before
// the chain is open (a node fetching a snapshot first), so until openChain
// hands it the chainView it presents the genesis block only and serves
// nothing.
type netView struct {
	genesisID [32]byte
	sched     consensus.Schedule
	open      atomic.Pointer[chainView]
}

var _ p2p.SnapshotSource = (*netView)(nil)

func (v *netView) Head() (uint64, [32]byte, uint64) {
	c := v.open.Load()
	if c == nil {
		return 1, v.genesisID, 1
	}
	return c.Head()
}

func (v *netView) BlocksByNumber(from uint64, count int, maxBytes int) [][]byte {
	c := v.open.Load()
	if c == nil {
		return nil
	}
	return c.BlocksByNumber(from, count, maxBytes)
}

// Leader needs only the schedule, which exists before the chain.
func (v *netView) Leader(nowMs uint64) (uint64, crypto.Address) {
	slot := v.sched.SlotAt(nowMs)
	return slot, v.sched.Leader(slot)
}

func (v *netView) FinalityEvidence(epoch uint64, id [32]byte) ([]byte, [][]byte) {
	c := v.open.Load()
	if c == nil {
		return nil, nil
	}
	return c.FinalityEvidence(epoch, id)
}

func (v *netView) BlockByID(id [32]byte) []byte {
	c := v.open.Load()
	if c == nil {
		return nil
	}
	return c.BlockByID(id)
}

func (v *netView) SnapshotManifest() ([]byte, error) {
	c := v.open.Load()
	if c == nil {
		return nil, nil
	}
	return c.SnapshotManifest()
}

func (v *netView) SnapshotChunk(height, index uint64) ([]byte, error) {
	c := v.open.Load()
	if c == nil {
		return nil, nil
	}
	return c.SnapshotChunk(height, index)
}

// netHandler ignores gossip until openChain hands it the handler: a node
// fetching a snapshot cannot judge blocks yet, and they are not the
// sender's fault.
type netHandler struct{ open atomic.Pointer[handler] }

func (g *netHandler) HandleTxs(from p2p.PeerInfo, raws [][]byte) ([][]byte, p2p.Verdict, error) {
	h := g.open.Load()
	if h == nil {
		return nil, p2p.Known, nil
	}
	return h.HandleTxs(from, raws)
}

func (g *netHandler) HandleVote(from p2p.PeerInfo, raw []byte) (p2p.Verdict, error) {
	h := g.open.Load()
	if h == nil {
		return p2p.Known, nil
	}
	return h.HandleVote(from, raw)
}

func (g *netHandler) FillBlock(id types.Hash, ids []types.Hash) ([][]byte, bool) {
	h := g.open.Load()
	if h == nil {
		return nil, true
	}
	return h.FillBlock(id, ids)
}

func (g *netHandler) HandleBlock(from p2p.PeerInfo, raw []byte) (p2p.Verdict, error) {
	h := g.open.Load()
	if h == nil {
		return p2p.Known, nil
	}
	return h.HandleBlock(from, raw)
}
