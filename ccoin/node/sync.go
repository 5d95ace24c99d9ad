package node

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/types"
)

// Sync states.
const (
	StateBoot    = "boot"
	StateSyncing = "syncing"
	StateReady   = "ready"
)

const (
	syncBatch       = 256
	syncTick        = time.Second
	progressEvery   = 5 * time.Second
	defaultBootWait = 3 * time.Second
	maxRegossip     = 10000
	regossipSlots   = 5 // a pending transaction older than this is offered again
)

// syncer is the boot -> syncing -> ready state machine. It asks peers for
// their heads, downloads missing blocks in batches from the best peer
// (moving to another when one stalls, lies or serves invalid blocks), and
// reports ready once no peer is ahead. Gossip keeps a ready node current; a
// block with an unknown parent sends it back to fetch the ancestors.
type syncer struct {
	n      *Node
	mu     sync.Mutex
	st     string
	wake   chan uint64          // peer ids that announced a block we could not attach
	failed map[uint64]time.Time // peers to skip until the time given
}

// skipFor is how long the syncer skips a peer that failed it: briefly for a
// request that timed out (a busy peer under load; skipping it for a minute
// kept a node on a minority branch, and so finality stalled, for a minute),
// longer for a peer whose chain leaves our final block.
func (s *syncer) skipFor(offChain bool) time.Duration {
	if offChain {
		return time.Minute
	}
	slot := time.Duration(s.n.g.IntervalMs) * time.Millisecond
	return min(max(10*slot, 5*time.Second), time.Minute)
}

func newSyncer(n *Node) *syncer {
	s := &syncer{n: n, st: StateBoot, wake: make(chan uint64, 16), failed: make(map[uint64]time.Time)}
	s.set(StateBoot)
	return s
}

func (s *syncer) state() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *syncer) ready() bool { return s.state() == StateReady }

func (s *syncer) set(st string) {
	s.mu.Lock()
	old := s.st
	s.st = st
	s.mu.Unlock()
	for _, x := range []string{StateBoot, StateSyncing, StateReady} {
		v := 0.0
		if x == st {
			v = 1
		}
		s.n.metrics.syncState.WithLabelValues(x).Set(v)
	}
	if old != st {
		s.n.log.Info("sync state", "from", old, "to", st)
	}
}

func (s *syncer) run(ctx context.Context) error {
	boot := s.n.opts.BootTimeout
	if boot <= 0 {
		boot = defaultBootWait
	}
	// boot: give the dialer a moment to find peers before judging our height.
	deadline := time.Now().Add(boot)
	for len(s.n.net.Peers()) == 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
	go s.watchEvents(ctx)
	t := time.NewTicker(syncTick)
	defer t.Stop()
	for {
		s.round(ctx, 0)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case id := <-s.wake:
			s.round(ctx, id)
		}
	}
}

func (s *syncer) watchEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.n.net.Events():
			if !ok {
				return
			}
			if ev.Type == p2p.EventConnected {
				s.n.regossipPool()
			}
			if ev.Type == p2p.EventMissingParent || ev.Type == p2p.EventConnected {
				select {
				case s.wake <- ev.Peer.ID:
				default:
				}
			}
		}
	}
}

type peerHead struct {
	id        uint64
	height    uint64
	finalized uint64
}

// round asks peers for their heads and catches up with the best one; a
// non-zero prefer is a peer that just showed us a block we cannot attach.
func (s *syncer) round(ctx context.Context, prefer uint64) {
	heads := s.peerHeads(ctx)
	defer s.learnFinality(ctx, heads)
	head, _ := s.n.chain.Head()
	for len(heads) > 0 {
		best := heads[0]
		for _, h := range heads {
			if h.id == prefer {
				best = h
			}
		}
		if best.height <= head.Number && best.id != prefer {
			break
		}
		if best.height > head.Number+1 || s.state() == StateBoot {
			s.set(StateSyncing)
		}
		if s.catchUp(ctx, best) {
			break
		}
		// That peer failed us; try the next best.
		heads = heads[1:]
		prefer = 0
		if ctx.Err() != nil {
			return
		}
	}
	s.set(StateReady)
}

// learnFinality fetches the certificate of the peer with the highest
// final block when it is above ours: finality comes from certificates,
// never from the chain's shape.
func (s *syncer) learnFinality(ctx context.Context, heads []peerHead) {
	final, _ := s.n.chain.Finalized()
	var best *peerHead
	for i := range heads {
		if heads[i].finalized > final.Number && (best == nil || heads[i].finalized > best.finalized) {
			best = &heads[i]
		}
	}
	if best != nil {
		s.n.learnFinality(ctx, best.id)
	}
}

// peerHeads returns connected peers ordered by height, best first,
// skipping peers that recently failed us.
func (s *syncer) peerHeads(ctx context.Context) []peerHead {
	var out []peerHead
	for id, t := range s.failed {
		if !time.Now().Before(t) {
			delete(s.failed, id)
		}
	}
	for _, p := range s.n.net.Peers() {
		if t, bad := s.failed[p.ID]; bad && time.Now().Before(t) {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		h, _, fin, err := s.n.net.RequestHead(rctx, p.ID)
		cancel()
		if err != nil {
			continue
		}
		out = append(out, peerHead{p.ID, h, fin})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].height > out[j].height })
	return out
}

// catchUp downloads and imports blocks from one peer until it has nothing
// more for us. It returns false when the peer stalled or misbehaved.
func (s *syncer) catchUp(ctx context.Context, p peerHead) bool {
	head, _ := s.n.chain.Head()
	final, _ := s.n.chain.Finalized()
	from := head.Number + 1
	if p.height <= head.Number {
		// Same height or lower but it showed us an unknown parent: a fork.
		from = final.Number + 1
	}
	start, done := time.Now(), uint64(0)
	lastLog := start
	total := p.height
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		raws, err := s.n.net.RequestBlocks(rctx, p.id, from, syncBatch)
		cancel()
		if err != nil {
			s.n.log.Debug("sync request failed", "peer", p.id, "from", from, "error", err)
			s.failed[p.id] = time.Now().Add(s.skipFor(false))
			return false
		}
		if len(raws) == 0 {
			// A peer started from a snapshot has no blocks below its base:
			// it claims the height but serves nothing, so try another peer.
			return done > 0 || p.height < from
		}
		forked := false
		for i, raw := range raws {
			b, err := types.DecodeBlock(raw)
			if err != nil || b.Header.Number != from+uint64(i) {
				s.n.net.Ban(p.id, "served a malformed or out-of-order block during sync")
				return false
			}
			v, err := s.n.importBlock(b, raw)
			switch v {
			case p2p.Accepted, p2p.Known:
				done++
			case p2p.MissingParent:
				// Its chain forks below our head: go back to our finalized block.
				if from > final.Number+1 {
					from, forked = final.Number+1, true
				} else {
					// Its chain leaves our finalized block: a peer still
					// catching up on an abandoned branch, or (beyond the fault
					// bounds) a conflicting finality. Skip it for a while
					// rather than ban it: nothing of its branch is imported.
					s.n.log.Warn("peer's chain does not contain our finalized block; not syncing from it for a minute",
						"peer", p.id, "finalized", final.Number)
					s.failed[p.id] = time.Now().Add(s.skipFor(true))
					return false
				}
			case p2p.Future:
				s.n.future.add(b, raw)
				return true
			case p2p.Rejected:
				s.n.net.Ban(p.id, "served an invalid block during sync: "+err.Error())
				s.failed[p.id] = time.Now().Add(s.skipFor(true))
				return false
			}
			if forked {
				break
			}
		}
		if !forked {
			from += uint64(len(raws))
		}
		if time.Since(lastLog) >= progressEvery {
			lastLog = time.Now()
			rate := float64(done) / time.Since(start).Seconds()
			h, _ := s.n.chain.Head()
			left := float64(0)
			if total > h.Number {
				left = float64(total-h.Number) / max(rate, 1e-9)
			}
			s.n.log.Info("sync progress", "height", h.Number, "target", total, "blocks-per-sec", int(rate),
				"eta", time.Duration(left*float64(time.Second)).Round(time.Second))
		}
	}
	return true
}

// regossipPool offers our pending transactions again when a peer connects:
// a node that was cut off may hold transactions the others never saw.
// The network sends each only to peers that do not know it yet.
func (n *Node) regossipPool() { n.offerTxs(n.pool.Content(maxRegossip)) }

// runRegossip re-offers, every regossipSlots slots, the pending transactions
// that have waited that long. Without it, transactions whose only copy left
// this node on a connection that was then dropped (a peer too slow for the
// load) stayed here until some peer reconnected.
func (n *Node) runRegossip(ctx context.Context) error {
	every := max(time.Duration(regossipSlots*n.g.IntervalMs)*time.Millisecond, time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			n.offerTxs(n.pool.Stale(every, maxRegossip))
		}
	}
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
	t := time.NewTicker(time.Duration(max(sched.IntervalMs/10, 10)) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		slot := sched.SlotAt(uint64(n.opts.Now().UnixMilli()))
		for _, h := range n.future.due(slot) {
			if v, err := n.importBlock(h.b, h.raw); v == p2p.Accepted {
				n.net.BroadcastBlock(h.raw)
			} else if err != nil && !errors.Is(err, chain.ErrKnownBlock) {
				n.log.Debug("held block still not importable", "number", h.b.Header.Number, "error", err)
			}
		}
	}
}
