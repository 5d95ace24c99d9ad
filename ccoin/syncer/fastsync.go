package syncer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/snapshot"
)

const (
	// defaultSnapshotWait is how long a node looks for a snapshot it can
	// verify before it replays blocks from genesis instead.
	defaultSnapshotWait = time.Minute
	// manifestTimeout bounds one manifest request.
	manifestTimeout = 5 * time.Second
	// snapshotPrefetch is how many verified chunks may wait for the importer.
	snapshotPrefetch = 8
	// snapshotPeerRate paces chunk downloads per peer (bytes per second),
	// well under the receiving flood limit (p2p.DefaultMaxBytesPerSec).
	snapshotPeerRate = p2p.DefaultMaxBytesPerSec / 2
	snapshotLogEvery = 2 * time.Second
	// offerRetry is the pause between two rounds of asking for manifests.
	offerRetry = time.Second
)

// ChunkTimeout bounds one snapshot chunk request; a server that stops
// serving a snapshot keeps its file readable this long.
const ChunkTimeout = 20 * time.Second

// errNoServer: every peer serving the chosen snapshot failed or left.
var errNoServer = errors.New("no peer left serving the snapshot")

// SnapshotNetwork is what FastSync asks of the p2p network (*p2p.Network).
type SnapshotNetwork interface {
	Peers
	RequestSnapshot(ctx context.Context, peerID uint64) ([]byte, error)
	RequestChunk(ctx context.Context, peerID uint64, height, index uint64) ([]byte, error)
}

// Chunks hands the verified chunks of a manifest, in order, to fn; it
// stops at fn's first error or at the first chunk no peer would serve.
type Chunks func(fn func(c *snapshot.Chunk) error) error

// FastConfig is what FastSync needs; every field but Wait, Clock and
// Logger is required.
type FastConfig struct {
	Net SnapshotNetwork
	// Genesis is what a manifest's finality certificate is checked against.
	Genesis *genesis.Genesis
	// Import writes a verified manifest's state, read from chunks, into the
	// (not yet opened) chain database; snapshot.ErrBadRoot means the chunks
	// do not rebuild the manifest's state root.
	Import func(m *snapshot.Manifest, chunks Chunks) error
	// Wait is how long to look for a snapshot that verifies before giving
	// up (default 1 min).
	Wait time.Duration
	// Clock is the time source (nil: clock.Real).
	Clock  clock.Clock
	Logger hclog.Logger
}

// offer is one manifest and the peers that served exactly it.
type offer struct {
	m     *snapshot.Manifest
	peers []uint64
}

// fastSync is one FastSync run.
type fastSync struct {
	cfg FastConfig
	clk clock.Clock
	log hclog.Logger
}

// FastSync fetches the highest verifying snapshot from peers and imports it
// through cfg.Import. It runs before the chain is opened, on the node's own
// network, so peers banned here stay banned. A manifest or chunk that does
// not verify gets its sender banned and another offer is tried; without a
// usable snapshot after cfg.Wait it returns nil and the node replays blocks
// instead. Only import (database) errors are fatal.
func FastSync(ctx context.Context, cfg FastConfig) error {
	if cfg.Net == nil || cfg.Genesis == nil || cfg.Import == nil {
		return errors.New("syncer: FastConfig needs Net, Genesis and Import")
	}
	if cfg.Wait <= 0 {
		cfg.Wait = defaultSnapshotWait
	}
	f := &fastSync{cfg: cfg, clk: clock.Or(cfg.Clock), log: cfg.Logger}
	if f.log == nil {
		f.log = hclog.NewNullLogger()
	}
	return f.run(ctx)
}

func (f *fastSync) run(ctx context.Context) error {
	deadline := f.clk.Now().Add(f.cfg.Wait)
	f.log.Info("looking for a snapshot", "wait", f.cfg.Wait)
	for ctx.Err() == nil {
		for _, o := range f.offers(ctx) {
			err := f.fetch(ctx, o)
			if err == nil || ctx.Err() != nil {
				return nil
			}
			if !errors.Is(err, errNoServer) && !errors.Is(err, snapshot.ErrBadRoot) {
				return fmt.Errorf("import snapshot: %w", err)
			}
			f.log.Warn("snapshot attempt failed", "height", o.m.Number, "error", err)
		}
		if f.clk.Now().After(deadline) {
			f.log.Warn("no peer offered a snapshot that verifies: replaying blocks from genesis instead")
			return nil
		}
		_ = clock.Sleep(ctx, f.clk, offerRetry)
	}
	return nil
}

// offers asks every peer for its manifest, bans peers whose manifest is
// malformed or does not prove its block final under our genesis, and
// returns the verified offers, highest block first (then the most peers).
func (f *fastSync) offers(ctx context.Context) []offer {
	peers := f.cfg.Net.Peers()
	encs := make([][]byte, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, manifestTimeout)
			defer cancel()
			enc, err := f.cfg.Net.RequestSnapshot(rctx, p.ID)
			if err != nil {
				f.log.Debug("snapshot request failed", "peer", p.NodeAddress, "error", err)
			}
			encs[i] = enc
		})
	}
	wg.Wait()
	byHash := map[[32]byte]*offer{}
	bad := map[[32]byte]error{}
	for i, enc := range encs {
		if len(enc) == 0 {
			continue
		}
		p := peers[i]
		h := sha256.Sum256(enc)
		if o, ok := byHash[h]; ok {
			o.peers = append(o.peers, p.ID)
			continue
		}
		err, seen := bad[h]
		if !seen {
			var m *snapshot.Manifest
			if m, err = snapshot.DecodeManifest(enc); err == nil {
				err = m.Verify(f.cfg.Genesis)
			}
			if err == nil {
				byHash[h] = &offer{m: m, peers: []uint64{p.ID}}
				continue
			}
			bad[h] = err
		}
		f.log.Warn("refusing a snapshot manifest", "peer", p.NodeAddress, "remote-addr", p.RemoteAddr, "error", err)
		f.cfg.Net.Ban(p.ID, "served a snapshot manifest that does not verify: "+err.Error())
	}
	out := make([]offer, 0, len(byHash))
	for _, o := range byHash {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].m.Number != out[j].m.Number {
			return out[i].m.Number > out[j].m.Number
		}
		return len(out[i].peers) > len(out[j].peers)
	})
	return out
}

// fetch downloads o's chunks (spread round-robin over the peers that
// served its manifest), verifies each as it arrives and imports them.
func (f *fastSync) fetch(ctx context.Context, o offer) error {
	m, log := o.m, f.log
	log.Info("fetching snapshot", "height", m.Number, "block", m.BlockID, "accounts", m.Accounts,
		"chunks", len(m.Chunks), "peers", len(o.peers))
	cf := &chunkFetcher{net: f.cfg.Net, clk: f.clk, log: log, m: m, peers: append([]uint64(nil), o.peers...), pace: map[uint64]*pacer{}}
	fctx, cancel := context.WithCancel(ctx)
	type result struct {
		c   *snapshot.Chunk
		err error
	}
	results := make(chan result, snapshotPrefetch)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(results)
		for i := range m.Chunks {
			c, err := cf.get(fctx, i)
			select {
			case results <- result{c, err}:
			case <-fctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	})
	defer func() { cancel(); wg.Wait() }()

	start := f.clk.Now()
	lastLog := start
	var accounts uint64
	chunks := func(fn func(c *snapshot.Chunk) error) error {
		for i := range m.Chunks {
			r, ok := <-results
			if !ok {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return errNoServer
			}
			if r.err != nil {
				return r.err
			}
			if err := fn(r.c); err != nil {
				return err
			}
			accounts += uint64(len(r.c.Addrs))
			if now := f.clk.Now(); now.Sub(lastLog) >= snapshotLogEvery || i == len(m.Chunks)-1 {
				lastLog = now
				el := now.Sub(start).Seconds()
				log.Info("snapshot progress", "chunks", fmt.Sprintf("%d/%d", i+1, len(m.Chunks)),
					"accounts", fmt.Sprintf("%d/%d", accounts, m.Accounts),
					"accounts-per-sec", int(float64(accounts)/max(el, 1e-9)), "peers", cf.live())
			}
		}
		return nil
	}
	err := f.cfg.Import(m, chunks)
	if errors.Is(err, snapshot.ErrBadRoot) {
		// The chunk list is only authenticated by the root: everyone who
		// vouched for this manifest served a forgery.
		for _, p := range o.peers {
			f.cfg.Net.Ban(p, "served a snapshot whose accounts do not rebuild its state root")
		}
		return err
	}
	if err != nil {
		return err
	}
	log.Info("snapshot imported: syncing blocks from its height", "height", m.Number, "accounts", m.Accounts,
		"took", f.clk.Now().Sub(start).Round(time.Millisecond))
	return nil
}

// chunkFetcher gets chunks from the peers serving one manifest, dropping
// peers that fail and banning those whose chunk does not verify. Only the
// fetching goroutine uses it, except live.
type chunkFetcher struct {
	net   SnapshotNetwork
	clk   clock.Clock
	log   hclog.Logger
	m     *snapshot.Manifest
	mu    sync.Mutex
	peers []uint64
	next  int
	pace  map[uint64]*pacer
}

func (f *chunkFetcher) live() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.peers)
}

func (f *chunkFetcher) drop(id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, p := range f.peers {
		if p == id {
			f.peers = append(f.peers[:i], f.peers[i+1:]...)
			return
		}
	}
}

func (f *chunkFetcher) pick() (uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.peers) == 0 {
		return 0, false
	}
	p := f.peers[f.next%len(f.peers)]
	f.next++
	return p, true
}

func (f *chunkFetcher) get(ctx context.Context, i int) (*snapshot.Chunk, error) {
	for {
		p, ok := f.pick()
		if !ok {
			return nil, errNoServer
		}
		pc := f.pace[p]
		if pc == nil {
			pc = &pacer{clk: f.clk, start: f.clk.Now()}
			f.pace[p] = pc
		}
		if err := pc.wait(ctx); err != nil {
			return nil, err
		}
		rctx, cancel := context.WithTimeout(ctx, ChunkTimeout)
		data, err := f.net.RequestChunk(rctx, p, f.m.Number, uint64(i))
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		pc.bytes += len(data)
		switch {
		case err != nil:
			f.log.Debug("chunk request failed", "peer", p, "chunk", i, "error", err)
			f.drop(p)
		case len(data) == 0:
			f.log.Debug("peer no longer serves the snapshot", "peer", p, "chunk", i)
			f.drop(p)
		default:
			c, err := f.m.VerifyChunk(i, data)
			if err == nil {
				return c, nil
			}
			f.log.Warn("refusing a snapshot chunk", "peer", p, "chunk", i, "error", err)
			f.net.Ban(p, "served a snapshot chunk that does not verify: "+err.Error())
			f.drop(p)
		}
	}
}

// pacer keeps one peer's download under snapshotPeerRate.
type pacer struct {
	clk   clock.Clock
	start time.Time
	bytes int
}

func (p *pacer) wait(ctx context.Context) error {
	due := p.start.Add(time.Duration(float64(p.bytes) / snapshotPeerRate * float64(time.Second)))
	d := due.Sub(p.clk.Now())
	if d <= 0 {
		return nil
	}
	return clock.Sleep(ctx, p.clk, d)
}
