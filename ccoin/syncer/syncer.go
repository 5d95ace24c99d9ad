package syncer

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/types"
)

// Sync states.
const (
	StateBoot    = "boot"
	StateSyncing = "syncing"
	StateReady   = "ready"
	// StateSnapshot is the sync state while a node fetches a snapshot
	// (FastSync); the node reports it, as no Syncer exists yet then.
	StateSnapshot = "snapshot"
)

// Sync modes (how a new node catches up).
const (
	SyncFull     = "full"     // replay every block from genesis
	SyncSnapshot = "snapshot" // fetch the latest finalized snapshot from peers, then sync blocks
)

const (
	syncBatch       = 256
	syncTick        = time.Second
	progressEvery   = 5 * time.Second
	defaultBootWait = 3 * time.Second
	bootPoll        = 100 * time.Millisecond
	headTimeout     = 3 * time.Second
	blocksTimeout   = 15 * time.Second
)

// Peers is the part of the p2p network both syncs use to pick and punish peers.
type Peers interface {
	Peers() []p2p.PeerInfo
	Ban(peerID uint64, reason string)
}

// Network is what the Syncer asks of the p2p network (*p2p.Network).
type Network interface {
	Peers
	RequestHead(ctx context.Context, peerID uint64) (height uint64, head [32]byte, finalized uint64, err error)
	RequestBlocks(ctx context.Context, peerID uint64, from uint64, count int) ([][]byte, error)
	// Events tells of connected peers and of blocks whose parent we lack.
	Events() <-chan p2p.PeerEvent
}

// Chain is what the Syncer reads of the chain (*chain.Chain).
type Chain interface {
	Head() (*types.Header, types.Hash)
	Finalized() (*types.Header, types.Hash)
}

// Config is what a Syncer needs. Net, Chain and Import are required; a nil
// hook does nothing.
type Config struct {
	Net   Network
	Chain Chain
	// Import imports one downloaded block and says what it means for the
	// sender (the node's import pipeline, the same as for gossip).
	Import func(b *types.Block, raw []byte) (p2p.Verdict, error)
	// LearnFinality fetches and applies the finality certificate of a peer
	// whose final block is above ours.
	LearnFinality func(ctx context.Context, peer uint64)
	// HoldFuture keeps a block that is a little early until its slot starts.
	HoldFuture func(b *types.Block, raw []byte)
	// OnConnect runs when a peer connects (the node re-offers its pending
	// transactions: a node that was cut off may hold some the others lack).
	OnConnect func()
	// OnState runs on every state update with the current state (the node
	// sets its sync-state metric), including the first, StateBoot, in New.
	OnState func(state string)
	// BootWait is how long Run waits for a first peer before it judges
	// its height (default 3 s).
	BootWait time.Duration
	// SlotInterval is the block interval; a peer whose request timed out
	// is skipped for ten slots (at least 5 s, at most a minute).
	SlotInterval time.Duration
	// Clock is the time source (nil: clock.Real).
	Clock  clock.Clock
	Logger hclog.Logger
}

// Syncer is the boot -> syncing -> ready state machine. It asks peers for
// their heads, downloads missing blocks in batches from the best peer
// (moving to another when one stalls, lies or serves invalid blocks), and
// reports ready once no peer is ahead. Gossip keeps a ready node current; a
// block with an unknown parent sends it back to fetch the ancestors.
type Syncer struct {
	cfg    Config
	clk    clock.Clock
	log    hclog.Logger
	mu     sync.Mutex
	st     string
	wake   chan uint64          // peer ids that announced a block we could not attach
	failed map[uint64]time.Time // peers to skip until the time given; Run's goroutine only
}

// New builds a Syncer in StateBoot; Run starts it.
func New(cfg Config) (*Syncer, error) {
	if cfg.Net == nil || cfg.Chain == nil || cfg.Import == nil {
		return nil, errors.New("syncer: Config needs Net, Chain and Import")
	}
	if cfg.BootWait <= 0 {
		cfg.BootWait = defaultBootWait
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	s := &Syncer{cfg: cfg, clk: clock.Or(cfg.Clock), log: log, st: StateBoot,
		wake: make(chan uint64, 16), failed: make(map[uint64]time.Time)}
	s.set(StateBoot)
	return s, nil
}

// skipFor is how long the syncer skips a peer that failed it: briefly for a
// request that timed out (a busy peer under load; skipping it for a minute
// kept a node on a minority branch, and so finality stalled, for a minute),
// longer for a peer whose chain leaves our final block.
func (s *Syncer) skipFor(offChain bool) time.Duration {
	if offChain {
		return time.Minute
	}
	return min(max(10*s.cfg.SlotInterval, 5*time.Second), time.Minute)
}

// State is boot, syncing or ready.
func (s *Syncer) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// Ready reports whether no peer is known to be ahead (StateReady).
func (s *Syncer) Ready() bool { return s.State() == StateReady }

func (s *Syncer) set(st string) {
	s.mu.Lock()
	old := s.st
	s.st = st
	s.mu.Unlock()
	if s.cfg.OnState != nil {
		s.cfg.OnState(st)
	}
	if old != st {
		s.log.Info("sync state", "from", old, "to", st)
	}
}

// Wake asks for a sync round now, preferring peer (which showed us a block
// we cannot attach); 0 prefers none. It never blocks: a full queue drops it.
func (s *Syncer) Wake(peer uint64) {
	select {
	case s.wake <- peer:
	default:
	}
}

// Run syncs until ctx ends: after the boot wait, a round every second and
// one whenever a peer connects or shows a block with an unknown parent.
func (s *Syncer) Run(ctx context.Context) error {
	// boot: give the dialer a moment to find peers before judging our height.
	deadline := s.clk.Now().Add(s.cfg.BootWait)
	for len(s.cfg.Net.Peers()) == 0 && s.clk.Now().Before(deadline) {
		if clock.Sleep(ctx, s.clk, bootPoll) != nil {
			return nil
		}
	}
	go s.watchEvents(ctx)
	t := s.clk.NewTicker(syncTick)
	defer t.Stop()
	for {
		s.round(ctx, 0)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		case id := <-s.wake:
			s.round(ctx, id)
		}
	}
}

func (s *Syncer) watchEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.cfg.Net.Events():
			if !ok {
				return
			}
			if ev.Type == p2p.EventConnected && s.cfg.OnConnect != nil {
				s.cfg.OnConnect()
			}
			if ev.Type == p2p.EventMissingParent || ev.Type == p2p.EventConnected {
				s.Wake(ev.Peer.ID)
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
func (s *Syncer) round(ctx context.Context, prefer uint64) {
	heads := s.peerHeads(ctx)
	defer s.learnFinality(ctx, heads)
	head, _ := s.cfg.Chain.Head()
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
		if best.height > head.Number+1 || s.State() == StateBoot {
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
func (s *Syncer) learnFinality(ctx context.Context, heads []peerHead) {
	final, _ := s.cfg.Chain.Finalized()
	var best *peerHead
	for i := range heads {
		if heads[i].finalized > final.Number && (best == nil || heads[i].finalized > best.finalized) {
			best = &heads[i]
		}
	}
	if best != nil && s.cfg.LearnFinality != nil {
		s.cfg.LearnFinality(ctx, best.id)
	}
}

// peerHeads returns connected peers ordered by height, best first,
// skipping peers that recently failed us.
func (s *Syncer) peerHeads(ctx context.Context) []peerHead {
	var out []peerHead
	for id, t := range s.failed {
		if !s.clk.Now().Before(t) {
			delete(s.failed, id)
		}
	}
	for _, p := range s.cfg.Net.Peers() {
		if t, bad := s.failed[p.ID]; bad && s.clk.Now().Before(t) {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, headTimeout)
		h, _, fin, err := s.cfg.Net.RequestHead(rctx, p.ID)
		cancel()
		if err != nil {
			continue
		}
		out = append(out, peerHead{p.ID, h, fin})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].height > out[j].height })
	return out
}

// skip stops asking peer for skipFor(offChain).
func (s *Syncer) skip(peer uint64, offChain bool) {
	s.failed[peer] = s.clk.Now().Add(s.skipFor(offChain))
}

// catchUp downloads and imports blocks from one peer until it has nothing
// more for us. It returns false when the peer stalled or misbehaved.
func (s *Syncer) catchUp(ctx context.Context, p peerHead) bool {
	head, _ := s.cfg.Chain.Head()
	final, _ := s.cfg.Chain.Finalized()
	from := head.Number + 1
	if p.height <= head.Number {
		// Same height or lower but it showed us an unknown parent: a fork.
		from = final.Number + 1
	}
	start, done := s.clk.Now(), uint64(0)
	lastLog := start
	total := p.height
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, blocksTimeout)
		raws, err := s.cfg.Net.RequestBlocks(rctx, p.id, from, syncBatch)
		cancel()
		if err != nil {
			s.log.Debug("sync request failed", "peer", p.id, "from", from, "error", err)
			s.skip(p.id, false)
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
				s.cfg.Net.Ban(p.id, "served a malformed or out-of-order block during sync")
				return false
			}
			v, err := s.cfg.Import(b, raw)
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
					s.log.Warn("peer's chain does not contain our finalized block; not syncing from it for a minute",
						"peer", p.id, "finalized", final.Number)
					s.skip(p.id, true)
					return false
				}
			case p2p.Future:
				if s.cfg.HoldFuture != nil {
					s.cfg.HoldFuture(b, raw)
				}
				return true
			case p2p.Rejected:
				s.cfg.Net.Ban(p.id, "served an invalid block during sync: "+errText(err))
				s.skip(p.id, true)
				return false
			}
			if forked {
				break
			}
		}
		if !forked {
			from += uint64(len(raws))
		}
		if now := s.clk.Now(); now.Sub(lastLog) >= progressEvery {
			lastLog = now
			rate := float64(done) / now.Sub(start).Seconds()
			h, _ := s.cfg.Chain.Head()
			left := float64(0)
			if total > h.Number {
				left = float64(total-h.Number) / max(rate, 1e-9)
			}
			s.log.Info("sync progress", "height", h.Number, "target", total, "blocks-per-sec", int(rate),
				"eta", time.Duration(left*float64(time.Second)).Round(time.Second))
		}
	}
	return true
}

// errText is err's message, or a placeholder when an Import hook rejects
// without saying why.
func errText(err error) string {
	if err == nil {
		return "no reason given"
	}
	return err.Error()
}
