package txpool

import (
	"bytes"
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"ccoin/ccoin/types"
)

// Add validates transactions and inserts the valid ones. results[i] is nil
// when txs[i] was accepted, or an error wrapping one of the Err kinds.
// Signatures are checked in parallel, outside the pool lock.
func (p *Pool) Add(txs []*types.Transaction) []error {
	return p.add(txs, true, false, true)
}

// AddFromPeer is Add for a batch a peer relayed. A peer must check
// signatures before relaying, so one bad signature condemns the batch:
// verification stops at the first bad signature found (the rest are not
// verified, so a forged batch costs one check, not thousands) and nothing
// of the batch is inserted. That transaction's error is ErrBadSignature;
// the others then carry ErrNotVerified.
//
// MaxPending does not apply: backpressure belongs at the edge, where
// clients submit (Add, AddVerified). A peer's copy refused for overload is
// not sent again (the network remembers what each peer has), so refusing
// gossip left transactions a client was told were accepted stuck in one
// pool, or later nonces queued behind a gap, for good. MaxTotal and the
// per-sender bounds still hold.
func (p *Pool) AddFromPeer(txs []*types.Transaction) []error {
	return p.add(txs, true, true, false)
}

// AddVerified inserts transactions whose signatures were already verified
// (the API checks them itself). It skips only the signature check.
func (p *Pool) AddVerified(txs []*types.Transaction) []error {
	return p.add(txs, false, false, true)
}

// Overloaded reports whether the pool holds MaxPending executable
// transactions: new ones are refused (ErrOverloaded) until blocks take
// some. Callers use it to refuse a batch before spending work on it.
func (p *Pool) Overloaded() bool {
	limit := int(p.maxPending.Load())
	if limit <= 0 {
		return false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pendingN >= limit
}

// SetMaxPending changes MaxPending: the node follows what blocks take.
func (p *Pool) SetMaxPending(n int) { p.maxPending.Store(int64(n)) }

// add checks and inserts txs: verify their signatures (strict: stop the
// batch at the first bad one), admit: subject to MaxPending.
func (p *Pool) add(txs []*types.Transaction, verify, strict, admit bool) []error {
	errs := make([]error, len(txs))
	if len(txs) == 0 {
		return errs
	}
	if admit && p.Overloaded() {
		// Refused before any signature work, so overload costs nothing.
		for i := range errs {
			errs[i] = fmt.Errorf("%w: %d transactions wait for blocks", ErrOverloaded, p.maxPending.Load())
		}
		return errs
	}

	// Cheap checks that can only reject, so duplicate floods cost no RSA
	// work. Everything is checked again under the write lock. A verdict on
	// the sender's account (nonce, funds) waits for the signature check: a
	// tampered transaction must be reported as a bad signature, whatever its
	// nonce, so a client is never told "nonce too low" for bytes nobody
	// signed. Such a replay costs the same verification as any new transfer.
	var seen map[types.Hash]int
	if len(txs) > 1 {
		seen = make(map[types.Hash]int, len(txs))
	}
	var accountErrs []error
	p.mu.RLock()
	for i, t := range txs {
		err, acctErr := p.precheckLocked(t, verify)
		if acctErr != nil {
			if accountErrs == nil {
				accountErrs = make([]error, len(txs))
			}
			accountErrs[i] = acctErr
		}
		if errs[i] = err; err != nil || seen == nil {
			continue
		}
		id := t.ID()
		// A byte-identical copy gets the same verdict, so it needs no work.
		if j, ok := seen[id]; ok && sameSignature(txs[j], t) {
			errs[i] = fmt.Errorf("%w: %s repeated in the batch", ErrKnown, id)
			continue
		}
		seen[id] = i
	}
	p.mu.RUnlock()

	if verify && !p.verifyAll(txs, errs, strict) {
		for i, err := range errs {
			if err == nil {
				errs[i] = fmt.Errorf("%w: another transaction of the batch has a bad signature", ErrNotVerified)
			}
		}
		return errs
	}
	for i, err := range accountErrs {
		if err != nil && errs[i] == nil {
			errs[i] = err
		}
	}

	order := nonceOrder(txs, errs)
	if len(order) == 0 {
		return errs
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	accepted := 0
	// A batch admitted above is taken whole even if it crosses MaxPending
	// (MaxTotal still holds): refusing its tail would leave each sender's
	// later nonces waiting behind a gap the client must first notice.
	for _, i := range order {
		if errs[i] = p.insertLocked(txs[i], now); errs[i] == nil {
			accepted++
		}
	}
	p.log.Trace("added transactions", "offered", len(txs), "accepted", accepted)
	return errs
}

// nonceOrder lists the indexes of the txs without an error in nonce order
// (stable, so the first of two equal nonces wins): inserted in that order, a
// batch carrying a sender's nonces out of order fills its own gaps instead
// of tripping the gap and queue limits. errs nil means every tx.
func nonceOrder(txs []*types.Transaction, errs []error) []int {
	order := make([]int, 0, len(txs))
	for i := range txs {
		if errs == nil || errs[i] == nil {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(txs[x].Nonce, txs[y].Nonce) })
	return order
}

func sameSignature(a, b *types.Transaction) bool {
	return bytes.Equal(a.Signature, b.Signature) && bytes.Equal(a.PublicKey, b.PublicKey)
}

// precheckLocked runs the checks that need no signature work and at most
// one state read. err rejects t at once; acctErr is the verdict of the
// account checks, which stands only if the signature turns out valid. The
// account checks are skipped without withAccount (AddVerified must first
// refresh the sender's cached state). Caller holds at least the read lock.
func (p *Pool) precheckLocked(t *types.Transaction, withAccount bool) (err, acctErr error) {
	if t == nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, types.ErrUnsigned), nil
	}
	if t.ChainID != p.cfg.ChainID {
		return fmt.Errorf("%w: chain id %s, want %s", ErrWrongChain, t.ChainID, p.cfg.ChainID), nil
	}
	if len(t.Data) > types.MaxTxData {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrDataTooLarge, len(t.Data), types.MaxTxData), nil
	}
	id := t.ID()
	if _, ok := p.all[id]; ok {
		return fmt.Errorf("%w: %s", ErrKnown, id), nil
	}
	if !withAccount {
		return nil, nil
	}
	if a, ok := p.accts[t.From]; ok {
		return nil, p.checkAccount(a, t, false)
	}
	// A sender with nothing pooled: one state read tells a transaction a
	// block already included (gossip often delivers them after the block).
	if st, err := p.st.AccountAt(p.root, t.From); err == nil && t.Nonce <= st.Nonce {
		return nil, fmt.Errorf("%w: nonce %d, account nonce %d", ErrNonceTooLow, t.Nonce, st.Nonce)
	}
	return nil, nil
}

// checkAccount checks t's nonce and amount against its sender's pooled
// state; the gap limit only when withGap, since earlier transactions of the
// same batch may still fill the gap.
func (p *Pool) checkAccount(a *account, t *types.Transaction, withGap bool) error {
	if t.Nonce <= a.nonce {
		return fmt.Errorf("%w: nonce %d, account nonce %d", ErrNonceTooLow, t.Nonce, a.nonce)
	}
	if a.has(t.Nonce) {
		return fmt.Errorf("%w: sender %s nonce %d", ErrNonceTaken, t.From, t.Nonce)
	}
	if next := a.nextNonce(); withGap && t.Nonce > satAdd(next, p.cfg.MaxFutureGap) {
		return fmt.Errorf("%w: nonce %d, next nonce %d, max gap %d", ErrNonceGap, t.Nonce, next, p.cfg.MaxFutureGap)
	}
	if a.committed > a.balance || t.Amount > a.balance-a.committed {
		return fmt.Errorf("%w: amount %d plus %d already pooled exceeds balance %d",
			ErrInsufficientFunds, t.Amount, a.committed, a.balance)
	}
	return nil
}

// verifyAll checks the signatures of the transactions still without an
// error, spread over GOMAXPROCS workers.
func (p *Pool) verifyAll(txs []*types.Transaction, errs []error, stopAtBad bool) (ok bool) {
	todo := make([]int, 0, len(txs))
	for i := range txs {
		if errs[i] == nil {
			todo = append(todo, i)
		}
	}
	var bad atomic.Bool
	check := func(i int) {
		if stopAtBad && bad.Load() {
			return
		}
		if err := txs[i].VerifySignature(p.keys); err != nil {
			errs[i] = fmt.Errorf("%w: %w", ErrBadSignature, err)
			bad.Store(true)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	if workers <= 1 {
		for _, i := range todo {
			check(i)
		}
		return !(stopAtBad && bad.Load())
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(todo) {
					return
				}
				check(todo[k]) // each worker writes distinct errs slots
			}
		})
	}
	wg.Wait()
	return !(stopAtBad && bad.Load())
}

// insertLocked runs every check against current state and inserts t.
// Caller holds the write lock.
func (p *Pool) insertLocked(t *types.Transaction, now time.Time) error {
	id := t.ID()
	if _, ok := p.all[id]; ok {
		return fmt.Errorf("%w: %s", ErrKnown, id)
	}
	a, pooled := p.accts[t.From]
	if !pooled {
		// Read under the lock so a concurrent Reset cannot leave a stale
		// view cached for this sender.
		st, err := p.st.AccountAt(p.root, t.From)
		if err != nil {
			return fmt.Errorf("txpool: read account %s: %w", t.From, err)
		}
		a = &account{addr: t.From, nonce: st.Nonce, balance: st.Balance}
	}
	if err := p.checkAccount(a, t, true); err != nil {
		return err
	}
	if len(p.all) >= p.cfg.MaxTotal {
		return fmt.Errorf("%w: %d transactions", ErrPoolFull, len(p.all))
	}
	if a.count() >= p.cfg.MaxPerAccount {
		return fmt.Errorf("%w: %s has %d", ErrAccountFull, t.From, a.count())
	}
	future := t.Nonce != a.nextNonce()
	if future && p.queuedN >= p.cfg.MaxQueued {
		return fmt.Errorf("%w: %d queued", ErrQueueFull, p.queuedN)
	}

	e := &entry{tx: t, id: id, added: now, offered: now}
	p.all[id] = e
	a.committed += t.Amount
	if future {
		p.queueLocked(a, e)
	} else {
		a.pending = append(a.pending, e)
		p.pendingN++
		p.promoteLocked(a)
	}
	if !pooled {
		p.linkLocked(a)
	}
	return nil
}

func (p *Pool) queueLocked(a *account, e *entry) {
	if a.queued == nil {
		a.queued = make(map[uint64]*entry)
	}
	a.queued[e.tx.Nonce] = e
	p.queuedN++
}
