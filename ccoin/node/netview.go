package node

import (
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p"
)

// netView is the Chain the network serves from. Until the chain is open
// (a node fetching a snapshot first) it presents the genesis block only
// and serves nothing; then it is the chainView plus the snapshot source.
type netView struct{ n *Node }

var _ p2p.SnapshotSource = netView{}

func (v netView) Head() (uint64, [32]byte, uint64) {
	if !v.n.built.Load() {
		return 1, v.n.g.ChainID, 1
	}
	return chainView(v).Head()
}

func (v netView) BlocksByNumber(from uint64, count int, maxBytes int) [][]byte {
	if !v.n.built.Load() {
		return nil
	}
	return chainView(v).BlocksByNumber(from, count, maxBytes)
}

func (v netView) Leader(nowMs uint64) (uint64, crypto.Address) {
	s := v.n.engine.Schedule()
	slot := s.SlotAt(nowMs)
	return slot, s.Leader(slot)
}

func (v netView) FinalityEvidence(epoch uint64, id [32]byte) ([]byte, [][]byte) {
	if !v.n.built.Load() {
		return nil, nil
	}
	return chainView(v).FinalityEvidence(epoch, id)
}

func (v netView) SnapshotManifest() ([]byte, error) {
	if !v.n.built.Load() {
		return nil, nil
	}
	return v.n.snap.Manifest(), nil
}

func (v netView) SnapshotChunk(height, index uint64) ([]byte, error) {
	if !v.n.built.Load() {
		return nil, nil
	}
	return v.n.snap.Chunk(height, index)
}

// netHandler ignores gossip until the chain is open: a node fetching a
// snapshot cannot judge blocks yet, and they are not the sender's fault.
type netHandler struct{ n *Node }

func (h netHandler) HandleTxs(from p2p.PeerInfo, raws [][]byte) ([][]byte, p2p.Verdict, error) {
	if !h.n.built.Load() {
		return nil, p2p.Known, nil
	}
	return handler(h).HandleTxs(from, raws)
}

func (h netHandler) HandleVote(from p2p.PeerInfo, raw []byte) (p2p.Verdict, error) {
	if !h.n.built.Load() {
		return p2p.Known, nil
	}
	return handler(h).HandleVote(from, raw)
}

func (h netHandler) HandleBlock(from p2p.PeerInfo, raw []byte) (p2p.Verdict, error) {
	if !h.n.built.Load() {
		return p2p.Known, nil
	}
	return handler(h).HandleBlock(from, raw)
}
