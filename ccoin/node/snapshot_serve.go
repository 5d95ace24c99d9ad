package node

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/snapshot"
)

const (
	// defaultSnapshotEvery is how often at most the served snapshot is
	// rebuilt (each build walks the whole state).
	defaultSnapshotEvery = time.Minute
	// servedSnapshots: the newest snapshot plus the one before, so a peer
	// still fetching the older one is not cut off by a rebuild.
	servedSnapshots = 2
)

// servedSnap is a snapshot this node offers: its manifest and its chunks,
// written once to a file in the data directory when it is built. Cutting
// each chunk again from the state tree on request would cost a database
// read per tree node, which made a million-account snapshot slower to
// serve than to import; the file costs about 40 bytes per account on disk
// and 8 bytes per chunk in memory.
type servedSnap struct {
	m    *snapshot.Manifest
	enc  []byte
	file *os.File
	offs []int64 // chunk i is file[offs[i]:offs[i+1]]
}

// release removes the chunk file at once and closes it once a peer still
// reading from it has had time to finish its request.
func (sn *servedSnap) release() {
	os.Remove(sn.file.Name())
	time.AfterFunc(snapshotChunkTimeout, func() { sn.file.Close() })
}

// snapServer builds the node's snapshot lazily (when a peer first asks,
// and again at most every `every` once the finalized block moved) on its
// own goroutine, and serves the manifest and chunks to the p2p layer.
type snapServer struct {
	n     *Node
	log   hclog.Logger
	per   int
	every time.Duration
	dir   string
	kick  chan struct{}

	mu    sync.Mutex
	snaps []*servedSnap // oldest first
	last  time.Time     // start of the last build
}

// SnapshotDir holds the chunk files of the snapshots a node serves; it is
// a cache, emptied at every start.
func SnapshotDir(datadir string) string { return filepath.Join(datadir, "snapshots") }

func newSnapServer(n *Node) *snapServer {
	every := n.opts.SnapshotEvery
	if every <= 0 {
		every = defaultSnapshotEvery
	}
	return &snapServer{n: n, log: n.log.Named("snapshot-serve"), per: n.opts.SnapshotChunkAccounts, every: every,
		dir: SnapshotDir(n.opts.DataDir), kick: make(chan struct{}, 1)}
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

// chunk reads chunk index of the served snapshot at height and checks it
// against the manifest before it leaves the node, so local disk damage
// makes it answer nothing rather than get it banned.
func (s *snapServer) chunk(height, index uint64) ([]byte, error) {
	s.mu.Lock()
	var sn *servedSnap
	for _, x := range s.snaps {
		if x.m.Number == height {
			sn = x
		}
	}
	s.mu.Unlock()
	if sn == nil || index >= uint64(len(sn.m.Chunks)) {
		return nil, nil
	}
	enc := make([]byte, sn.offs[index+1]-sn.offs[index])
	if _, err := sn.file.ReadAt(enc, sn.offs[index]); err != nil {
		s.log.Warn("read snapshot chunk", "height", height, "index", index, "error", err)
		return nil, nil
	}
	if snapshot.ChunkHash(enc) != sn.m.Chunks[index] {
		s.log.Error("served snapshot chunk does not match its manifest", "height", height, "index", index)
		return nil, nil
	}
	return enc, nil
}

// run builds snapshots when asked until ctx ends, then removes their files.
func (s *snapServer) run(ctx context.Context) error {
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, sn := range s.snaps {
			sn.file.Close()
		}
		s.snaps = nil
		os.RemoveAll(s.dir)
	}()
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
	sn, err := s.write(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("cannot build a snapshot to serve", "error", err)
		}
		return
	}
	m := sn.m
	var evicted []*servedSnap
	s.mu.Lock()
	if n := len(s.snaps); n > 0 && s.snaps[n-1].m.Number == m.Number {
		evicted = append(evicted, s.snaps[n-1])
		s.snaps[n-1] = sn
	} else {
		s.snaps = append(s.snaps, sn)
	}
	if n := len(s.snaps) - servedSnapshots; n > 0 {
		evicted = append(evicted, s.snaps[:n]...)
		s.snaps = slices.Delete(s.snaps, 0, n)
	}
	s.mu.Unlock()
	for _, e := range evicted {
		e.release()
	}
	s.log.Info("snapshot ready to serve", "height", m.Number, "accounts", m.Accounts, "chunks", len(m.Chunks),
		"took", time.Since(start).Round(time.Millisecond))
}

// write walks the finalized state into a new chunk file.
func (s *snapServer) write(ctx context.Context) (*servedSnap, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.dir, "*.chunks")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	offs := []int64{0}
	m, err := snapshot.Build(s.n.chain, s.n.g, s.n.ffg.Certificate(), snapshot.Options{ChunkAccounts: s.per}, func(_ int, _ crypto.Address, enc []byte) error {
		if _, err := w.Write(enc); err != nil {
			return err
		}
		offs = append(offs, offs[len(offs)-1]+int64(len(enc)))
		return ctx.Err()
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &servedSnap{m: m, enc: m.Encode(), file: f, offs: offs}, nil
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
