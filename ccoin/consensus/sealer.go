package consensus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// Chain is what the sealer needs from the chain.
type Chain interface {
	// Head returns the canonical head and its id.
	Head() (*types.Header, types.Hash)
	// BuildBlock executes txs on the parent's state, drops the invalid ones,
	// fills TxRoot and StateRoot and returns an unsealed block.
	BuildBlock(parent types.Hash, h types.Header, txs []*types.Transaction) (*types.Block, error)
	// ImportOwn commits our own sealed block.
	ImportOwn(b *types.Block) error
}

// Pool is what the sealer needs from the transaction pool.
type Pool interface {
	// Pending returns at most max executable transactions in sealing order.
	Pending(max int) []*types.Transaction
	// PendingCount is how many executable transactions wait.
	PendingCount() int
}

// Broadcaster sends an encoded block to the peers.
type Broadcaster interface {
	BroadcastBlock(raw []byte)
}

// SealerConfig wires a Sealer. Engine, Key, Guard, Chain, Pool and Net are
// required; the rest have defaults.
type SealerConfig struct {
	Engine *Engine
	Key    *crypto.PrivateKey
	Guard  *SlotGuard
	Chain  Chain
	Pool   Pool
	Net    Broadcaster
	// Ready reports whether the node is synced; nil means always.
	Ready func() bool
	// Clock, when set, stops sealing while the local clock looks skewed.
	Clock *ClockMonitor
	// Now is the wall clock (default time.Now).
	Now func() time.Time
	// After waits like time.After (default); tests inject a fake clock.
	After  func(d time.Duration) <-chan time.Time
	Logger hclog.Logger
	// OnSealed is called with every block sealed and imported (metrics).
	OnSealed func(b *types.Block)
	// TxBudget, when set and positive, caps a block's transactions below
	// max_bound: the node's estimate of what its peers import in time.
	TxBudget func() int
}

// Sealer is a validator's block production loop.
type Sealer struct {
	cfg  SealerConfig
	me   crypto.Address
	log  hclog.Logger
	now  func() time.Time
	aftr func(time.Duration) <-chan time.Time

	aheadWarned time.Time // rate-limits the clock-ahead warning (wall clock)
}

// NewSealer checks cfg and refuses a key that is not a genesis miner.
func NewSealer(cfg SealerConfig) (*Sealer, error) {
	switch {
	case cfg.Engine == nil, cfg.Key == nil, cfg.Guard == nil, cfg.Chain == nil, cfg.Pool == nil, cfg.Net == nil:
		return nil, errors.New("sealer: engine, key, guard, chain, pool and net are required")
	}
	me := cfg.Key.Address()
	if !cfg.Engine.Genesis().IsMiner(me) {
		return nil, fmt.Errorf("%w: key %s is not in genesis miners, so it can never seal; run as a basic node or use a miner key",
			ErrNotMiner, me)
	}
	s := &Sealer{cfg: cfg, me: me, log: cfg.Logger, now: cfg.Now, aftr: cfg.After}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	s.log = s.log.With("sealer", me.String())
	if s.now == nil {
		s.now = time.Now
	}
	if s.aftr == nil {
		s.aftr = time.After
	}
	return s, nil
}

func unixMs(t time.Time) uint64 {
	ms := t.UnixMilli()
	if ms < 0 {
		return 0
	}
	return uint64(ms)
}

// Run seals a block in each of this validator's slots until ctx ends. It
// sleeps until each slot start rather than polling; slots that pass while
// it works are skipped, not sealed late. Slot 0 belongs to genesis.
func (s *Sealer) Run(ctx context.Context) error {
	sched := s.cfg.Engine.Schedule()
	next := sched.SlotAt(unixMs(s.now())) + 1
	s.log.Info("sealer started", "next-slot", next, "last-signed-slot", s.cfg.Guard.Last())
	for {
		now := unixMs(s.now())
		if start := sched.SlotStart(next); now < start {
			select {
			case <-ctx.Done():
				s.log.Info("sealer stopped")
				return nil
			case <-s.aftr(time.Duration(start-now) * time.Millisecond):
			}
			continue // re-read the clock: the timer may fire early or the clock jump
		}
		slot := sched.SlotAt(now)
		s.sealSlot(ctx, slot, now)
		if ctx.Err() != nil {
			s.log.Info("sealer stopped")
			return nil
		}
		next = slot + 1
	}
}

// SealSlot does the work of one slot now, on the caller's goroutine. Run
// calls it at each slot start; the deterministic simulator (ccoin/sim)
// calls it directly from its event loop, so both exercise the same rules.
func (s *Sealer) SealSlot(ctx context.Context, slot uint64) {
	s.sealSlot(ctx, slot, unixMs(s.now()))
}

// errHeadNotOlder: the head is at or past the slot (a clock step back, or
// a block of ours from before a restart), so the slot cannot be sealed.
var errHeadNotOlder = errors.New("head is not older than the slot")

// build builds an unsealed block for slot of at most maxTxs transactions
// on the head. If a block import moved the head while it built (the build
// waits for an import in progress), it builds again on the new head, once:
// a block on the old head would only compete with the one just imported.
func (s *Sealer) build(slot, nowMs uint64, maxTxs int) (*types.Block, error) {
	e := s.cfg.Engine
	for attempt := 0; ; attempt++ {
		head, headID := s.cfg.Chain.Head()
		if head.Slot >= slot {
			return nil, fmt.Errorf("%w: head slot %d, head %s", errHeadNotOlder, head.Slot, headID)
		}
		hdr := e.Prepare(head, headID, slot, nowMs, s.me)
		b, err := s.cfg.Chain.BuildBlock(headID, hdr, s.cfg.Pool.Pending(maxTxs))
		if err != nil {
			return nil, err
		}
		if _, now := s.cfg.Chain.Head(); now == headID || attempt == 1 {
			return b, nil
		}
		s.log.Debug("head moved while building; building on the new head", "slot", slot, "old-head", headID)
	}
}

// sealSlot does the work of one slot; every outcome is logged, none stops
// the loop.
func (s *Sealer) sealSlot(ctx context.Context, slot, nowMs uint64) {
	e := s.cfg.Engine
	sched := e.Schedule()
	if sched.Leader(slot) != s.me {
		return
	}
	bm := &e.Genesis().File.BlockMining
	log := s.log.With("slot", slot)
	if last := s.cfg.Guard.Last(); slot <= last {
		log.Warn("skipping own slot: already signed a block at or after it", "last-signed-slot", last)
		return
	}
	if s.cfg.Ready != nil && !s.cfg.Ready() {
		log.Warn("skipping own slot: node is not synced")
		return
	}
	if s.cfg.Clock != nil && s.cfg.Clock.Skewed() {
		off, n := s.cfg.Clock.Offset()
		log.Error("skipping own slot: local clock is behind the other sealers; fix the system clock (NTP)",
			"offset-ms", off, "samples", n, "limit-ms", sched.IntervalMs/4)
		return
	}
	if now := s.now(); s.cfg.Clock != nil && s.cfg.Clock.Ahead() && now.Sub(s.aheadWarned) > time.Minute {
		s.aheadWarned = now
		off, n := s.cfg.Clock.Offset()
		log.Warn("other sealers' blocks arrive late: the local clock may be ahead (check NTP) or the network is overloaded; sealing anyway",
			"offset-ms", off, "samples", n, "limit-ms", sched.IntervalMs/4)
	}
	// Empty blocks are only sealed when allowed, even with min_bound 0.
	need := bm.MinBound
	if !bm.AllowEmpty && need == 0 {
		need = 1
	}
	if pending := s.cfg.Pool.PendingCount(); uint64(pending) < need && !bm.AllowEmpty {
		log.Debug("skipping own slot: not enough pending transactions", "pending", pending, "min-bound", bm.MinBound)
		return
	}
	maxTxs := int(min(bm.MaxBound, types.MaxBlockTxs))
	if s.cfg.TxBudget != nil {
		if budget := s.cfg.TxBudget(); budget > 0 && budget < maxTxs {
			maxTxs = budget
		}
	}
	b, err := s.build(slot, nowMs, maxTxs)
	if errors.Is(err, errHeadNotOlder) {
		log.Warn("skipping own slot: " + err.Error())
		return
	}
	if err != nil {
		log.Error("skipping own slot: building the block failed", "error", err)
		return
	}
	// Stamp the time after building, so the block's age on arrival measures
	// sealing and transfer, not the building of a large block; receivers'
	// clock monitors read it.
	b.Header.Time = e.clampTime(slot, uint64(s.now().UnixMilli()))
	if uint64(len(b.Txs)) > bm.MaxBound {
		log.Error("skipping own slot: built block exceeds max_bound", "txs", len(b.Txs), "max-bound", bm.MaxBound)
		return
	}
	if uint64(len(b.Txs)) < need && !bm.AllowEmpty {
		log.Debug("skipping own slot: too few executable transactions", "txs", len(b.Txs), "min-bound", bm.MinBound)
		return
	}
	// The claim is on disk before the block can exist anywhere else.
	if err := s.cfg.Guard.Claim(slot); err != nil {
		log.Error("skipping own slot: cannot claim it in the slot guard", "error", err)
		return
	}
	// Mining past the slot end would only produce a block that arrives late.
	end := sched.slotEnd(slot)
	left := time.Duration(end-min(nowMs, end)) * time.Millisecond
	sctx, cancel := context.WithTimeout(ctx, max(left, time.Millisecond))
	err = e.Seal(sctx, b, s.cfg.Key)
	cancel()
	if err != nil {
		log.Error("sealing failed; the slot stays empty", "error", err)
		return
	}
	// The builder left room for the largest seal; this guards against one
	// that ignored the cap: peers would refuse the block, or could not fetch it.
	if n := b.EncodedLen(); uint64(n) > e.Genesis().MaxBlockBytes {
		log.Error("sealed block exceeds max_block_bytes; the slot stays empty", "bytes", n, "max-block-bytes", e.Genesis().MaxBlockBytes)
		return
	}
	// Broadcast first, commit second: the commit (execution is cached, but
	// the synced write of a large block is not) took 0.7 s under load, and
	// every peer waited for it. Safety does not need the order: the slot
	// was claimed on disk above, so a crash between the two cannot lead to
	// a second block for this slot, and the restarted node fetches its own
	// block from its peers like any other.
	s.cfg.Net.BroadcastBlock(b.Encode(nil))
	if err := s.cfg.Chain.ImportOwn(b); err != nil {
		log.Error("importing own block failed after broadcasting it; it comes back from peers", "number", b.Header.Number, "id", b.ID(), "error", err)
		return
	}
	if s.cfg.OnSealed != nil {
		s.cfg.OnSealed(b)
	}
	log.Info("sealed block", "number", b.Header.Number, "txs", len(b.Txs), "id", b.ID())
}
