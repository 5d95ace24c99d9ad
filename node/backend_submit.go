package node

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/rulekind"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// txRelay gossips transactions to peers, and says when they take them
// slower than they come (p2p.Network.Backlogged).
type txRelay interface {
	BroadcastTxs(txs [][]byte)
	Backlogged() bool
}

// errBacklogged refuses client transactions while the peers cannot take
// what the node already gossips: more would only be queued for peers that
// cannot receive them, or left behind. It is an overload (errors.Is
// txpool.ErrOverloaded), so the API answers 503 overloaded with
// Retry-After and the client retries.
var errBacklogged = fmt.Errorf("%w: peers take transactions slower than they come", txpool.ErrOverloaded)

// txSubmitter adds client transactions to the pool, gossips the accepted
// ones and counts the refused ones by kind. While the network is
// backlogged it refuses them all (errBacklogged).
type txSubmitter struct {
	pool     *txpool.Pool
	relay    txRelay
	rejected *prometheus.CounterVec // ccoin_rejected_total{kind, reason}
	slot     time.Duration          // when an overloaded pool has room again
}

func (n *Node) txSubmitter() txSubmitter {
	return txSubmitter{pool: n.pool, relay: n.net, rejected: n.metrics.rejected,
		slot: time.Duration(n.g.IntervalMs) * time.Millisecond}
}

// Overloaded implements api.Submitter: the pool holds its MaxPending
// executable transactions, or the peers cannot take the transactions the
// node gossips (the network is backlogged). The next block frees room in
// the pool, and the writers drain a backlog by the batch, so a client
// retries after a slot.
func (s *apiSubmitter) Overloaded() (time.Duration, bool) {
	return s.txs.slot, s.txs.pool.Overloaded() || s.txs.relay.Backlogged()
}

// SubmitTxs adds client transactions to the pool and gossips the accepted ones.
func (n *Node) SubmitTxs(txs []*types.Transaction) []error {
	s := n.txSubmitter()
	return s.submit(txs, s.pool.Add)
}

func (s txSubmitter) submit(txs []*types.Transaction, add func([]*types.Transaction) []error) []error {
	var errs []error
	if s.relay.Backlogged() {
		errs = make([]error, len(txs))
		for i := range errs {
			errs[i] = errBacklogged
		}
	} else {
		errs = add(txs)
	}
	var relay [][]byte
	for i, err := range errs {
		if err == nil {
			relay = append(relay, txs[i].Encode(nil))
		} else {
			s.rejected.WithLabelValues("tx", rulekind.Of(err)).Inc()
		}
	}
	if len(relay) > 0 {
		s.relay.BroadcastTxs(relay)
	}
	return errs
}

// nodeSigner signs transfers from the node's own account.
type nodeSigner struct {
	mu          *sync.Mutex // one node-signed transaction at a time, so nonces do not collide
	key         *crypto.PrivateKey
	chainID     types.Hash
	placeholder func() []byte // the genesis' placeholder data, for a transfer without data
	nextNonce   func(crypto.Address) (uint64, error)
	now         func() time.Time
}

// apiSubmitter implements api.Submitter.
type apiSubmitter struct {
	txs  txSubmitter
	sign nodeSigner
}

// SubmitVerifiedTxs is SubmitTxs for transactions whose signatures the API
// has already checked (it stops a batch at the first bad one and bounds
// what each client may make the node verify), so the pool does not check
// them again.
func (s *apiSubmitter) SubmitVerifiedTxs(txs []*types.Transaction) []error {
	return s.txs.submit(txs, s.txs.pool.AddVerified)
}

// SignAndSubmit signs a transfer from the node's account with the next
// nonce the pool expects and submits it, verified in full like any client's.
func (s *apiSubmitter) SignAndSubmit(to crypto.Address, amount uint64, data []byte) (*types.Transaction, error) {
	sg := &s.sign
	sg.mu.Lock()
	defer sg.mu.Unlock()
	from := sg.key.Address()
	nonce, err := sg.nextNonce(from)
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = sg.placeholder()
	}
	tx := &types.Transaction{ChainID: sg.chainID, Nonce: nonce, From: from, To: to, Amount: amount, Data: data,
		Time: uint64(sg.now().UnixMilli())}
	if err := tx.Sign(sg.key); err != nil {
		return nil, err
	}
	if err := s.txs.submit([]*types.Transaction{tx}, s.txs.pool.Add)[0]; err != nil {
		return nil, err
	}
	return tx, nil
}
