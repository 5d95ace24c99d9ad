package node

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/api"
	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// The API sees the node through three parts (api.Deps), built by apiDeps
// from explicit dependencies rather than the whole node, so what each part
// can reach is visible in its fields: apiReader reads the chain, pool,
// peers and finality; apiSubmitter adds to the pool and signs with the
// node's key; eventStream relays the chain's events.

// apiDeps builds the API's parts over the node's subsystems; the chain and
// pool must be open.
func (n *Node) apiDeps() api.Deps {
	r := n.apiReader()
	return api.Deps{
		Reader: r,
		Submitter: &apiSubmitter{txs: n.txSubmitter(), sign: nodeSigner{
			mu: &n.signMu, key: n.opts.Key, chainID: n.g.ChainID, placeholder: n.g.File.Transaction.PlaceholderData.Fill,
			nextNonce: n.pool.NextNonce, now: n.opts.Now,
		}},
		Stream:     eventStream{hub: n.hub, blocks: n.chain},
		AccountTxs: r,
	}
}

// apiReader builds the read part alone (also for tests).
func (n *Node) apiReader() *apiReader {
	db, sy := n.db, &n.sync
	return &apiReader{
		chain: n.chain, pool: n.pool, peers: n.net, ffg: n.ffg, g: n.g, sched: n.engine.Schedule(),
		now: n.opts.Now, address: n.Address(), nodeType: n.opts.Type, activity: &n.activity, log: n.log,
		// The syncer is built after the API: read it when asked.
		syncState:   func() string { return (*sy).State() },
		genesisFile: func() ([]byte, error) { return chain.StoredGenesis(db) },
	}
}

// peerLister is the network as the API sees it.
type peerLister interface{ Peers() []p2p.PeerInfo }

// finalityView is the finality gadget as the API sees it.
type finalityView interface {
	Certificate() *types.Certificate
	Final() types.Checkpoint
	Justified() []types.Checkpoint
	Offences() []consensus.Offence
}

// apiReader implements api.Reader and api.AccountTxsReader: read-only
// views of the chain, the pool, the peers and the finality gadget.
type apiReader struct {
	chain       *chain.Chain
	pool        *txpool.Pool
	peers       peerLister
	ffg         finalityView
	g           *genesis.Genesis
	sched       consensus.Schedule
	now         func() time.Time
	address     crypto.Address
	nodeType    string
	syncState   func() string
	genesisFile func() ([]byte, error)
	activity    *voteActivity // each miner's recent votes, for Validators
	log         hclog.Logger
}

var (
	_ api.Reader           = (*apiReader)(nil)
	_ api.AccountTxsReader = (*apiReader)(nil)
	_ api.Submitter        = (*apiSubmitter)(nil)
	_ api.Stream           = eventStream{}
)

// notFound marks the chain's not-found errors as the API's, keeping the
// chain's message ("not found: no block 9", not "not found: not found: ...").
func notFound(err error) error {
	if errors.Is(err, chain.ErrNotFound) {
		return apiNotFound{err}
	}
	return err
}

type apiNotFound struct{ err error }

func (e apiNotFound) Error() string        { return e.err.Error() }
func (e apiNotFound) Unwrap() error        { return e.err }
func (e apiNotFound) Is(target error) bool { return target == api.ErrNotFound }

func (b *apiReader) Status() api.Status {
	head, headID := b.chain.Head()
	final, finalID := b.chain.Finalized()
	slot := b.nowSlot()
	st := b.pool.Stats()
	return api.Status{
		Address: b.address.String(), Type: b.nodeType, NetworkID: b.g.File.NetworkID, ChainID: b.g.ChainID.String(),
		Height: head.Number, Head: headID.String(), FinalizedHeight: final.Number, Finalized: finalID.String(),
		Sync: b.syncState(), Peers: len(b.peers.Peers()), Version: Version, Slot: slot,
		Leader: b.sched.Leader(slot).String(), NextLeader: b.sched.Leader(slot + 1).String(),
		PoolPending: st.Pending, PoolQueued: st.Queued, GenesisTime: b.g.TimeMs, IntervalMs: b.g.IntervalMs,
	}
}

// nowSlot is the slot of the present (the node's nowSlot, from the
// reader's own clock and schedule).
func (b *apiReader) nowSlot() uint64 { return b.sched.SlotAt(uint64(b.now().UnixMilli())) }

func (b *apiReader) Head() *types.Block {
	_, id := b.chain.Head()
	blk, _ := b.chain.Block(id)
	return blk
}

func (b *apiReader) Finalized() *types.Block {
	_, id := b.chain.Finalized()
	blk, _ := b.chain.Block(id)
	return blk
}

func (b *apiReader) BlockByNumber(num uint64) (*types.Block, error) {
	blk, err := b.chain.BlockByNumber(num)
	return blk, notFound(err)
}

func (b *apiReader) BlockByID(id types.Hash) (*types.Block, error) {
	blk, err := b.chain.Block(id)
	return blk, notFound(err)
}

func (b *apiReader) IsCanonical(id types.Hash) bool { return b.chain.IsCanonical(id) }

func (b *apiReader) Tx(id types.Hash) (api.TxInfo, error) {
	c := b.chain
	bid, idx, err := c.TxLocation(id)
	if err != nil {
		if tx, ok := b.pool.Get(id); ok {
			return api.TxInfo{Tx: tx, Status: api.TxPending}, nil
		}
		return api.TxInfo{}, notFound(err)
	}
	blk, err := c.Block(bid)
	if err != nil || idx >= len(blk.Txs) {
		return api.TxInfo{}, fmt.Errorf("tx index points at a missing block: %w", err)
	}
	head, _ := c.Head()
	final, _ := c.Finalized()
	info := api.TxInfo{Tx: blk.Txs[idx], Status: api.TxIncluded, BlockID: &bid, BlockNumber: blk.Header.Number, Index: idx,
		Confirmations: head.Number - blk.Header.Number + 1}
	if blk.Header.Number <= final.Number {
		info.Status = api.TxFinalized
	}
	return info, nil
}

func (b *apiReader) Account(a crypto.Address) (api.AccountInfo, error) {
	acc, err := b.chain.Account(a)
	if err != nil {
		return api.AccountInfo{}, err
	}
	next, err := b.pool.NextNonce(a)
	if err != nil {
		next = acc.Nonce + 1
	}
	return api.AccountInfo{Address: a, Balance: acc.Balance, Nonce: acc.Nonce, NextNonce: next}, nil
}

func (b *apiReader) AccountsAt(number uint64, after *crypto.Address, limit int) ([]api.AccountInfo, bool, error) {
	blk, err := b.chain.BlockByNumber(number)
	if err != nil {
		return nil, false, notFound(err)
	}
	addrs, accs, more, err := b.chain.AccountsAt(blk.Header.StateRoot, after, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]api.AccountInfo, len(addrs))
	for i := range addrs {
		out[i] = api.AccountInfo{Address: addrs[i], Balance: accs[i].Balance, Nonce: accs[i].Nonce, NextNonce: accs[i].Nonce + 1}
	}
	return out, more, nil
}

func (b *apiReader) Pool(limit int) ([]*types.Transaction, int, int) {
	st := b.pool.Stats()
	return b.pool.Content(limit), st.Pending, st.Queued
}

func (b *apiReader) Peers() []api.PeerInfo {
	ps := b.peers.Peers()
	out := make([]api.PeerInfo, len(ps))
	for i, p := range ps {
		out[i] = api.PeerInfo{ID: p.ID, Address: p.NodeAddress.String(), ListenAddr: p.ListenAddr, RemoteAddr: p.RemoteAddr,
			Type: p.NodeType, Version: p.Version, Inbound: p.Inbound, Height: p.Height, ConnectedAt: p.ConnectedAt}
	}
	return out
}

func (b *apiReader) Evidence() []api.Evidence {
	pairs, err := b.chain.Evidence(1000)
	if err != nil {
		b.log.Error("read evidence", "error", err)
	}
	out := make([]api.Evidence, len(pairs))
	for i, p := range pairs {
		out[i] = api.Evidence{Sealer: p[0].Sealer.String(), Slot: p[0].Slot, A: *p[0], B: *p[1]}
	}
	return out
}

func (b *apiReader) Ready() bool { return b.syncState() == StateReady }

// GenesisFile is the genesis JSON initc stored, read on demand (with a
// large alloc it is big, and rarely asked for).
func (b *apiReader) GenesisFile() ([]byte, error) { return b.genesisFile() }

// startAPI builds the HTTP API and registers it to run with the node. The
// API listens on 127.0.0.1 unless the config names another host.
func (n *Node) startAPI() error {
	cfg := n.opts.Config
	if cfg.HTTP.Disabled {
		return nil
	}
	port := n.opts.HTTPPort
	if port < 0 {
		port = cfg.HTTP.Port
		if port == 0 {
			p, _ := strconv.Atoi(portOf(n.net.Addr()))
			port = p + 1
		}
	}
	host := cfg.HTTP.Host
	if host == "" {
		host = "127.0.0.1"
	}
	tokenPath := cfg.HTTP.TokenFile
	if tokenPath == "" {
		tokenPath = TokenPath(n.opts.DataDir)
	}
	token, created, err := api.LoadOrCreateToken(tokenPath)
	if err != nil {
		return err
	}
	n.log.Info("api token", "path", tokenPath, "created", created)
	srv, err := api.New(api.Config{
		Addr: net.JoinHostPort(host, strconv.Itoa(port)), NodeAddress: n.Address(), Token: token,
		MaxBody: cfg.HTTP.MaxBodyBytes, Gatherer: n.metrics.reg, Registerer: n.metrics.reg,
		Web: n.opts.Web, Logger: n.log.Named("api"), Keys: n.keys,
	}, n.apiDeps())
	if err != nil {
		return err
	}
	n.api = srv
	n.extra = append(n.extra, subsystem{"api", srv.Run})
	return nil
}

// APIAddr is the bound HTTP API address ("" when disabled).
func (n *Node) APIAddr() string {
	if n.api == nil {
		return ""
	}
	return n.api.Addr()
}
