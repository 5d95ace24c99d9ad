package node

import (
	"errors"
	"sync"
	"time"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/rulekind"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// handler classifies what peers gossip: new, known, missing a parent, held
// for later, or an offence that gets the peer banned. It holds only what
// judging gossip reads; the node's own steps that follow an accepted item
// (importing a block and the work after a commit, recording a vote,
// fetching a vote's justification, fork choice after votes) are funcs the
// node wires in openChain.
type handler struct {
	self    crypto.Address
	now     func() time.Time
	chain   *chain.Chain
	pool    *txpool.Pool
	engine  *consensus.Engine
	ffg     *consensus.Finality
	clock   *consensus.ClockMonitor
	future  *futureBlocks
	metrics *metrics

	importBlock        func(b *types.Block, raw []byte) (p2p.Verdict, error)
	noteVote           func(*types.Vote)
	fetchJustification func(peer uint64, cp types.Checkpoint)
	refreshChain       func()
}

func (h *handler) HandleTxs(from p2p.PeerInfo, raws [][]byte) ([][]byte, p2p.Verdict, error) {
	txs := make([]*types.Transaction, 0, len(raws))
	for _, raw := range raws {
		tx, err := types.DecodeTx(raw)
		if err != nil {
			h.metrics.rejected.WithLabelValues("tx", rulekind.Malformed).Inc()
			return nil, p2p.Rejected, err
		}
		txs = append(txs, tx)
	}
	// A forged transaction condemns the batch: the pool stops verifying at
	// the first bad signature and the peer is banned.
	errs := h.pool.AddFromPeer(txs)
	var relay [][]byte
	for i, err := range errs {
		switch {
		case err == nil:
			relay = append(relay, raws[i])
		case errors.Is(err, txpool.ErrNotVerified):
		case errors.Is(err, txpool.ErrBadSignature), errors.Is(err, txpool.ErrWrongChain), errors.Is(err, txpool.ErrDataTooLarge):
			// A peer must validate before relaying: forwarding a forgery is an offence.
			h.metrics.rejected.WithLabelValues("tx", rulekind.Of(err)).Inc()
			return relay, p2p.Rejected, err
		case errors.Is(err, txpool.ErrKnown):
		default:
			h.metrics.rejected.WithLabelValues("tx", rulekind.Of(err)).Inc()
		}
	}
	if len(relay) == 0 {
		return nil, p2p.Known, nil
	}
	return relay, p2p.Accepted, nil
}

func (h *handler) HandleBlock(from p2p.PeerInfo, raw []byte) (p2p.Verdict, error) {
	now := uint64(h.now().UnixMilli())
	// The id comes from the header alone: a block we have costs no body
	// decode (issue 15: every block was decoded about 8 times per node).
	id, err := types.PeekBlockID(raw)
	if err == nil && h.chain.HasBlock(id) {
		return p2p.Known, nil
	}
	b, err := types.DecodeBlock(raw)
	if err != nil {
		h.metrics.rejected.WithLabelValues("block", rulekind.Malformed).Inc()
		return p2p.Rejected, err
	}
	v, err := h.importBlock(b, raw)
	// Fresh gossip from another authentic sealer tells us how our clock compares.
	if v == p2p.Accepted || errors.Is(err, consensus.ErrFuture) || errors.Is(err, consensus.ErrFarFuture) {
		if b.Header.Sealer != h.self && h.engine.VerifySeal(b) == nil {
			h.clock.Observe(b.Header.Sealer, b.Header.Time, now)
		}
	}
	if v == p2p.Future {
		h.future.add(b, raw)
	}
	return v, err
}

// FillBlock fills a compact block from the pool; a block the chain has
// already needs nothing.
func (h *handler) FillBlock(id types.Hash, ids []types.Hash) ([][]byte, bool) {
	if h.chain.HasBlock(id) {
		return nil, true
	}
	return h.pool.Encodings(ids), false
}

// importBlock imports one block and says what it means for the sender.
func (n *Node) importBlock(b *types.Block, raw []byte) (p2p.Verdict, error) {
	start := time.Now()
	res, err := n.chain.ImportBlock(b, raw)
	switch {
	case err == nil:
		n.noteImport(time.Since(start), len(b.Txs))
		n.afterImport(res)
		return p2p.Accepted, nil
	case errors.Is(err, chain.ErrKnownBlock):
		return p2p.Known, nil
	case errors.Is(err, chain.ErrUnknownParent):
		return p2p.MissingParent, err
	case errors.Is(err, consensus.ErrFuture):
		return p2p.Future, err
	case errors.Is(err, consensus.ErrFarFuture), errors.Is(err, chain.ErrBelowFinalized):
		// Possibly our clock, or a peer stranded on an old branch: not an offence.
		n.log.Debug("ignoring block", "number", b.Header.Number, "id", b.ID(), "reason", err)
		return p2p.Known, err
	case errors.Is(err, chain.ErrCorrupt):
		n.log.Error("database error while importing a block", "error", err)
		return p2p.Known, err
	default:
		n.metrics.rejected.WithLabelValues("block", rulekind.Of(err)).Inc()
		n.log.Warn("rejected block", "number", b.Header.Number, "id", b.ID(), "sealer", b.Header.Sealer, "reason", err)
		return p2p.Rejected, err
	}
}

// noteImport records how long a peer's block took to import, and moves
// the pool's admission limit with the block budget it implies.
func (n *Node) noteImport(d time.Duration, txs int) {
	n.imports.observe(d, txs)
	budget := n.txBudget()
	n.metrics.txBudget.Set(float64(budget))
	n.pool.SetMaxPending(maxPending(n.opts.Config, n.g.File.BlockMining.MaxBound, n.g.MaxBlockBytes, budget))
}

// txBudget is the most transactions a block should hold for peers to
// import it within its slot's share (0: nothing measured yet).
func (n *Node) txBudget() int {
	return n.imports.budget(time.Duration(n.g.IntervalMs) * time.Millisecond)
}

// afterImport updates the pool, metrics and logs after any committed block.
func (n *Node) afterImport(res *chain.Result) {
	if res.Reorg != nil {
		n.metrics.reorgs.Inc()
	}
	n.retryVotes()
	if !res.Head {
		return
	}
	n.voteEarly(res.Header)
	n.resetPool(res)
	n.metrics.height.Set(float64(res.Header.Number))
	n.metrics.txsApplied.Add(float64(len(res.Included)))
	now := n.opts.Now().UnixMilli()
	if last := n.lastHead.Swap(now); last > 0 {
		n.metrics.blockInterval.Observe(float64(now-last) / 1000)
	}
	if res.Finalized != nil {
		n.metrics.finalized.Set(float64(res.Finalized.Number))
	}
	st := n.pool.Stats()
	n.metrics.poolPending.Set(float64(st.Pending))
	n.metrics.poolQueued.Set(float64(st.Queued))
	n.log.Debug("new head", "number", res.Header.Number, "id", res.ID, "txs", len(res.Included), "sealer", res.Header.Sealer)
}

// resetPool moves the pool to the new head and returns a reorg's
// abandoned transactions to it. One the pool refuses for anything but
// being there already is lost to this node (its client was told it was
// accepted), so each such refusal is logged.
func (n *Node) resetPool(res *chain.Result) {
	h := txpool.Head{Root: res.Header.StateRoot, Touched: res.Touched}
	if res.Reorg != nil {
		h.Abandoned = res.Reorg.Abandoned
	}
	refused := map[string]int{}
	var first *types.Transaction
	var firstErr error
	for i, err := range n.pool.Reset(h) {
		if err != nil && !errors.Is(err, txpool.ErrKnown) {
			if first == nil {
				first, firstErr = h.Abandoned[i], err
			}
			refused[rulekind.Of(err)]++
		}
	}
	if first != nil {
		n.log.Warn("reorg: abandoned transactions refused by the pool", "returned", len(h.Abandoned), "refused", refused,
			"first", first.ID(), "from", first.From, "nonce", first.Nonce, "error", firstErr)
	}
}

func (n *Node) onChainEvent(ev chain.Event) {
	switch ev.Kind {
	case "finalized":
		n.log.Debug("finalized", "number", ev.Header.Number, "id", ev.ID)
	case "reorg":
		n.log.Info("reorg", "depth", ev.Depth, "old-head", ev.OldHead, "new-head", ev.ID)
	}
	n.hub.Publish(ev)
}

// chainView is what the network serves to peers: blocks, the leader
// schedule, finality evidence and snapshots.
type chainView struct {
	chain *chain.Chain
	sched consensus.Schedule
	ffg   *consensus.Finality
	snap  *snapshot.Server
}

var _ p2p.SnapshotSource = (*chainView)(nil)

func (c *chainView) Head() (uint64, [32]byte, uint64) {
	h, id := c.chain.Head()
	f, _ := c.chain.Finalized()
	return h.Number, id, f.Number
}

func (c *chainView) BlocksByNumber(from uint64, count int, maxBytes int) [][]byte {
	var out [][]byte
	size := 0
	for i := 0; i < count; i++ {
		id, err := c.chain.CanonicalID(from + uint64(i))
		if err != nil {
			break
		}
		raw, err := c.chain.RawBlock(id)
		if err != nil || (size+len(raw) > maxBytes && len(out) > 0) {
			break
		}
		size += len(raw)
		out = append(out, raw)
	}
	return out
}

func (c *chainView) BlockByID(id [32]byte) []byte {
	raw, err := c.chain.RawBlock(id)
	if err != nil {
		return nil
	}
	return raw
}

func (c *chainView) Leader(nowMs uint64) (uint64, crypto.Address) {
	slot := c.sched.SlotAt(nowMs)
	return slot, c.sched.Leader(slot)
}

func (c *chainView) SnapshotManifest() ([]byte, error) { return c.snap.Manifest(), nil }

func (c *chainView) SnapshotChunk(height, index uint64) ([]byte, error) {
	return c.snap.Chunk(height, index)
}

// futureBlocks holds authentic blocks up to two slots early until their
// slot starts (a clock slightly ahead is not an offence).
type futureBlocks struct {
	mu  sync.Mutex
	max int
	m   map[types.Hash]held
}

type held struct {
	b   *types.Block
	raw []byte
}

func newFutureBlocks(max int) *futureBlocks {
	return &futureBlocks{max: max, m: make(map[types.Hash]held)}
}

func (f *futureBlocks) add(b *types.Block, raw []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) < f.max {
		f.m[b.ID()] = held{b, raw}
	}
}

// due removes and returns the blocks whose slot has started.
func (f *futureBlocks) due(slot uint64) []held {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []held
	for id, h := range f.m {
		if h.b.Header.Slot <= slot {
			out = append(out, h)
			delete(f.m, id)
		}
	}
	return out
}
