package apitest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/fanout"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// Keys are RSA-2048 keys generated once per test binary (generation is slow).
type Keys struct {
	Node, Alice, Bob *crypto.PrivateKey
}

var (
	keysOnce sync.Once
	keys     Keys
	keysErr  error
)

// TestKeys returns the shared keys.
func TestKeys() (Keys, error) {
	keysOnce.Do(func() {
		for _, k := range []**crypto.PrivateKey{&keys.Node, &keys.Alice, &keys.Bob} {
			if *k, keysErr = crypto.GenerateKey(); keysErr != nil {
				return
			}
		}
	})
	return keys, keysErr
}

// Fake is an in-memory node serving every part of api.Deps (see Deps): a
// canonical chain of three blocks (two of them holding Alice's transfers to
// Bob), a stored side block, one pooled transaction, a peer and one piece of
// evidence. Blocks are really sealed
// and transactions really signed, so clients can verify what they get.
type Fake struct {
	Keys    Keys
	ChainID types.Hash
	Extra   []crypto.Address // extra genesis accounts, for state paging

	mu            sync.Mutex
	overloadedFor time.Duration  // SetOverloaded
	chain         []*types.Block // canonical; chain[i] is block i+1
	side          *types.Block
	byID          map[types.Hash]*types.Block
	finalized     uint64
	states        map[uint64]map[crypto.Address]types.Account // state after each canonical block
	where         map[types.Hash]txWhere
	pool          []*types.Transaction
	peers         []api.PeerInfo
	evidence      []api.Evidence
	ready         bool
	events        *fanout.Hub[api.Event]
	signed        int                // transactions signed by SignAndSubmit
	cert          *types.Certificate // of the final block, made on demand (finality.go)
	noCert        bool
	offence       *api.VoteOffence
}

type txWhere struct {
	block *types.Block
	index int
}

// Balances in the fake's genesis.
const (
	GenesisBalance = 1_000_000
	Reward         = 50
)

// NewFake builds the fake chain.
func NewFake() (*Fake, error) {
	k, err := TestKeys()
	if err != nil {
		return nil, err
	}
	f := &Fake{
		Keys:   k,
		byID:   map[types.Hash]*types.Block{},
		states: map[uint64]map[crypto.Address]types.Account{},
		where:  map[types.Hash]txWhere{},
		events: fanout.New[api.Event](0),
		ready:  true,
	}
	for i := 0; i < 5; i++ {
		f.Extra = append(f.Extra, crypto.AddressOf([]byte{byte(i)}))
	}
	st := map[crypto.Address]types.Account{
		k.Alice.Address(): {Balance: GenesisBalance},
		k.Node.Address():  {Balance: GenesisBalance},
	}
	for i, a := range f.Extra {
		st[a] = types.Account{Balance: uint64(i + 1)}
	}
	gen := &types.Block{Header: types.Header{
		Version: types.HeaderVersion, Number: 1, Time: 1_700_000_000_000,
		StateRoot: stateRoot(st), Difficulty: 1, Data: []byte("genesis"),
	}}
	gen.Header.Mine(0, nil)
	if gen, err = types.DecodeBlock(gen.Encode(nil)); err != nil {
		return nil, err
	}
	f.ChainID = gen.ID()
	f.addCanonical(gen, st)

	t1 := f.MustSign(k.Alice, 1, k.Bob.Address(), 100, "first")
	t2 := f.MustSign(k.Alice, 2, k.Bob.Address(), 200, "")
	if err := f.seal(2, []*types.Transaction{t1, t2}); err != nil {
		return nil, err
	}
	t3 := f.MustSign(k.Alice, 3, k.Bob.Address(), 300, "third")
	if err := f.seal(4, []*types.Transaction{t3}); err != nil {
		return nil, err
	}
	f.finalized = 2

	// A side block at height 3 that lost fork choice, and its evidence.
	side, err := f.build(f.chain[1], 4, nil, []byte("side"))
	if err != nil {
		return nil, err
	}
	f.side = side
	f.byID[side.ID()] = side
	f.evidence = []api.Evidence{{Sealer: k.Node.Address().String(), Slot: 4, A: f.chain[2].Header, B: side.Header}}
	if f.chain[2].Header.Slot != 4 {
		return nil, fmt.Errorf("fake: slot mismatch")
	}

	f.pool = []*types.Transaction{f.MustSign(k.Alice, 4, k.Bob.Address(), 400, "pending")}
	f.peers = []api.PeerInfo{{
		ID: 7, Address: k.Bob.Address().String(), ListenAddr: "127.0.0.1:5000", RemoteAddr: "127.0.0.1:40123",
		Type: "validator", Version: "ccoin/test", Inbound: true, Height: 3, ConnectedAt: time.UnixMilli(1_700_000_100_000),
	}}
	return f, nil
}

func stateRoot(st map[crypto.Address]types.Account) types.Hash {
	addrs := sortedAddrs(st)
	h := sha256.New()
	for _, a := range addrs {
		h.Write(a[:])
		h.Write(st[a].Encode(nil))
	}
	var out types.Hash
	copy(out[:], h.Sum(nil))
	return out
}

func sortedAddrs(st map[crypto.Address]types.Account) []crypto.Address {
	addrs := make([]crypto.Address, 0, len(st))
	for a := range st {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i][:], addrs[j][:]) < 0 })
	return addrs
}

// MustSign signs a transaction on the fake's chain; it panics on failure
// (test setup only).
func (f *Fake) MustSign(from *crypto.PrivateKey, nonce uint64, to crypto.Address, amount uint64, data string) *types.Transaction {
	t := &types.Transaction{ChainID: f.ChainID, Nonce: nonce, From: from.Address(), To: to, Amount: amount, Time: 1_700_000_000_000 + nonce}
	if data != "" {
		t.Data = []byte(data)
	}
	if err := t.Sign(from); err != nil {
		panic(err)
	}
	return t
}

func (f *Fake) build(parent *types.Block, slot uint64, txs []*types.Transaction, data []byte) (*types.Block, error) {
	k := f.Keys.Node
	st := apply(f.states[parent.Header.Number], txs, k.Address())
	b := &types.Block{Header: types.Header{
		Version: types.HeaderVersion, ChainID: f.ChainID, Number: parent.Header.Number + 1,
		Parent: parent.ID(), Slot: slot, Time: 1_700_000_000_000 + slot*5000, Sealer: k.Address(),
		TxRoot: types.TxRoot((&types.Block{Txs: txs}).TxIDs()), StateRoot: stateRoot(st),
		Reward: Reward, Difficulty: 1, Data: data,
	}, Txs: txs}
	b.Header.Mine(0, nil)
	if err := b.Seal(k); err != nil {
		return nil, err
	}
	return types.DecodeBlock(b.Encode(nil))
}

func apply(prev map[crypto.Address]types.Account, txs []*types.Transaction, sealer crypto.Address) map[crypto.Address]types.Account {
	st := make(map[crypto.Address]types.Account, len(prev)+2)
	for a, v := range prev {
		st[a] = v
	}
	for _, t := range txs {
		from, to := st[t.From], st[t.To]
		from.Balance -= t.Amount
		from.Nonce = t.Nonce
		st[t.From] = from
		to = st[t.To]
		to.Balance += t.Amount
		st[t.To] = to
	}
	s := st[sealer]
	s.Balance += Reward
	st[sealer] = s
	return st
}

func (f *Fake) seal(slot uint64, txs []*types.Transaction) error {
	b, err := f.build(f.chain[len(f.chain)-1], slot, txs, nil)
	if err != nil {
		return err
	}
	f.addCanonical(b, apply(f.states[b.Header.Number-1], txs, f.Keys.Node.Address()))
	return nil
}

func (f *Fake) addCanonical(b *types.Block, st map[crypto.Address]types.Account) {
	f.chain = append(f.chain, b)
	f.byID[b.ID()] = b
	f.states[b.Header.Number] = st
	for i, t := range b.Txs {
		f.where[t.ID()] = txWhere{block: b, index: i}
	}
}

// SealPool puts every pooled transaction into a new canonical block and
// publishes a head event, as a node would.
func (f *Fake) SealPool() (*types.Block, error) {
	f.mu.Lock()
	txs := f.pool
	f.pool = nil
	slot := f.chain[len(f.chain)-1].Header.Slot + 1
	err := f.seal(slot, txs)
	var b *types.Block
	if err == nil {
		b = f.chain[len(f.chain)-1]
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	f.Publish(api.Event{Kind: api.EventHead, Block: b, NewHead: b.ID()})
	return b, nil
}

// Finalize moves the finalized block to the head.
func (f *Fake) Finalize() {
	f.mu.Lock()
	f.finalized = uint64(len(f.chain))
	b := f.chain[len(f.chain)-1]
	f.mu.Unlock()
	f.Publish(api.Event{Kind: api.EventFinalized, Block: b})
}

// SetReady sets what Ready reports.
func (f *Fake) SetReady(r bool) {
	f.mu.Lock()
	f.ready = r
	f.mu.Unlock()
}

// Publish sends ev to every subscriber, dropping it for the full ones.
func (f *Fake) Publish(ev api.Event) { f.events.Publish(ev) }

// Subscribers is the number of open subscriptions.
func (f *Fake) Subscribers() int { return f.events.Len() }

// SideBlock is the stored, non-canonical block.
func (f *Fake) SideBlock() *types.Block { return f.side }

// Canonical returns canonical block n (1-based), or nil.
func (f *Fake) Canonical(n uint64) *types.Block {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n == 0 || n > uint64(len(f.chain)) {
		return nil
	}
	return f.chain[n-1]
}

// PoolTxs is a copy of the pool.
func (f *Fake) PoolTxs() []*types.Transaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pool)
}

// --- api.Reader, api.Submitter, api.Stream ---

func (f *Fake) Status() api.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	head := f.chain[len(f.chain)-1]
	fin := f.chain[f.finalized-1]
	sync := "ready"
	if !f.ready {
		sync = "syncing"
	}
	return api.Status{
		Address: f.Keys.Node.Address().String(), Type: "validator", NetworkID: 42,
		ChainID: f.ChainID.String(), Height: head.Header.Number, Head: head.ID().String(),
		FinalizedHeight: fin.Header.Number, Finalized: fin.ID().String(), Sync: sync,
		Peers: len(f.peers), Version: "ccoin/test", Slot: head.Header.Slot + 1,
		Leader: f.Keys.Node.Address().String(), NextLeader: f.Keys.Node.Address().String(),
		PoolPending: len(f.pool), GenesisTime: 1_700_000_000_000, IntervalMs: 5000,
	}
}

func (f *Fake) Head() *types.Block {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.chain[len(f.chain)-1]
}

func (f *Fake) Finalized() *types.Block {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.chain[f.finalized-1]
}

func (f *Fake) BlockByNumber(n uint64) (*types.Block, error) {
	if b := f.Canonical(n); b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("block %d: %w", n, api.ErrNotFound)
}

func (f *Fake) BlockByID(id types.Hash) (*types.Block, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.byID[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("block %s: %w", id, api.ErrNotFound)
}

func (f *Fake) IsCanonical(id types.Hash) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.byID[id]
	return ok && b.Header.Number <= uint64(len(f.chain)) && f.chain[b.Header.Number-1].ID() == id
}

func (f *Fake) Tx(id types.Hash) (api.TxInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.where[id]; ok {
		bid := w.block.ID()
		n := w.block.Header.Number
		status := api.TxIncluded
		if n <= f.finalized {
			status = api.TxFinalized
		}
		return api.TxInfo{Tx: w.block.Txs[w.index], Status: status, BlockID: &bid, BlockNumber: n,
			Index: w.index, Confirmations: uint64(len(f.chain)) - n + 1}, nil
	}
	for _, t := range f.pool {
		if t.ID() == id {
			return api.TxInfo{Tx: t, Status: api.TxPending}, nil
		}
	}
	return api.TxInfo{}, fmt.Errorf("tx %s: %w", id, api.ErrNotFound)
}

func (f *Fake) Account(a crypto.Address) (api.AccountInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	acc := f.states[uint64(len(f.chain))][a]
	next := acc.Nonce + 1
	for _, t := range f.pool {
		if t.From == a && t.Nonce >= next {
			next = t.Nonce + 1
		}
	}
	return api.AccountInfo{Address: a, Balance: acc.Balance, Nonce: acc.Nonce, NextNonce: next}, nil
}

func (f *Fake) AccountsAt(number uint64, after *crypto.Address, limit int) ([]api.AccountInfo, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.states[number]
	if !ok || number > uint64(len(f.chain)) {
		return nil, false, fmt.Errorf("state at %d: %w", number, api.ErrNotFound)
	}
	var out []api.AccountInfo
	for _, a := range sortedAddrs(st) {
		if after != nil && bytes.Compare(a[:], after[:]) <= 0 {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		v := st[a]
		out = append(out, api.AccountInfo{Address: a, Balance: v.Balance, Nonce: v.Nonce, NextNonce: v.Nonce + 1})
	}
	return out, false, nil
}

// SubmitTxs applies simplified pool rules with the real pool's error kinds.
func (f *Fake) SubmitTxs(txs []*types.Transaction) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	errs := make([]error, len(txs))
	for i, t := range txs {
		errs[i] = f.admit(t)
	}
	return errs
}

// SubmitVerifiedTxs is SubmitTxs; the fake checks signatures again, which
// only costs time.
func (f *Fake) SubmitVerifiedTxs(txs []*types.Transaction) []error { return f.SubmitTxs(txs) }

func (f *Fake) admit(t *types.Transaction) error {
	id := t.ID()
	if _, ok := f.where[id]; ok {
		return fmt.Errorf("%w: %s", txpool.ErrKnown, id)
	}
	if t.ChainID != f.ChainID {
		return fmt.Errorf("%w: %s", txpool.ErrWrongChain, t.ChainID)
	}
	if len(t.Data) > 512 {
		return fmt.Errorf("%w: %d bytes", txpool.ErrDataTooLarge, len(t.Data))
	}
	if err := t.VerifySignature(nil); err != nil {
		return fmt.Errorf("%w: %w", txpool.ErrBadSignature, err)
	}
	acc := f.states[uint64(len(f.chain))][t.From]
	next := acc.Nonce + 1
	spent := t.Amount
	for _, p := range f.pool {
		if p.ID() == id {
			return fmt.Errorf("%w: %s", txpool.ErrKnown, id)
		}
		if p.From == t.From {
			if p.Nonce == t.Nonce {
				return fmt.Errorf("%w: nonce %d", txpool.ErrNonceTaken, t.Nonce)
			}
			if p.Nonce >= next {
				next = p.Nonce + 1
			}
			spent += p.Amount
		}
	}
	switch {
	case t.Nonce <= acc.Nonce:
		return fmt.Errorf("%w: nonce %d, account at %d", txpool.ErrNonceTooLow, t.Nonce, acc.Nonce)
	case t.Nonce > next:
		return fmt.Errorf("%w: nonce %d, next is %d", txpool.ErrNonceGap, t.Nonce, next)
	case spent > acc.Balance || spent < t.Amount:
		return fmt.Errorf("%w: balance %d", txpool.ErrInsufficientFunds, acc.Balance)
	case len(f.pool) >= 64:
		return txpool.ErrPoolFull
	}
	f.pool = append(f.pool, t)
	return nil
}

// SignAndSubmit signs a transfer from the node's key.
func (f *Fake) SignAndSubmit(to crypto.Address, amount uint64, data []byte) (*types.Transaction, error) {
	f.mu.Lock()
	acc := f.states[uint64(len(f.chain))][f.Keys.Node.Address()]
	next := acc.Nonce + 1
	for _, p := range f.pool {
		if p.From == f.Keys.Node.Address() && p.Nonce >= next {
			next = p.Nonce + 1
		}
	}
	f.mu.Unlock()
	t := &types.Transaction{ChainID: f.ChainID, Nonce: next, From: f.Keys.Node.Address(), To: to, Amount: amount, Data: data, Time: uint64(time.Now().UnixMilli())}
	if err := t.Sign(f.Keys.Node); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.admit(t); err != nil {
		return nil, err
	}
	f.signed++
	return t, nil
}

func (f *Fake) Pool(limit int) ([]*types.Transaction, int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := min(limit, len(f.pool))
	return slices.Clone(f.pool[:n]), len(f.pool), 0
}

func (f *Fake) Peers() []api.PeerInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.peers)
}

func (f *Fake) Evidence() []api.Evidence {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.evidence)
}

// Subscribe hands out a channel of 16 events; cancel closes it.
func (f *Fake) Subscribe() (<-chan api.Event, func()) { return f.events.Subscribe(16) }

// GenesisFile implements api.Reader: a genesis.json naming the fake's
// miners and quorum rule. The fake's chain was not built from it (its
// genesis block is a stand-in), so its hash is not the fake's chain id.
func (f *Fake) GenesisFile() ([]byte, error) {
	return []byte(`{
  "network_id": 42,
  "timestamp": 1700000000,
  "miners": ["` + f.Keys.Node.Address().String() + `", "` + f.Keys.Bob.Address().String() + `"],
  "block_mining": {"interval": 5, "max_bound": 100, "min_bound": 0, "reward": ` + fmt.Sprint(Reward) + `, "difficulty": 1, "allow_empty": true},
  "genesis_block": {"difficulty": 1},
  "finality": "majority",
  "alloc": {"` + f.Keys.Alice.Address().String() + `": {"balance": ` + fmt.Sprint(GenesisBalance) + `}}
}
`), nil
}

func (f *Fake) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

// Overloaded implements api.Submitter: SetOverloaded decides.
func (f *Fake) Overloaded() (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.overloadedFor, f.overloadedFor > 0
}

// SetOverloaded makes the node refuse submissions for now, asking clients
// to retry after d (0: accept again).
func (f *Fake) SetOverloaded(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.overloadedFor = d
}

var (
	_ api.Reader    = (*Fake)(nil)
	_ api.Submitter = (*Fake)(nil)
	_ api.Stream    = (*Fake)(nil)
)

// Deps serves every part of the API from f.
func (f *Fake) Deps() api.Deps {
	return api.Deps{Reader: f, Submitter: f, Stream: f, AccountTxs: f}
}
