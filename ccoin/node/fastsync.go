package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/snapshot"
)

// Sync modes (Options.SyncMode).
const (
	SyncFull     = "full"     // replay every block from genesis
	SyncSnapshot = "snapshot" // fetch the latest finalized snapshot from peers, then sync blocks
)

// StateSnapshot is the sync state while a node fetches a snapshot.
const StateSnapshot = "snapshot"

const (
	// defaultSnapshotWait is how long a node looks for a snapshot it can
	// verify before it replays blocks from genesis instead.
	defaultSnapshotWait = time.Minute
	// snapshotChunkTimeout bounds one chunk request.
	snapshotChunkTimeout = 20 * time.Second
	// snapshotPrefetch is how many verified chunks may wait for the importer.
	snapshotPrefetch = 8
	// snapshotPeerRate paces chunk downloads per peer (bytes per second),
	// well under the receiving flood limit (p2p.DefaultMaxBytesPerSec).
	snapshotPeerRate = p2p.DefaultMaxBytesPerSec / 2
	snapshotLogEvery = 2 * time.Second
)

// errNoServer: every peer serving the chosen snapshot failed or left.
var errNoServer = errors.New("no peer left serving the snapshot")

// snapshotPending reports whether the node must fetch a snapshot before it
// opens its chain: snapshot mode and a chain that holds only genesis.
func (n *Node) snapshotPending() (bool, error) {
	switch n.opts.SyncMode {
	case "", SyncFull:
		return false, nil
	case SyncSnapshot:
	default:
		return false, fmt.Errorf("%w: sync mode %q (want full or snapshot)", ErrConfig, n.opts.SyncMode)
	}
	probe, err := chain.Open(n.db, chain.Config{Genesis: n.g, Verifier: consensus.NewEngine(n.g, nil), Finality: chain.ReadOnly{}})
	if err != nil {
		return false, err
	}
	head, _ := probe.Head()
	if head.Number > 1 {
		n.log.Info("chain already past genesis: syncing blocks, not a snapshot", "height", head.Number)
		return false, nil
	}
	return true, nil
}

// offer is one manifest and the peers that served exactly it.
type offer struct {
	m     *snapshot.Manifest
	peers []uint64
}

// fastSync fetches the highest verifying snapshot from peers and imports it
// into the (closed) chain database. It runs before the chain is opened, on
// the node's own network, so peers banned here stay banned. A manifest or
// chunk that does not verify gets its sender banned and another offer is
// tried; without a usable snapshot after Options.SnapshotWait it returns
// nil and the node replays blocks instead. Only database errors are fatal.
func (n *Node) fastSync(ctx context.Context) error {
	log := n.log.Named("snapshot-sync")
	wait := n.opts.SnapshotWait
	if wait <= 0 {
		wait = defaultSnapshotWait
	}
	deadline := time.Now().Add(wait)
	log.Info("looking for a snapshot", "wait", wait)
	for ctx.Err() == nil {
		for _, o := range n.snapshotOffers(ctx, log) {
			err := n.fetchSnapshot(ctx, log, o)
			if err == nil || ctx.Err() != nil {
				return nil
			}
			if !errors.Is(err, errNoServer) && !errors.Is(err, snapshot.ErrBadRoot) {
				return fmt.Errorf("import snapshot: %w", err)
			}
			log.Warn("snapshot attempt failed", "height", o.m.Number, "error", err)
		}
		if time.Now().After(deadline) {
			log.Warn("no peer offered a snapshot that verifies: replaying blocks from genesis instead")
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// snapshotOffers asks every peer for its manifest, bans peers whose
// manifest is malformed or does not prove its block final under our
// genesis, and returns the verified offers, highest block first (then the
// most peers).
func (n *Node) snapshotOffers(ctx context.Context, log hclog.Logger) []offer {
	peers := n.net.Peers()
	encs := make([][]byte, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			enc, err := n.net.RequestSnapshot(rctx, p.ID)
			if err != nil {
				log.Debug("snapshot request failed", "peer", p.NodeAddress, "error", err)
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
				err = m.Verify(n.g)
			}
			if err == nil {
				byHash[h] = &offer{m: m, peers: []uint64{p.ID}}
				continue
			}
			bad[h] = err
		}
		log.Warn("refusing a snapshot manifest", "peer", p.NodeAddress, "remote-addr", p.RemoteAddr, "error", err)
		n.net.Ban(p.ID, "served a snapshot manifest that does not verify: "+err.Error())
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

// fetchSnapshot downloads o's chunks (spread round-robin over the peers
// that served its manifest), verifies each as it arrives and imports them.
func (n *Node) fetchSnapshot(ctx context.Context, log hclog.Logger, o offer) error {
	m := o.m
	log.Info("fetching snapshot", "height", m.Number, "block", m.BlockID, "accounts", m.Accounts,
		"chunks", len(m.Chunks), "peers", len(o.peers))
	f := &chunkFetcher{n: n, log: log, m: m, peers: append([]uint64(nil), o.peers...), pace: map[uint64]*pacer{}}
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
			c, err := f.get(fctx, i)
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

	start := time.Now()
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
			if time.Since(lastLog) >= snapshotLogEvery || i == len(m.Chunks)-1 {
				lastLog = time.Now()
				el := time.Since(start).Seconds()
				log.Info("snapshot progress", "chunks", fmt.Sprintf("%d/%d", i+1, len(m.Chunks)),
					"accounts", fmt.Sprintf("%d/%d", accounts, m.Accounts),
					"accounts-per-sec", int(float64(accounts)/max(el, 1e-9)), "peers", f.live())
			}
		}
		return nil
	}
	raw, err := chain.StoredGenesis(n.db)
	if err != nil {
		return err
	}
	err = snapshot.ImportVerified(n.db, n.g, raw, m, chunks, nil)
	if errors.Is(err, snapshot.ErrBadRoot) {
		// The chunk list is only authenticated by the root: everyone who
		// vouched for this manifest served a forgery.
		for _, p := range o.peers {
			n.net.Ban(p, "served a snapshot whose accounts do not rebuild its state root")
		}
		return err
	}
	if err != nil {
		return err
	}
	log.Info("snapshot imported: syncing blocks from its height", "height", m.Number, "accounts", m.Accounts,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// chunkFetcher gets chunks from the peers serving one manifest, dropping
// peers that fail and banning those whose chunk does not verify. Only the
// fetching goroutine uses it, except live.
type chunkFetcher struct {
	n     *Node
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
			pc = &pacer{start: time.Now()}
			f.pace[p] = pc
		}
		if err := pc.wait(ctx); err != nil {
			return nil, err
		}
		rctx, cancel := context.WithTimeout(ctx, snapshotChunkTimeout)
		data, err := f.n.net.RequestChunk(rctx, p, f.m.Number, uint64(i))
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
			f.n.net.Ban(p, "served a snapshot chunk that does not verify: "+err.Error())
			f.drop(p)
		}
	}
}

// pacer keeps one peer's download under snapshotPeerRate.
type pacer struct {
	start time.Time
	bytes int
}

func (p *pacer) wait(ctx context.Context) error {
	due := p.start.Add(time.Duration(float64(p.bytes) / snapshotPeerRate * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
