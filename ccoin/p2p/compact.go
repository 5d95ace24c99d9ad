package p2p

import (
	"context"
	"fmt"
	"sync"

	"ccoin/ccoin/p2p/wire"
	"ccoin/ccoin/types"
)

// Compact block bounds.
const (
	recentBlocks    = 8 // blocks whose transactions we serve to peers filling a compact block
	maxBlockFetches = 8 // compact blocks being completed at once, all peers together
)

// recentSet keeps the transactions of the last blocks this node sent, so
// that peers filling them from their pools can ask for what they lack.
// The sealer broadcasts before its own commit, so the chain may not have
// the block yet when the first requests arrive.
type recentSet struct {
	mu     sync.Mutex
	blocks [recentBlocks]recentBlock
	next   int
}

type recentBlock struct {
	id  types.Hash
	txs [][]byte
}

func (s *recentSet) add(id types.Hash, txs [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.blocks {
		if b.id == id && b.txs != nil {
			return
		}
	}
	s.blocks[s.next] = recentBlock{id, txs}
	s.next = (s.next + 1) % recentBlocks
}

func (s *recentSet) get(id types.Hash) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.blocks {
		if b.id == id && b.txs != nil {
			return b.txs
		}
	}
	return nil
}

// fetchSet bounds and deduplicates the compact blocks being completed: one
// block announced by three peers at once is fetched once.
type fetchSet struct {
	mu     sync.Mutex
	active map[types.Hash]bool
}

func (f *fetchSet) start(id types.Hash) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active[id] || len(f.active) >= maxBlockFetches {
		return false
	}
	if f.active == nil {
		f.active = make(map[types.Hash]bool)
	}
	f.active[id] = true
	return true
}

func (f *fetchSet) done(id types.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.active, id)
}

// BroadcastBlock announces block (a canonical block encoding) as a compact
// block (CBK: its head and transaction ids) to every peer that does not
// know it, and keeps its transactions to serve their GetBlockTxs.
func (n *Network) BroadcastBlock(block []byte) {
	id, head, txs, ids, err := types.SplitBlock(block)
	if err != nil {
		n.log.Warn("cannot broadcast block", "error", err)
		return
	}
	n.announceCompact(id, head, txs, ids)
}

func (n *Network) announceCompact(id types.Hash, head []byte, txs [][]byte, ids []types.Hash) {
	cb := &wire.CompactBlock{Head: head, TxIDs: make([]byte, 0, len(ids)*wire.TxIDLen)}
	for _, x := range ids {
		cb.TxIDs = append(cb.TxIDs, x[:]...)
	}
	h, body, err := wire.Encode(cb)
	if err != nil {
		n.log.Warn("cannot broadcast block", "error", err)
		return
	}
	if len(body)+wire.HeaderLen > n.cfg.MaxFrame {
		n.log.Warn("cannot broadcast block", "error", "larger than a frame", "size", len(body))
		return
	}
	n.recent.add(id, txs)
	key := n.itemKey(id[:])
	for _, p := range n.allPeers() {
		if p.markKnown(key) {
			p.enqueue(h, body)
		}
	}
}

// blockKey is the gossip key of a block, by its id (a compact and a whole
// copy of one block are one item), or of its bytes when they name none.
func (n *Network) blockKey(block []byte) uint64 {
	if id, err := types.PeekBlockID(block); err == nil {
		return n.itemKey(id[:])
	}
	return n.itemKey(block)
}

// RequestBlockTxs asks a peer for transactions of a block it announced, by
// index (increasing). The answer must hold exactly the transactions asked
// for, or none when the peer no longer holds the block.
func (n *Network) RequestBlockTxs(ctx context.Context, peerID uint64, id types.Hash, indexes []uint32) ([][]byte, error) {
	req := &wire.GetBlockTxs{ReqID: n.reqSeq.Add(1), BlockID: id[:], Indexes: indexes}
	a, p, err := n.request(ctx, peerID, req, wire.HdrBlockTxs)
	if err != nil {
		return nil, err
	}
	txs := a.(*wire.BlockTxs).Txs
	if len(txs) != 0 && len(txs) != len(indexes) {
		p.misbehave(fmt.Sprintf("answered %d block transactions to a request for %d", len(txs), len(indexes)))
		return nil, fmt.Errorf("%w: %d block transactions for %d asked", ErrBadAnswer, len(txs), len(indexes))
	}
	return txs, nil
}

// handleCompact fills a compact block from the node's pool; what the pool
// lacks is fetched from the sender on another goroutine, since the answer
// comes through this peer's read loop. A non-empty result is a reason to
// ban.
func (p *peer) handleCompact(m *wire.CompactBlock) string {
	hb, err := types.DecodeBlock(m.Head)
	if err != nil || len(hb.Txs) != 0 {
		return fmt.Sprintf("malformed compact block head: %v", err)
	}
	id := hb.ID()
	p.markKnown(p.n.itemKey(id[:]))
	ids := make([]types.Hash, m.Count())
	for i := range ids {
		ids[i] = m.TxID(i)
	}
	txs, known := p.n.handler.FillBlock(id, ids)
	if known {
		return ""
	}
	if len(txs) != len(ids) {
		txs = make([][]byte, len(ids))
	}
	var missing []uint32
	for i, tx := range txs {
		if tx == nil {
			missing = append(missing, uint32(i))
		}
	}
	if len(missing) == 0 {
		return p.completeBlock(id, m.Head, txs, ids)
	}
	if !p.n.fetches.start(id) {
		// Another peer's copy is being completed, or too many are: the
		// block arrives from that fetch, or through sync when its child
		// names it as parent.
		p.log.Debug("not completing compact block now", "id", id, "missing", len(missing))
		return ""
	}
	p.n.wg.Add(1)
	go func() {
		defer p.n.wg.Done()
		defer p.n.fetches.done(id)
		if reason := p.fetchMissing(id, m.Head, txs, ids, missing); reason != "" {
			p.misbehave(reason)
		}
	}()
	return ""
}

// fetchMissing asks the sender for the transactions the pool lacked, checks
// each against its id, and completes the block.
func (p *peer) fetchMissing(id types.Hash, head []byte, txs [][]byte, ids []types.Hash, missing []uint32) string {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.n.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	got, err := p.n.RequestBlockTxs(ctx, p.info.ID, id, missing)
	if err != nil || len(got) == 0 {
		p.log.Debug("could not complete compact block", "id", id, "missing", len(missing), "error", err)
		return ""
	}
	for j, raw := range got {
		i := missing[j]
		tx, err := types.DecodeTx(raw)
		if err != nil {
			return fmt.Sprintf("block transaction %d does not decode: %v", i, err)
		}
		if tx.ID() != ids[i] {
			return fmt.Sprintf("block transaction %d is not the one announced", i)
		}
		txs[i] = raw
	}
	return p.completeBlock(id, head, txs, ids)
}

// completeBlock assembles a filled compact block and judges it as a block
// that arrived whole; an accepted one is relayed compact from the parts at
// hand, so the block is parsed once here (by the handler), not again to
// relay it.
func (p *peer) completeBlock(id types.Hash, head []byte, txs [][]byte, ids []types.Hash) string {
	raw, err := types.AssembleBlock(head, txs)
	if err != nil {
		return fmt.Sprintf("compact block: %v", err)
	}
	return p.judgeBlock(raw, func() { p.n.announceCompact(id, head, txs, ids) })
}

// handleBlock judges a block that arrived whole (BLK) and relays it
// compact when accepted, since a peer that counts us as a stranger would
// refuse a whole block over its UnaskedFrame.
func (p *peer) handleBlock(raw []byte) string {
	return p.judgeBlock(raw, func() { p.n.BroadcastBlock(raw) })
}

// judgeBlock hands a whole block to the handler and acts on its verdict.
func (p *peer) judgeBlock(raw []byte, relay func()) string {
	n := p.n
	p.markKnown(n.blockKey(raw))
	v, err := n.handler.HandleBlock(p.snapshot(), raw)
	switch v {
	case Rejected:
		return fmt.Sprintf("block rejected: %v", err)
	case Accepted:
		relay()
	case MissingParent:
		n.emit(PeerEvent{Type: EventMissingParent, Peer: p.snapshot()})
	}
	if err != nil && v != Accepted {
		p.log.Debug("block not accepted", "verdict", v.String(), "error", err)
	}
	return ""
}

// serveBlockTxs answers GetBlockTxs from the blocks this node sent lately,
// else from its chain; empty when it has neither, or the answer would not
// fit a frame.
func (p *peer) serveBlockTxs(m *wire.GetBlockTxs) *wire.BlockTxs {
	out := &wire.BlockTxs{ReqID: m.ReqID}
	var id types.Hash
	copy(id[:], m.BlockID)
	txs := p.n.recent.get(id)
	if txs == nil {
		if raw := p.n.chain.BlockByID(id); raw != nil {
			if _, _, all, _, err := types.SplitBlock(raw); err == nil {
				txs = all
			}
		}
	}
	budget := p.n.cfg.MaxFrame - wire.HeaderLen - 64
	size := 0
	for _, i := range m.Indexes {
		if int(i) >= len(txs) {
			return &wire.BlockTxs{ReqID: m.ReqID}
		}
		if size += len(txs[i]) + 5; size > budget {
			return &wire.BlockTxs{ReqID: m.ReqID}
		}
		out.Txs = append(out.Txs, txs[i])
	}
	return out
}
