package txpool

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// State is the chain state the pool validates against (implemented by the
// chain). It must be safe for concurrent use.
//
// The pool reads it at the root of the head it was last told of (Reset),
// not at whatever head the chain has now: after a reorg the chain's head
// state already has the abandoned branch's nonces undone while the pool
// has not yet taken those transactions back, and a client's next nonce
// read against that state looked like a gap (issue 15's nonce_gap
// refusals under load).
type State interface {
	AccountAt(root types.Hash, a crypto.Address) (types.Account, error)
}

// Head is a new chain head as the pool needs to know it.
type Head struct {
	// Root is its state root; the pool reads accounts there until the
	// next Reset.
	Root types.Hash
	// Touched lists the accounts whose state may differ from the last
	// head's; nil means every pooled account.
	Touched []crypto.Address
	// Abandoned are a reorg's transactions that the new branch lacks. The
	// pool takes them back regardless of MaxPending: they were accepted
	// once and must not be lost.
	Abandoned []*types.Transaction
}

// Config sets the pool's identity and bounds. Zero fields take the defaults.
type Config struct {
	ChainID       types.Hash
	MaxTotal      int    // default 200,000 transactions
	MaxPerAccount int    // default 4,096 (pending + queued)
	MaxFutureGap  uint64 // default 64: nonce at most NextNonce + gap, else ErrNonceGap
	MaxQueued     int    // default 20,000 future transactions in total
	// MaxPending bounds the executable transactions: at this many, Add
	// and AddVerified (clients' submissions) refuse new batches with ErrOverloaded
	// (the node sets it to a block or two's worth, and moves it with
	// SetMaxPending as block sizes change, so a client learns at once that
	// it must slow down instead of waiting behind a growing backlog).
	// A batch admitted below the bound is taken whole. 0: no bound besides
	// MaxTotal.
	MaxPending int
	TTL        time.Duration // default 10 min: queued transactions older than this expire
	Logger     hclog.Logger
	Now        func() time.Time
	Clock      clock.Clock // drives Run's expiry ticker; nil: the system clock
	// Keys parses keys and remembers verified signatures; the node shares
	// one with its chain and API so a transaction is verified once. Nil:
	// the pool keeps its own.
	Keys *crypto.KeyCache
	// Root is the state root of the head the pool starts at.
	Root types.Hash
}

// Defaults for Config.
const (
	DefaultMaxTotal      = 200_000
	DefaultMaxPerAccount = 4096
	DefaultMaxFutureGap  = 64
	DefaultMaxQueued     = 20_000
	DefaultTTL           = 10 * time.Minute
)

// keyCacheSize bounds the parsed-key cache; parsing a key costs about as much
// as a verification, and active senders are far fewer than this.
const keyCacheSize = 8192

// Stats counts the pool's content.
type Stats struct {
	Pending int `json:"pending"`
	Queued  int `json:"queued"`
	Senders int `json:"senders"`
}

type entry struct {
	tx      *types.Transaction
	id      types.Hash
	added   time.Time
	offered time.Time // added, or last returned by Stale
}

// account is one sender's pooled transactions and its cached head state.
type account struct {
	addr      crypto.Address
	nonce     uint64 // head account nonce (of its last applied transaction)
	balance   uint64
	committed uint64            // sum of the amounts of all pooled txs; never above balance
	pending   []*entry          // pending[i].tx.Nonce == nonce+1+i
	queued    map[uint64]*entry // nonces beyond the pending run
	// Arrival list of senders, for round-robin in Pending.
	prev, next *account
}

func (a *account) nextNonce() uint64 { return satAdd(satAdd(a.nonce, 1), uint64(len(a.pending))) }

func (a *account) count() int { return len(a.pending) + len(a.queued) }

// has reports whether a transaction with nonce n is pooled for a.
func (a *account) has(n uint64) bool {
	if n > a.nonce && n-a.nonce <= uint64(len(a.pending)) {
		return true
	}
	_, ok := a.queued[n]
	return ok
}

// Pool is the transaction pool. All methods are safe for concurrent use.
type Pool struct {
	cfg  Config
	st   State
	log  hclog.Logger
	now  func() time.Time
	keys *crypto.KeyCache

	maxPending atomic.Int64 // Config.MaxPending, or as SetMaxPending changed it

	mu         sync.RWMutex
	root       types.Hash // state root of the head of the last Reset
	all        map[types.Hash]*entry
	accts      map[crypto.Address]*account
	head, tail *account // arrival order of senders
	pendingN   int
	queuedN    int
	lastExpire time.Time
}

// New returns an empty pool validating against st.
func New(cfg Config, st State) *Pool {
	if cfg.MaxTotal <= 0 {
		cfg.MaxTotal = DefaultMaxTotal
	}
	if cfg.MaxPerAccount <= 0 {
		cfg.MaxPerAccount = DefaultMaxPerAccount
	}
	if cfg.MaxFutureGap == 0 {
		cfg.MaxFutureGap = DefaultMaxFutureGap
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Keys == nil {
		cfg.Keys = crypto.NewKeyCache(keyCacheSize)
	}
	p := &Pool{
		cfg:        cfg,
		st:         st,
		log:        cfg.Logger,
		now:        cfg.Now,
		keys:       cfg.Keys,
		root:       cfg.Root,
		all:        make(map[types.Hash]*entry),
		accts:      make(map[crypto.Address]*account),
		lastExpire: cfg.Now(),
	}
	p.maxPending.Store(int64(cfg.MaxPending))
	return p
}

// Get returns a pooled transaction by id.
func (p *Pool) Get(id types.Hash) (*types.Transaction, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.all[id]
	if !ok {
		return nil, false
	}
	return e.tx, true
}

// Encodings returns the canonical encodings of the pooled transactions
// among ids, nil where one is not pooled: what fills a compact block.
func (p *Pool) Encodings(ids []types.Hash) [][]byte {
	out := make([][]byte, len(ids))
	p.mu.RLock()
	defer p.mu.RUnlock()
	for i, id := range ids {
		if e, ok := p.all[id]; ok {
			out[i] = e.tx.Encode(nil)
		}
	}
	return out
}

// Has reports whether a transaction with this id is pooled.
func (p *Pool) Has(id types.Hash) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.all[id]
	return ok
}

// Verified reports whether the pool holds this exact transaction: the same id
// and the same key and signature bytes, which the pool verified (or was told
// were verified) on the way in. A different signature of the same id is not
// vouched for.
func (p *Pool) Verified(t *types.Transaction) bool {
	if t == nil {
		return false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.all[t.ID()]
	return ok && bytes.Equal(e.tx.Signature, t.Signature) && bytes.Equal(e.tx.PublicKey, t.PublicKey)
}

// NextNonce is the nonce a new transaction from a should use: the account
// nonce + 1 + the length of its pooled gapless run.
func (p *Pool) NextNonce(a crypto.Address) (uint64, error) {
	p.mu.RLock()
	if acc, ok := p.accts[a]; ok {
		n := acc.nextNonce()
		p.mu.RUnlock()
		return n, nil
	}
	root := p.root
	p.mu.RUnlock()
	st, err := p.st.AccountAt(root, a)
	if err != nil {
		return 0, fmt.Errorf("txpool: read account %s: %w", a, err)
	}
	return satAdd(st.Nonce, 1), nil
}

// Stats counts pending and queued transactions and distinct senders.
func (p *Pool) Stats() Stats {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return Stats{Pending: p.pendingN, Queued: p.queuedN, Senders: len(p.accts)}
}

// Pending returns up to max executable transactions in a valid execution
// order: per sender the gapless run from its account nonce+1 whose running
// amount stays within its balance, interleaved one per sender per round with
// senders in arrival order, so no single sender can crowd out the others.
func (p *Pool) Pending(max int) []*types.Transaction {
	if max <= 0 {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pendingLocked(max)
}

func (p *Pool) pendingLocked(max int) []*types.Transaction {
	out := make([]*types.Transaction, 0, min(max, p.pendingN))
	type cursor struct {
		a     *account
		spent uint64
	}
	var active []cursor
	// The first round walks the arrival list; later rounds only the senders
	// that still have transactions, so the cost is O(result + senders seen).
	for a := p.head; a != nil && len(out) < max; a = a.next {
		if len(a.pending) == 0 || a.pending[0].tx.Amount > a.balance {
			continue
		}
		out = append(out, a.pending[0].tx)
		if len(a.pending) > 1 {
			active = append(active, cursor{a, a.pending[0].tx.Amount})
		}
	}
	for round := 1; len(active) > 0 && len(out) < max; round++ {
		keep := active[:0]
		for _, c := range active {
			if len(out) == max {
				break
			}
			t := c.a.pending[round].tx
			// The running amount is bounded by committed <= balance; the check
			// keeps Pending valid even if that invariant were ever broken.
			if t.Amount > c.a.balance-c.spent {
				continue
			}
			out = append(out, t)
			c.spent += t.Amount
			if len(c.a.pending) > round+1 {
				keep = append(keep, c)
			}
		}
		active = keep
	}
	return out
}

// Stale returns up to max pending transactions that have waited at least
// age since they were added or last returned by Stale, and restarts their
// wait. A node re-offers them to its peers: a transaction still pending
// after a few slots may be missing from every validator's pool, for
// instance when the only peer it was sent to was dropped as slow. Each
// call moves on to transactions not recently returned, so repeated calls
// cover a pool larger than max.
func (p *Pool) Stale(age time.Duration, max int) []*types.Transaction {
	if max <= 0 {
		return nil
	}
	now := p.now()
	cutoff := now.Add(-age)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*types.Transaction
	for a := p.head; a != nil && len(out) < max; a = a.next {
		for _, e := range a.pending {
			if len(out) == max {
				break
			}
			if !e.offered.After(cutoff) {
				e.offered = now
				out = append(out, e.tx)
			}
		}
	}
	return out
}

// Content lists at most limit pooled transactions for display: pending ones
// first in Pending order, then queued ones by sender and nonce.
func (p *Pool) Content(limit int) []*types.Transaction {
	if limit <= 0 {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := p.pendingLocked(limit)
	var nonces []uint64
	for a := p.head; a != nil && len(out) < limit; a = a.next {
		nonces = nonces[:0]
		for n := range a.queued {
			nonces = append(nonces, n)
		}
		slices.Sort(nonces)
		for _, n := range nonces {
			if len(out) == limit {
				break
			}
			out = append(out, a.queued[n].tx)
		}
	}
	return out
}

// Reset brings the pool up to a new head (or a reorg), in one step under
// the lock, so no transaction is ever checked against the new head's state
// without the abandoned transactions back. For each touched sender it
// drops transactions whose nonce the head has reached (included, or
// replaced by another transaction with that nonce), promotes queued
// transactions whose gap filled, and evicts the highest nonces until the
// pooled amounts fit the balance. Then it takes back h.Abandoned, in
// nonce order; errs[i] says why h.Abandoned[i] was refused (ErrKnown: it
// is pooled already). Expired queued transactions are dropped when an
// expiry pass is due.
func (p *Pool) Reset(h Head) (errs []error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.root = h.Root
	touched := h.Touched
	if touched == nil {
		touched = make([]crypto.Address, 0, len(p.accts))
		for addr := range p.accts {
			touched = append(touched, addr)
		}
	}
	for _, addr := range touched {
		a, ok := p.accts[addr]
		if !ok {
			continue
		}
		if err := p.refreshLocked(a); err != nil {
			// Keep the cached view: stale but consistent, and the block
			// validator re-checks everything anyway.
			p.log.Warn("cannot read account state", "account", addr, "error", err)
		}
	}
	now := p.now()
	if len(h.Abandoned) > 0 {
		// Every sender of an abandoned transaction is touched (its nonce
		// went back), so the accounts above are already at the new head.
		errs = make([]error, len(h.Abandoned))
		for _, i := range nonceOrder(h.Abandoned, nil) {
			errs[i] = p.insertLocked(h.Abandoned[i], now)
		}
	}
	if now.Sub(p.lastExpire) >= p.expiryInterval() {
		p.expireLocked(now)
	}
	return errs
}

// Run expires stale queued transactions about every TTL/10 until ctx ends.
func (p *Pool) Run(ctx context.Context) error {
	clock.Every(ctx, clock.Or(p.cfg.Clock), p.expiryInterval(), func() {
		p.mu.Lock()
		p.expireLocked(p.now())
		p.mu.Unlock()
	})
	return nil
}

func (p *Pool) expiryInterval() time.Duration {
	return max(p.cfg.TTL/10, time.Millisecond)
}

// expireLocked drops queued transactions older than TTL. Pending ones stay:
// they are executable and leave by inclusion or revalidation.
func (p *Pool) expireLocked(now time.Time) {
	p.lastExpire = now
	dropped := 0
	for _, a := range p.accts {
		if len(a.queued) == 0 {
			continue
		}
		for n, e := range a.queued {
			if now.Sub(e.added) > p.cfg.TTL {
				p.dropQueuedLocked(a, n)
				dropped++
			}
		}
		p.unlinkIfEmptyLocked(a)
	}
	if dropped > 0 {
		p.log.Debug("expired queued transactions", "count", dropped)
	}
}

// refreshLocked re-reads a's head state and restores the invariants.
func (p *Pool) refreshLocked(a *account) error {
	st, err := p.st.AccountAt(p.root, a.addr)
	if err != nil {
		return err
	}
	p.resyncLocked(a, st)
	return nil
}

// resyncLocked applies new head state to a pooled sender.
func (p *Pool) resyncLocked(a *account, st types.Account) {
	a.nonce, a.balance = st.Nonce, st.Balance

	// Drop the pending prefix the head has reached.
	k := 0
	for k < len(a.pending) && a.pending[k].tx.Nonce <= a.nonce {
		p.forgetLocked(a, a.pending[k])
		k++
	}
	if k > 0 {
		p.pendingN -= k
		n := copy(a.pending, a.pending[k:])
		clear(a.pending[n:])
		a.pending = a.pending[:n]
	}
	// After a reorg the head nonce can move back, opening a gap below the
	// run: the run becomes queued until the gap fills.
	if len(a.pending) > 0 && a.pending[0].tx.Nonce != a.nonce+1 {
		for _, e := range a.pending {
			p.queueLocked(a, e)
		}
		p.pendingN -= len(a.pending)
		clear(a.pending)
		a.pending = a.pending[:0]
	}
	for n := range a.queued {
		if n <= a.nonce {
			p.dropQueuedLocked(a, n)
		}
	}
	p.promoteLocked(a)

	// Evict from the highest nonce down until the pooled amounts fit again
	// (after a reorg the balance can be lower); that keeps the longest
	// affordable prefix and never opens a gap in the run.
	if a.committed > a.balance {
		evicted := 0
		if len(a.queued) > 0 {
			nonces := make([]uint64, 0, len(a.queued))
			for n := range a.queued {
				nonces = append(nonces, n)
			}
			slices.SortFunc(nonces, func(x, y uint64) int { return cmp.Compare(y, x) })
			for _, n := range nonces {
				if a.committed <= a.balance {
					break
				}
				p.dropQueuedLocked(a, n)
				evicted++
			}
		}
		for a.committed > a.balance && len(a.pending) > 0 {
			last := len(a.pending) - 1
			p.forgetLocked(a, a.pending[last])
			a.pending[last] = nil
			a.pending = a.pending[:last]
			p.pendingN--
			evicted++
		}
		p.log.Warn("evicted unaffordable transactions", "account", a.addr, "count", evicted, "balance", a.balance)
	}
	p.unlinkIfEmptyLocked(a)
}

// promoteLocked moves queued transactions that continue the run into it.
func (p *Pool) promoteLocked(a *account) {
	for len(a.queued) > 0 {
		next := a.nextNonce()
		e, ok := a.queued[next]
		if !ok {
			return
		}
		delete(a.queued, next)
		a.pending = append(a.pending, e)
		p.queuedN--
		p.pendingN++
	}
}

// forgetLocked removes e from the id index and releases its reserved amount;
// the caller removes it from the account's lists.
func (p *Pool) forgetLocked(a *account, e *entry) {
	delete(p.all, e.id)
	a.committed -= e.tx.Amount
}

func (p *Pool) dropQueuedLocked(a *account, n uint64) {
	e := a.queued[n]
	delete(a.queued, n)
	p.forgetLocked(a, e)
	p.queuedN--
}

// linkLocked registers a new sender at the end of the arrival list.
func (p *Pool) linkLocked(a *account) {
	p.accts[a.addr] = a
	a.prev, a.next = p.tail, nil
	if p.tail != nil {
		p.tail.next = a
	} else {
		p.head = a
	}
	p.tail = a
}

// unlinkIfEmptyLocked forgets a sender with nothing pooled, so its cached
// state is re-read when it comes back and memory follows the pool's content.
func (p *Pool) unlinkIfEmptyLocked(a *account) {
	if a.count() > 0 {
		return
	}
	if _, ok := p.accts[a.addr]; !ok {
		return
	}
	delete(p.accts, a.addr)
	if a.prev != nil {
		a.prev.next = a.next
	} else {
		p.head = a.next
	}
	if a.next != nil {
		a.next.prev = a.prev
	} else {
		p.tail = a.prev
	}
	a.prev, a.next = nil, nil
}

// satAdd adds without wrapping, so nonce arithmetic near 2^64-1 stays sound.
func satAdd(x, y uint64) uint64 {
	if s := x + y; s >= x {
		return s
	}
	return math.MaxUint64
}
