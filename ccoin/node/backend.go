package node

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"ccoin/api"
	"ccoin/ccoin/chain"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/rulekind"
	"ccoin/ccoin/types"
)

// backend implements api.Backend over the node.
type backend struct{ n *Node }

var _ api.Backend = backend{}

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

func (b backend) Status() api.Status {
	n := b.n
	head, headID := n.chain.Head()
	final, finalID := n.chain.Finalized()
	sched := n.engine.Schedule()
	slot := sched.SlotAt(uint64(n.opts.Now().UnixMilli()))
	st := n.pool.Stats()
	return api.Status{
		Address: n.Address().String(), Type: n.opts.Type, NetworkID: n.g.File.NetworkID, ChainID: n.g.ChainID.String(),
		Height: head.Number, Head: headID.String(), FinalizedHeight: final.Number, Finalized: finalID.String(),
		Sync: n.sync.state(), Peers: len(n.net.Peers()), Version: Version, Slot: slot,
		Leader: sched.Leader(slot).String(), NextLeader: sched.Leader(slot + 1).String(),
		PoolPending: st.Pending, PoolQueued: st.Queued, GenesisTime: n.g.TimeMs, IntervalMs: n.g.IntervalMs,
	}
}

func (b backend) Head() *types.Block {
	_, id := b.n.chain.Head()
	blk, _ := b.n.chain.Block(id)
	return blk
}

func (b backend) Finalized() *types.Block {
	_, id := b.n.chain.Finalized()
	blk, _ := b.n.chain.Block(id)
	return blk
}

func (b backend) BlockByNumber(num uint64) (*types.Block, error) {
	blk, err := b.n.chain.BlockByNumber(num)
	return blk, notFound(err)
}

func (b backend) BlockByID(id types.Hash) (*types.Block, error) {
	blk, err := b.n.chain.Block(id)
	return blk, notFound(err)
}

func (b backend) IsCanonical(id types.Hash) bool { return b.n.chain.IsCanonical(id) }

func (b backend) Tx(id types.Hash) (api.TxInfo, error) {
	c := b.n.chain
	bid, idx, err := c.TxLocation(id)
	if err != nil {
		if tx, ok := b.n.pool.Get(id); ok {
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

func (b backend) Account(a crypto.Address) (api.AccountInfo, error) {
	acc, err := b.n.chain.Account(a)
	if err != nil {
		return api.AccountInfo{}, err
	}
	next, err := b.n.pool.NextNonce(a)
	if err != nil {
		next = acc.Nonce + 1
	}
	return api.AccountInfo{Address: a, Balance: acc.Balance, Nonce: acc.Nonce, NextNonce: next}, nil
}

func (b backend) AccountsAt(number uint64, after *crypto.Address, limit int) ([]api.AccountInfo, bool, error) {
	blk, err := b.n.chain.BlockByNumber(number)
	if err != nil {
		return nil, false, notFound(err)
	}
	addrs, accs, more, err := b.n.chain.AccountsAt(blk.Header.StateRoot, after, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]api.AccountInfo, len(addrs))
	for i := range addrs {
		out[i] = api.AccountInfo{Address: addrs[i], Balance: accs[i].Balance, Nonce: accs[i].Nonce, NextNonce: accs[i].Nonce + 1}
	}
	return out, more, nil
}

func (b backend) SubmitTxs(txs []*types.Transaction) []error {
	return b.n.SubmitTxs(txs)
}

// SubmitVerifiedTxs is SubmitTxs for transactions whose signatures the API
// has already checked (it stops a batch at the first bad one and bounds
// what each client may make the node verify), so the pool does not check
// them again.
func (b backend) SubmitVerifiedTxs(txs []*types.Transaction) []error {
	return b.n.submitTxs(txs, b.n.pool.AddVerified)
}

// SubmitTxs adds client transactions to the pool and gossips the accepted ones.
func (n *Node) SubmitTxs(txs []*types.Transaction) []error {
	return n.submitTxs(txs, n.pool.Add)
}

func (n *Node) submitTxs(txs []*types.Transaction, add func([]*types.Transaction) []error) []error {
	errs := add(txs)
	var relay [][]byte
	for i, err := range errs {
		if err == nil {
			relay = append(relay, txs[i].Encode(nil))
		} else {
			n.metrics.rejected.WithLabelValues("tx", rulekind.Of(err)).Inc()
		}
	}
	if len(relay) > 0 {
		n.net.BroadcastTxs(relay)
	}
	return errs
}

func (b backend) SignAndSubmit(to crypto.Address, amount uint64, data []byte) (*types.Transaction, error) {
	n := b.n
	n.signMu.Lock()
	defer n.signMu.Unlock()
	from := n.Address()
	nonce, err := n.pool.NextNonce(from)
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = n.g.File.Transaction.PlaceholderData.Fill()
	}
	tx := &types.Transaction{ChainID: n.g.ChainID, Nonce: nonce, From: from, To: to, Amount: amount, Data: data,
		Time: uint64(n.opts.Now().UnixMilli())}
	if err := tx.Sign(n.opts.Key); err != nil {
		return nil, err
	}
	if err := n.SubmitTxs([]*types.Transaction{tx})[0]; err != nil {
		return nil, err
	}
	return tx, nil
}

func (b backend) Pool(limit int) ([]*types.Transaction, int, int) {
	st := b.n.pool.Stats()
	return b.n.pool.Content(limit), st.Pending, st.Queued
}

func (b backend) Peers() []api.PeerInfo {
	ps := b.n.net.Peers()
	out := make([]api.PeerInfo, len(ps))
	for i, p := range ps {
		out[i] = api.PeerInfo{ID: p.ID, Address: p.NodeAddress.String(), ListenAddr: p.ListenAddr, RemoteAddr: p.RemoteAddr,
			Type: p.NodeType, Version: p.Version, Inbound: p.Inbound, Height: p.Height, ConnectedAt: p.ConnectedAt}
	}
	return out
}

func (b backend) Evidence() []api.Evidence {
	pairs, err := b.n.chain.Evidence(1000)
	if err != nil {
		b.n.log.Error("read evidence", "error", err)
	}
	out := make([]api.Evidence, len(pairs))
	for i, p := range pairs {
		out[i] = api.Evidence{Sealer: p[0].Sealer.String(), Slot: p[0].Slot, A: *p[0], B: *p[1]}
	}
	return out
}

func (b backend) Subscribe() (<-chan api.Event, func()) {
	src, cancel := b.n.hub.subscribe(256)
	out := make(chan api.Event, 256)
	go func() {
		defer close(out)
		for ev := range src {
			blk, err := b.n.chain.Block(ev.ID)
			if err != nil {
				continue
			}
			e := api.Event{Kind: ev.Kind, Block: blk, NewHead: ev.ID, OldHead: ev.OldHead, Depth: ev.Depth}
			select {
			case out <- e:
			default:
			}
		}
	}()
	return out, cancel
}

func (b backend) Ready() bool { return b.n.sync.ready() }

// GenesisFile is the genesis JSON initc stored, read on demand (with a
// large alloc it is big, and rarely asked for).
func (b backend) GenesisFile() ([]byte, error) { return chain.StoredGenesis(b.n.db) }

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
		Web: n.opts.Web, Logger: n.log.Named("api"),
	}, backend{n})
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
