package node

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/types"
)

const (
	// defaultSnapshotEvery is how often at most the served snapshot is
	// rebuilt (each build walks the whole state).
	defaultSnapshotEvery = time.Minute
	// servedSnapshots: the newest snapshot plus the one before, so a peer
	// still fetching the older one is not cut off by a rebuild.
	servedSnapshots = 2
)

// servedSnap is a snapshot this node offers: its manifest and the first
// address of every chunk. Chunks are cut again from the state tree on
// request (the tree keeps every finalized root), so a snapshot costs 52
// bytes per chunk in memory instead of the whole state.
type servedSnap struct {
	m      *snapshot.Manifest
	enc    []byte
	firsts []crypto.Address
}

// snapServer builds the node's snapshot lazily (when a peer first asks,
// and again at most every `every` once the finalized block moved) on its
// own goroutine, and serves the manifest and chunks to the p2p layer.
type snapServer struct {
	n     *Node
	log   hclog.Logger
	per   int
	every time.Duration
	kick  chan struct{}

	mu    sync.Mutex
	snaps []*servedSnap // oldest first
	last  time.Time     // start of the last build
}

func newSnapServer(n *Node) *snapServer {
	every := n.opts.SnapshotEvery
	if every <= 0 {
		every = defaultSnapshotEvery
	}
	return &snapServer{n: n, log: n.log.Named("snapshot-serve"), per: n.opts.SnapshotChunkAccounts, every: every,
		kick: make(chan struct{}, 1)}
}

// manifest returns the newest snapshot's manifest (nil while none is built)
// and asks for a rebuild when it is missing or stale.
func (s *snapServer) manifest() []byte {
	final, _ := s.n.chain.Finalized()
	s.mu.Lock()
	var cur *servedSnap
	if len(s.snaps) > 0 {
		cur = s.snaps[len(s.snaps)-1]
	}
	stale := cur == nil || (cur.m.Number < final.Number && time.Since(s.last) >= s.every)
	s.mu.Unlock()
	if stale && final.Number >= 2 {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	if cur == nil {
		return nil
	}
	return cur.enc
}

// chunk cuts chunk index of the served snapshot at height from the state
// and checks it against the manifest before it leaves the node.
func (s *snapServer) chunk(height, index uint64) ([]byte, error) {
	s.mu.Lock()
	var sn *servedSnap
	for _, x := range s.snaps {
		if x.m.Number == height {
			sn = x
		}
	}
	s.mu.Unlock()
	if sn == nil || index >= uint64(len(sn.firsts)) {
		return nil, nil
	}
	m := sn.m
	want := uint64(m.ChunkAccounts)
	if index == uint64(len(m.Chunks)-1) {
		want = m.Accounts - index*uint64(m.ChunkAccounts)
	}
	c := &snapshot.Chunk{Number: m.Number, Index: uint32(index), Addrs: make([]crypto.Address, 0, want),
		Accounts: make([]types.Account, 0, want)}
	errFull := errors.New("full")
	err := s.n.chain.Tree().IterateFrom(m.StateRoot, sn.firsts[index], func(k [20]byte, v []byte) error {
		if uint64(len(c.Addrs)) == want {
			return errFull
		}
		acc, err := types.DecodeAccount(v)
		if err != nil {
			return err
		}
		c.Addrs, c.Accounts = append(c.Addrs, k), append(c.Accounts, acc)
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, err
	}
	enc := c.Encode()
	if snapshot.ChunkHash(enc) != m.Chunks[index] {
		s.log.Error("served snapshot chunk does not match its manifest", "height", height, "index", index)
		return nil, nil
	}
	return enc, nil
}

// run builds snapshots when asked until ctx ends.
func (s *snapServer) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		}
		s.mu.Lock()
		if len(s.snaps) > 0 && time.Since(s.last) < s.every {
			s.mu.Unlock()
			continue
		}
		s.last = time.Now()
		s.mu.Unlock()
		s.build(ctx)
	}
}

func (s *snapServer) build(ctx context.Context) {
	start := time.Now()
	var firsts []crypto.Address
	m, err := snapshot.Build(s.n.chain, s.n.g, snapshot.Options{ChunkAccounts: s.per}, func(_ int, first crypto.Address, _ []byte) error {
		firsts = append(firsts, first)
		return ctx.Err()
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("cannot build a snapshot to serve", "error", err)
		}
		return
	}
	sn := &servedSnap{m: m, enc: m.Encode(), firsts: firsts}
	s.mu.Lock()
	if n := len(s.snaps); n > 0 && s.snaps[n-1].m.Number == m.Number {
		s.snaps[n-1] = sn
	} else {
		s.snaps = append(s.snaps, sn)
	}
	if len(s.snaps) > servedSnapshots {
		s.snaps = s.snaps[len(s.snaps)-servedSnapshots:]
	}
	s.mu.Unlock()
	s.log.Info("snapshot ready to serve", "height", m.Number, "accounts", m.Accounts, "chunks", len(m.Chunks),
		"took", time.Since(start).Round(time.Millisecond))
}

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

func (v netView) SnapshotManifest() ([]byte, error) {
	if !v.n.built.Load() {
		return nil, nil
	}
	return v.n.snap.manifest(), nil
}

func (v netView) SnapshotChunk(height, index uint64) ([]byte, error) {
	if !v.n.built.Load() {
		return nil, nil
	}
	return v.n.snap.chunk(height, index)
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

func (h netHandler) HandleBlock(from p2p.PeerInfo, raw []byte) (p2p.Verdict, error) {
	if !h.n.built.Load() {
		return p2p.Known, nil
	}
	return handler(h).HandleBlock(from, raw)
}
