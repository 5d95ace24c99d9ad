//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// sentTx is one transaction of the load and what became of it.
type sentTx struct {
	tx         *types.Transaction
	id         string
	acceptedAt time.Time // zero until some node accepted it
	resubmits  int
	block      uint64 // finalized block holding it, 0 until seen
}

// sender is one funded account of the load, with its next nonce.
type sender struct {
	key     *crypto.PrivateKey
	next    uint64
	waiting *sentTx   // signed but not yet accepted by any node
	open    []*sentTx // accepted, not yet seen in a finalized block
}

// load submits a steady stream of signed transfers, round-robin over the
// nodes that are not faulted. A transaction that no node took (the node
// was down) is retried as is; one a node accepted but that later vanished
// from every pool without being included is resubmitted unchanged, as a
// wallet would: its id stays the same, so it can apply at most once.
type load struct {
	tn      *testnet
	senders []*sender
	to      []crypto.Address

	mu        sync.Mutex
	txs       map[string]*sentTx
	refused   map[string]int // reason -> count
	submitted int            // transactions signed
	accepted  int
	included  int
	lost      int // accepted, later unknown to the node asked and resubmitted
	dup       []string
	finalTo   uint64 // finalized blocks scanned up to here
	rr        int
}

func newLoad(ctx context.Context, tn *testnet, senders []*crypto.PrivateKey, to []crypto.Address) *load {
	l := &load{tn: tn, to: to, txs: map[string]*sentTx{}, refused: map[string]int{}}
	for _, k := range senders {
		l.senders = append(l.senders, &sender{key: k, next: l.nextNonce(ctx, tn.nodes[0], k.Address(), 1)})
	}
	return l
}

// pickNode returns the next node that is not faulted.
func (l *load) pickNode() *node {
	for range len(l.tn.nodes) {
		l.rr++
		n := l.tn.nodes[l.rr%len(l.tn.nodes)]
		if !n.isDown() {
			return n
		}
	}
	return nil
}

// run signs one transfer per sender per tick until ctx ends.
func (l *load) run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var scan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.step(ctx, true)
		if time.Since(scan) > 2*time.Second {
			scan = time.Now()
			l.scanFinalized(ctx)
			l.recheck(ctx)
		}
	}
}

// step submits every waiting transaction, and a new one per sender when
// fresh is set and the sender does not have too many open.
func (l *load) step(ctx context.Context, fresh bool) {
	var batch []*sentTx
	var owners []*sender
	l.mu.Lock()
	for i, s := range l.senders {
		if s.waiting == nil && fresh && len(s.open) < 64 {
			tx := &types.Transaction{ChainID: l.tn.chainID, Nonce: s.next, From: s.key.Address(),
				To: l.to[(i+int(s.next))%len(l.to)], Amount: 1 + s.next%7, Time: uint64(time.Now().UnixMilli())}
			if err := tx.Sign(s.key); err != nil {
				l.mu.Unlock()
				l.tn.t.Errorf("sign: %v", err)
				return
			}
			s.waiting = &sentTx{tx: tx, id: tx.ID().String()}
			s.next++
			l.submitted++
		}
		if s.waiting != nil {
			batch = append(batch, s.waiting)
			owners = append(owners, s)
		}
	}
	n := l.pickNode()
	l.mu.Unlock()
	if len(batch) == 0 || n == nil {
		return
	}
	res, err := l.submit(ctx, n, batch)
	if err != nil {
		return // the node went away: the same transactions go out next tick
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, r := range res {
		st, s := batch[i], owners[i]
		code := ""
		if r.Error != nil {
			code = r.Error.Code
		}
		switch {
		case code == api.CodeNonceTooLow && !l.knownTx(ctx, n, st.id):
			// the nonce went by without this transaction: start again from
			// the account's next nonce
			l.refused[code]++
			s.waiting = nil
			s.next = l.nextNonce(ctx, n, s.key.Address(), st.tx.Nonce)
		case r.Accepted, code == api.CodeKnown, code == api.CodeNonceTooLow:
			// known, or nonce_too_low for a transaction the node has: an
			// earlier try whose answer was lost reached a node after all.
			st.acceptedAt = time.Now()
			if l.txs[st.id] == nil {
				l.txs[st.id] = st
				l.accepted++
			}
			s.open = append(s.open, st)
			s.waiting = nil
		case code == api.CodePoolFull || code == api.CodeAccountFull || code == api.CodeTimeout:
			// busy: retry the same transaction
		default:
			// refused with a reason the client saw: drop it and reuse the nonce
			l.refused[code]++
			s.waiting = nil
			s.next = st.tx.Nonce
		}
	}
}

// knownTx says whether the node knows the transaction (pooled or in a block).
func (l *load) knownTx(ctx context.Context, n *node, id string) bool {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return l.tn.get(cctx, n.url+"/txs/"+id, nil) == nil
}

// nextNonce asks the node for the account's next nonce, keeping fallback
// when it cannot answer.
func (l *load) nextNonce(ctx context.Context, n *node, a crypto.Address, fallback uint64) uint64 {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var acc struct {
		NextNonce uint64 `json:"next_nonce"`
	}
	if err := l.tn.get(cctx, n.url+"/accounts/"+a.String(), &acc); err != nil || acc.NextNonce == 0 {
		return fallback
	}
	return acc.NextNonce
}

func (l *load) submit(ctx context.Context, n *node, batch []*sentTx) ([]api.SubmitResultJSON, error) {
	in := make([]api.TxJSON, len(batch))
	for i, st := range batch {
		in[i] = api.TxToJSON(st.tx)
	}
	var out api.SubmitResponseJSON
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := l.tn.post(cctx, n.url+"/txs", in, &out); err != nil {
		return nil, err
	}
	if len(out.Results) != len(batch) {
		return nil, fmt.Errorf("%d results for %d transactions", len(out.Results), len(batch))
	}
	return out.Results, nil
}

// scanFinalized reads newly finalized blocks from a healthy node and
// marks their transactions; a transaction found in two blocks is a
// double application.
func (l *load) scanFinalized(ctx context.Context) {
	l.mu.Lock()
	n := l.pickNode()
	from := l.finalTo + 1
	l.mu.Unlock()
	if n == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := l.tn.status(cctx, n)
	if err != nil || s.FinalizedHeight < from {
		return
	}
	to := min(s.FinalizedHeight, from+400)
	bs, err := l.tn.blocks(cctx, n, from, to, true)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range bs {
		if b.Number <= l.finalTo {
			continue // another scan (the checker's) got here first
		}
		for _, tx := range b.Transactions {
			st := l.txs[tx.ID]
			if st == nil {
				continue // not ours, or accepted in a result we never read
			}
			if st.block != 0 {
				l.dup = append(l.dup, fmt.Sprintf("tx %s in blocks %d and %d", tx.ID, st.block, b.Number))
				continue
			}
			st.block = b.Number
			l.included++
		}
	}
	l.finalTo = max(l.finalTo, to)
	for _, s := range l.senders {
		open := s.open[:0]
		for _, st := range s.open {
			if st.block == 0 {
				open = append(open, st)
			}
		}
		s.open = open
	}
}

// recheck asks a node about accepted transactions that have been open for
// a while; one the node has never heard of is resubmitted unchanged.
func (l *load) recheck(ctx context.Context) {
	l.mu.Lock()
	var old []*sentTx
	for _, s := range l.senders {
		for _, st := range s.open {
			if time.Since(st.acceptedAt) > 8*time.Second && len(old) < 100 {
				old = append(old, st)
			}
		}
	}
	n := l.pickNode()
	l.mu.Unlock()
	if n == nil {
		return
	}
	var again []*sentTx
	for _, st := range old {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := l.tn.get(cctx, n.url+"/txs/"+st.id, nil)
		cancel()
		if isCode(err, api.CodeUnknownTx) {
			again = append(again, st)
		}
	}
	if len(again) == 0 {
		return
	}
	if res, err := l.submit(ctx, n, again); err == nil {
		l.mu.Lock()
		for i, r := range res {
			if r.Accepted {
				again[i].resubmits++
				l.lost++
			}
		}
		l.mu.Unlock()
	}
}

// loadStats is a snapshot of the counters.
type loadStats struct {
	submitted, accepted, included, open, lost int
	refused                                   []string
	dup                                       []string
}

func (l *load) stats() loadStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := loadStats{submitted: l.submitted, accepted: l.accepted, included: l.included, lost: l.lost,
		dup: append([]string(nil), l.dup...)}
	for _, s := range l.senders {
		st.open += len(s.open)
	}
	for r, c := range l.refused {
		st.refused = append(st.refused, fmt.Sprintf("%d× %s", c, r))
	}
	sort.Strings(st.refused)
	return st
}

// openTxs lists accepted transactions not yet seen finalized.
func (l *load) openTxs() []*sentTx {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*sentTx
	for _, s := range l.senders {
		out = append(out, s.open...)
	}
	return out
}
