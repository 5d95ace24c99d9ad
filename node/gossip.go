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

// runRegossip re-offers, every regossipSlots slots, the pending transactions
// that have waited that long. Without it, transactions whose only copy left
// this node on a connection that was then dropped stayed here until some
// peer reconnected; and it is how a peer whose transaction backlog was full
// (p2p's queueTxs left them out, unknown to it) gets them once it caught up.
func (n *Node) runRegossip(ctx context.Context) error {
	every := max(time.Duration(regossipSlots*n.g.IntervalMs)*time.Millisecond, time.Second)
	clock.Every(ctx, n.opts.Clock, every, func() { n.offerTxs(n.pool.Stale(every, maxRegossip)) })
	return nil
}

func (n *Node) offerTxs(txs []*types.Transaction) {
	if len(txs) == 0 {
		return
	}
	raws := make([][]byte, len(txs))
	for i, tx := range txs {
		raws[i] = tx.Encode(nil)
	}
	n.net.BroadcastTxs(raws)
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
