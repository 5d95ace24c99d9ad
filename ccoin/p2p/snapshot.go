package p2p

import (
	"context"
	"fmt"

	"ccoin/ccoin/p2p/wire"
)

// SnapshotSource is optionally implemented by the Chain passed to New; a
// network whose chain lacks it answers snapshot requests with "none".
// Both methods run on the asking peer's reader goroutine, so they must be
// quick: SnapshotManifest returns a cached manifest (nil while none is
// ready) rather than walking the state, and SnapshotChunk returns nil for a
// height or index it no longer serves. The chunks must be those the served
// manifest lists; the network passes them on without looking inside.
type SnapshotSource interface {
	SnapshotManifest() ([]byte, error)
	SnapshotChunk(height, index uint64) ([]byte, error)
}

// serveSnapshot answers GetSnapshot from the chain's SnapshotSource.
func (p *peer) serveSnapshot(m *wire.GetSnapshot) *wire.Snapshot {
	var data []byte
	if src, ok := p.n.chain.(SnapshotSource); ok {
		d, err := src.SnapshotManifest()
		if err != nil {
			p.log.Debug("no snapshot manifest to serve", "error", err)
		} else if len(d) <= wire.MaxManifest && len(d)+wire.HeaderLen+64 <= p.n.cfg.MaxFrame {
			data = d
		}
	}
	return &wire.Snapshot{ReqID: m.ReqID, Manifest: data}
}

// serveChunk answers GetChunk; a chunk that would not fit in a frame is
// answered as missing (the asker would otherwise ban us for the frame).
func (p *peer) serveChunk(m *wire.GetChunk) *wire.Chunk {
	var data []byte
	if src, ok := p.n.chain.(SnapshotSource); ok {
		d, err := src.SnapshotChunk(m.Height, m.Index)
		if err != nil {
			p.log.Debug("no snapshot chunk to serve", "height", m.Height, "index", m.Index, "error", err)
		} else if len(d)+wire.HeaderLen+64 <= p.n.cfg.MaxFrame {
			data = d
		}
	}
	return &wire.Chunk{ReqID: m.ReqID, Index: m.Index, Data: data}
}

// RequestSnapshot asks a peer for its snapshot manifest; an empty answer
// means the peer has none to offer. The manifest is not checked here.
func (n *Network) RequestSnapshot(ctx context.Context, peerID uint64) ([]byte, error) {
	id := n.reqSeq.Add(1)
	a, _, err := n.request(ctx, peerID, &wire.GetSnapshot{ReqID: id}, wire.HdrSnapshot)
	if err != nil {
		return nil, err
	}
	return a.(*wire.Snapshot).Manifest, nil
}

// RequestChunk asks a peer for chunk index of its snapshot at height; an
// empty answer means it does not serve that chunk (any more). An answer
// naming another index gets the peer banned. The data is not checked here.
func (n *Network) RequestChunk(ctx context.Context, peerID uint64, height, index uint64) ([]byte, error) {
	id := n.reqSeq.Add(1)
	a, p, err := n.request(ctx, peerID, &wire.GetChunk{ReqID: id, Height: height, Index: index}, wire.HdrChunk)
	if err != nil {
		return nil, err
	}
	c := a.(*wire.Chunk)
	if c.Index != index {
		p.misbehave(fmt.Sprintf("answered chunk %d to a request for chunk %d", c.Index, index))
		return nil, fmt.Errorf("%w: chunk %d for %d asked", ErrBadAnswer, c.Index, index)
	}
	return c.Data, nil
}
