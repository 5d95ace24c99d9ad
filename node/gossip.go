package node

import (
	"context"
	"errors"
	"time"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/clock"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/types"
)

const (
	maxRegossip   = 10000
	regossipSlots = 5 // a pending transaction older than this is offered again
)

// regossipPool offers our pending transactions again when a peer connects
// (the syncer's OnConnect): a node that was cut off may hold transactions
// the others never saw. The network sends each only to peers that do not
// know it yet.
func (n *Node) regossipPool() { n.offerTxs(n.pool.Content(maxRegossip)) }

// runRegossip sends again, every regossipSlots slots, the pending
// transactions that have waited that long, to every peer, whether it was
// sent them before or not. Without it, transactions whose only copy left
// this node on a connection that was then dropped stayed here until some
// peer reconnected; a peer whose transaction backlog was full (p2p's
// queueTxs left them out) got them only by chance; and one that refused
// them as too far ahead of a sender's nonce (its earlier ones were
// delayed) never got them again, since it was marked as knowing them.
func (n *Node) runRegossip(ctx context.Context) error {
	every := max(time.Duration(regossipSlots*n.g.IntervalMs)*time.Millisecond, time.Second)
	clock.Every(ctx, n.opts.Clock, every, func() {
		if raws := encodeTxs(n.pool.Stale(every, maxRegossip)); len(raws) > 0 {
			n.net.RegossipTxs(raws)
		}
	})
	return nil
}

func (n *Node) offerTxs(txs []*types.Transaction) {
	if raws := encodeTxs(txs); len(raws) > 0 {
		n.net.BroadcastTxs(raws)
	}
}

func encodeTxs(txs []*types.Transaction) [][]byte {
	raws := make([][]byte, len(txs))
	for i, tx := range txs {
		raws[i] = tx.Encode(nil)
	}
	return raws
}

// runFuture retries held near-future blocks once their slot starts.
func (n *Node) runFuture(ctx context.Context) error {
	sched := n.engine.Schedule()
	clock.Every(ctx, n.opts.Clock, time.Duration(max(sched.IntervalMs/10, 10))*time.Millisecond, func() {
		slot := sched.SlotAt(uint64(n.opts.Now().UnixMilli()))
		for _, h := range n.future.due(slot) {
			if v, err := n.importBlock(h.b, h.raw); v == p2p.Accepted {
				n.net.BroadcastBlock(h.raw)
			} else if err != nil && !errors.Is(err, chain.ErrKnownBlock) {
				n.log.Debug("held block still not importable", "number", h.b.Header.Number, "error", err)
			}
		}
	})
	return nil
}
