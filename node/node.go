package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/api"
	"ccoin/ccoin/chain"
	"ccoin/ccoin/clock"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/syncer"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// Version is the software version reported to peers and the API.
var Version = "0.1.0"

// Node types.
const (
	TypeValidator = "validator"
	TypeBasic     = "basic"
)

// ErrNotMiner: a validator whose key is not a genesis miner.
var ErrNotMiner = errors.New("this account is not a genesis miner and cannot run as a validator")

// Options are the per-process choices the command line makes.
type Options struct {
	Config   *Config
	DataDir  string
	Type     string // validator or basic
	P2PPort  int    // -1: from config; 0 picks a free port
	HTTPPort int    // -1: P2P port + 1 (or config); 0 picks a free port
	Key      *crypto.PrivateKey
	Logger   hclog.Logger
	// Clock drives the node's timers: sync, transaction re-offers and held
	// blocks (nil: clock.Real).
	Clock clock.Clock
	// Now is the node's wall clock, for slots and block times (nil:
	// Clock.Now); tests skew it to model a node whose clock is off.
	Now func() time.Time
	// Web is the explorer served by the HTTP API at / (optional).
	Web http.Handler
	// BootTimeout is how long a node waits for peers before it considers
	// itself synced alone (the first validator of a new network).
	BootTimeout time.Duration
	// AcceptPeer, when set, decides after each handshake whether to keep a
	// peer (see p2p.Config.AcceptPeer); nil accepts every peer. Tests use it
	// to partition a network.
	AcceptPeer func(p2p.PeerInfo) error
	// Transport carries the peer-to-peer connections; nil means TCP.
	// Tests run clusters over an in-memory one (package p2p/memnet).
	Transport p2p.Transport
	// SyncMode is SyncFull (the default when empty) or SyncSnapshot: a
	// node whose chain holds only genesis then fetches the latest finalized
	// snapshot from its peers before it syncs blocks (see syncer.FastSync).
	SyncMode string
	// SnapshotWait is how long a snapshot-mode node looks for a snapshot
	// that verifies before replaying blocks instead (default 1 min).
	SnapshotWait time.Duration
	// SnapshotEvery is the least time between two builds of the snapshot
	// this node serves (default 1 min); SnapshotChunkAccounts is its
	// accounts per chunk (default snapshot.DefaultChunkAccounts).
	SnapshotEvery         time.Duration
	SnapshotChunkAccounts int
}

// Node is a running ccoin node.
type Node struct {
	opts    Options
	log     hclog.Logger
	db      kv.Store
	g       *genesis.Genesis
	chain   *chain.Chain
	pool    *txpool.Pool
	engine  *consensus.Engine
	net     *p2p.Network
	sealer  *consensus.Sealer
	guard   *consensus.SlotGuard
	ffg     *consensus.Finality
	voter   *consensus.Voter
	voteNow chan uint64 // epochs to vote for at once (the leader's block is in)
	clock   *consensus.ClockMonitor
	keys    *crypto.KeyCache
	metrics *metrics
	hub     *hub
	future  *futureBlocks
	sync    *syncer.Syncer
	snap    *snapshot.Server

	// What peers get: netView and netGossip are handed to the network
	// before the chain exists and answer through view and gossip once
	// openChain has built them (netview.go).
	view      *chainView
	gossip    *handler
	netView   *netView
	netGossip *netHandler

	// activity: each miner's recent votes, for GET /validators (validators.go).
	activity voteActivity

	// snapPending: the chain is opened only after a snapshot was fetched
	// (Run); built is set once the chain and everything on it exist.
	snapPending  bool
	built        atomic.Bool
	journalReady atomic.Bool // the pool journal was restored; see runJournal

	lastHead  atomic.Int64 // unix ms of the last head change, for the interval histogram
	imports   importCost   // how long peers' blocks take to import; sizes blocks and admission
	closeOnce sync.Once
	extra     []subsystem // started by Run, like the HTTP API
	api       *api.Server
	signMu    sync.Mutex // one node-signed transaction at a time, so nonces do not collide
}

type subsystem struct {
	name string
	run  func(context.Context) error
}

// New opens the data directory and builds every subsystem; Run starts them.
func New(opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	opts.Clock = clock.Or(opts.Clock)
	if opts.Now == nil {
		opts.Now = opts.Clock.Now
	}
	if opts.Type != TypeValidator && opts.Type != TypeBasic {
		return nil, fmt.Errorf("%w: node type %q (want validator or basic)", ErrConfig, opts.Type)
	}
	if opts.Key == nil {
		return nil, fmt.Errorf("%w: no account key", ErrConfig)
	}
	n := &Node{opts: opts, log: opts.Logger, keys: crypto.NewKeyCache(8192), metrics: newMetrics(), hub: newHub()}
	n.metrics.watchPeers(func() []p2p.PeerInfo {
		if nw := n.Network(); nw != nil {
			return nw.Peers()
		}
		return nil
	})
	db, err := chain.OpenDB(ChainDir(opts.DataDir))
	if err != nil {
		return nil, err
	}
	n.db = db
	if err := n.build(); err != nil {
		db.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) build() error {
	raw, err := chain.StoredGenesis(n.db)
	if err != nil {
		return err
	}
	gblk, err := chain.StoredGenesisBlock(n.db)
	if err != nil {
		return err
	}
	if n.g, err = genesis.Restore(raw, gblk); err != nil {
		return fmt.Errorf("stored genesis: %w", err)
	}
	if n.opts.Type == TypeValidator && !n.g.IsMiner(n.opts.Key.Address()) {
		return fmt.Errorf("%w: %s (miners: %v)", ErrNotMiner, n.opts.Key.Address(), n.g.Miners)
	}
	n.engine = consensus.NewEngine(n.g, n.keys)
	n.clock = consensus.NewClockMonitor(n.g.IntervalMs, len(n.g.Miners))
	if n.snapPending, err = n.snapshotPending(); err != nil {
		return err
	}
	if err := n.buildNet(); err != nil {
		return err
	}
	if n.snapPending {
		return nil // Run fetches the snapshot, then opens the chain
	}
	return n.openChain()
}

// openChain opens the chain and builds everything that reads it.
func (n *Node) openChain() error {
	cfg := n.opts.Config
	var err error
	poolCfg := txpool.Config{ChainID: n.g.ChainID, MaxTotal: cfg.Pool.MaxTotal, MaxPerAccount: cfg.Pool.MaxPerAccount,
		Logger: n.log.Named("txpool"), Now: n.opts.Now, Clock: n.opts.Clock, Keys: n.keys,
		MaxPending: maxPending(cfg, n.g.File.BlockMining.MaxBound, n.g.MaxBlockBytes, 0)}
	if cfg.Pool.TTLSeconds > 0 {
		poolCfg.TTL = time.Duration(cfg.Pool.TTLSeconds) * time.Second
	}
	// The pool reads the chain and the chain reads the pool (to skip
	// signatures it verified), so the chain gets the pool through a late-bound view.
	pv := &poolView{}
	hdrs := &lateHeaders{}
	if err := n.openFinality(hdrs); err != nil {
		return err
	}
	n.chain, err = chain.Open(n.db, chain.Config{Genesis: n.g, Verifier: n.engine, Pool: pv, Keys: n.keys,
		Finality: n.ffg, Logger: n.log.Named("chain"), Now: n.opts.Now, OnEvent: n.onChainEvent})
	if errors.Is(err, chain.ErrSchema) {
		return fmt.Errorf("%s: %w", ChainDir(n.opts.DataDir), err)
	}
	if err != nil {
		return err
	}
	hdrs.c = n.chain
	// Finality may know more than the chain's stored pointers (a
	// certificate stored just before a crash): settle fork choice first.
	if _, err := n.chain.Refresh(); err != nil {
		return err
	}
	head, _ := n.chain.Head()
	poolCfg.Root = head.StateRoot
	n.pool = txpool.New(poolCfg, n.chain)
	pv.p = n.pool
	final, _ := n.chain.Finalized()
	n.metrics.height.Set(float64(head.Number))
	n.metrics.finalized.Set(float64(final.Number))
	if err := n.startAPI(); err != nil {
		return err
	}
	n.future = newFutureBlocks(64)
	// Sync sees the chain, the network and the node's import pipeline
	// through narrow interfaces and hooks (see package syncer).
	n.sync, err = syncer.New(syncer.Config{
		Net:           n.net,
		Chain:         n.chain,
		Import:        n.importBlock,
		LearnFinality: n.learnFinality,
		HoldFuture:    n.future.add,
		OnConnect:     n.regossipPool,
		OnState:       n.metrics.setSyncState,
		BootWait:      n.opts.BootTimeout,
		SlotInterval:  time.Duration(n.g.IntervalMs) * time.Millisecond,
		Clock:         n.opts.Clock,
		Logger:        n.log,
	})
	if err != nil {
		return err
	}
	n.snap = snapshot.NewServer(snapshot.ServerConfig{Chain: n.chain, Certs: n.ffg, Genesis: n.g,
		Dir: SnapshotDir(n.opts.DataDir), ChunkAccounts: n.opts.SnapshotChunkAccounts, Every: n.opts.SnapshotEvery,
		Linger: syncer.ChunkTimeout, Logger: n.log.Named("snapshot-serve"), Clock: clock.Or(n.opts.Clock)})
	if n.opts.Type == TypeValidator {
		if n.guard, err = consensus.OpenSlotGuard(SlotGuardPath(n.opts.DataDir)); err != nil {
			return err
		}
		n.sealer, err = consensus.NewSealer(consensus.SealerConfig{
			Engine: n.engine, Key: n.opts.Key, Guard: n.guard, Chain: sealerChain{chain: n.chain, afterImport: n.afterImport}, Pool: sealerPool{n.pool},
			Net: n.net, Ready: n.sync.Ready, Clock: n.clock, Now: n.opts.Now, Logger: n.log.Named("sealer"),
			OnSealed: func(*types.Block) { n.metrics.sealed.Inc() },
			TxBudget: n.txBudget,
		})
		if err != nil {
			return err
		}
	}
	n.view = &chainView{chain: n.chain, sched: n.engine.Schedule(), ffg: n.ffg, snap: n.snap}
	n.gossip = &handler{self: n.Address(), now: n.opts.Now, chain: n.chain, pool: n.pool, engine: n.engine, ffg: n.ffg,
		clock: n.clock, future: n.future, metrics: n.metrics, importBlock: n.importBlock, noteVote: n.noteVote,
		fetchJustification: n.fetchJustification, refreshChain: n.refreshChain}
	n.netView.open.Store(n.view)
	n.netGossip.open.Store(n.gossip)
	n.built.Store(true)
	return nil
}

// buildNet creates the p2p network; it serves through netView and
// netGossip, which read the chain only once it is open.
func (n *Node) buildNet() error {
	cfg := n.opts.Config
	p2pPort := n.opts.P2PPort
	if p2pPort < 0 {
		p2pPort = cfg.P2P.Port
	}
	host := cfg.P2P.Host
	if host == "" {
		host = "0.0.0.0"
	}
	// Every block must fit one frame, alone in a BLK or an ABL answer.
	if f := cfg.P2P.MaxFrameBytes; f > 0 && uint64(f) < n.g.MaxBlockBytes+64<<10 {
		return fmt.Errorf("%w: p2p.max_frame_bytes %d is below genesis block_mining.max_block_bytes %d plus 64 KiB: "+
			"this node could not receive the largest blocks", ErrConfig, f, n.g.MaxBlockBytes)
	}
	slot := time.Duration(n.g.IntervalMs) * time.Millisecond
	pc := p2p.Config{
		ListenAddr: net.JoinHostPort(host, strconv.Itoa(p2pPort)), NetworkID: n.g.File.NetworkID, ChainID: n.g.ChainID,
		Key: n.opts.Key, NodeType: n.opts.Type, Version: Version, Validators: n.g.Miners,
		BootstrapPeers: cfg.P2P.BootstrapPeers, MaxInbound: cfg.P2P.MaxInbound, MaxOutbound: cfg.P2P.MaxOutbound,
		MaxPerIP: cfg.P2P.MaxPerIP, MaxFrame: cfg.P2P.MaxFrameBytes, Logger: n.log.Named("p2p"),
		AcceptPeer: n.opts.AcceptPeer, Transport: n.opts.Transport,
		// Keep-alive in slots: a peer silent for a few slots is gone (a cut
		// link may never deliver a FIN), and redialling it early is what
		// lets a healed partition seal again within a few slots.
		PingInterval: min(max(2*slot, time.Second), p2p.DefaultPingInterval),
		IdleTimeout:  min(max(8*slot, 5*time.Second), p2p.DefaultIdleTimeout),
	}
	if cfg.P2P.BanSeconds > 0 {
		pc.BanDuration = time.Duration(cfg.P2P.BanSeconds) * time.Second
	}
	if cfg.P2P.AdvertiseHost != "" && p2pPort != 0 {
		pc.AdvertiseAddr = net.JoinHostPort(cfg.P2P.AdvertiseHost, strconv.Itoa(p2pPort))
	}
	n.netView = &netView{genesisID: n.g.ChainID, sched: n.engine.Schedule()}
	n.netGossip = &netHandler{}
	var err error
	n.net, err = p2p.New(pc, n.netView, n.netGossip)
	return err
}

// P2PAddr is the bound peer-to-peer address.
func (n *Node) P2PAddr() string { return n.net.Addr() }

// Chain exposes the chain (tests, API); nil while a snapshot is fetched
// (SyncState is StateSnapshot).
func (n *Node) Chain() *chain.Chain { return n.chain }

// Pool exposes the pool.
func (n *Node) Pool() *txpool.Pool { return n.pool }

// Network exposes the network.
func (n *Node) Network() *p2p.Network { return n.net }

// Genesis is the network's genesis.
func (n *Node) Genesis() *genesis.Genesis { return n.g }

// Address is this node's account.
func (n *Node) Address() crypto.Address { return n.opts.Key.Address() }

// SyncState is snapshot (fetching a snapshot, chain not open yet), boot,
// syncing or ready.
func (n *Node) SyncState() string {
	if !n.built.Load() {
		return StateSnapshot
	}
	return n.sync.State()
}

// Run starts every subsystem and blocks until ctx ends; then it stops them
// in order (sealer, sync, network, pool) and closes the database once all
// writers are gone.
func (n *Node) Run(ctx context.Context) error {
	defer n.close()
	n.log.Info("ChainNode starting on "+portOf(n.net.Addr()), "type", n.opts.Type, "address", n.Address(),
		"chain-id", n.g.ChainID, "network-id", n.g.File.NetworkID)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	start := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				n.log.Error("subsystem failed", "subsystem", name, "error", err)
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		})
	}
	start("p2p", n.net.Run)
	start("discovery", n.runDiscovery)
	if n.snapPending {
		// The network is up (so bans stick); the chain opens once the
		// snapshot is in the database.
		err := n.fastSync(ctx)
		if err == nil && ctx.Err() == nil {
			err = n.openChain()
		}
		if err != nil || ctx.Err() != nil {
			cancel()
			wg.Wait()
			if err == nil && len(errc) > 0 {
				err = <-errc
			}
			return err
		}
	}
	start("txpool", n.pool.Run)
	start("txpool-journal", n.runJournal)
	start("txpool-regossip", n.runRegossip)
	start("sync", n.sync.Run)
	start("future-blocks", n.runFuture)
	start("snapshot-serve", n.snap.Run)
	if n.sealer != nil {
		start("sealer", n.sealer.Run)
	}
	if n.voter != nil {
		start("voter", n.runVoter)
	}
	for _, s := range n.extra {
		start(s.name, s.run)
	}
	<-ctx.Done()
	n.log.Info("shutting down")
	wg.Wait()
	n.saveJournal()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

func (n *Node) close() {
	n.closeOnce.Do(func() {
		if n.guard != nil {
			n.guard.Close()
		}
		if err := n.db.Close(); err != nil {
			n.log.Error("close database", "error", err)
		}
		n.log.Info("stopped")
	})
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return p
}

// poolView lets the chain ask the pool for verified transactions although
// the pool is created after the chain.
type poolView struct{ p *txpool.Pool }

func (v *poolView) Get(id types.Hash) (*types.Transaction, bool) {
	if v.p == nil {
		return nil, false
	}
	return v.p.Get(id)
}

// sealerPool adapts the pool to what the sealer needs.
type sealerPool struct{ p *txpool.Pool }

func (s sealerPool) Pending(max int) []*types.Transaction { return s.p.Pending(max) }
func (s sealerPool) PendingCount() int                    { return s.p.Stats().Pending }

// sealerChain adapts the chain for the sealer and routes its blocks
// through the node's post-import work.
type sealerChain struct {
	chain       *chain.Chain
	afterImport func(*chain.Result)
}

func (s sealerChain) Head() (*types.Header, types.Hash) { return s.chain.Head() }
func (s sealerChain) BuildBlock(parent types.Hash, h types.Header, txs []*types.Transaction) (*types.Block, error) {
	return s.chain.BuildBlock(parent, h, txs)
}
func (s sealerChain) ImportOwn(b *types.Block) error {
	res, err := s.chain.ImportOwn(b)
	if err != nil {
		return err
	}
	s.afterImport(res)
	return nil
}
