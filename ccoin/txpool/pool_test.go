package txpool

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

func TestGapFilling(t *testing.T) {
	k := testKeys(t)[0]
	st := newState()
	st.set(k.Address(), 1000, 1) // next executable nonce is 2
	p := New(Config{ChainID: testChain}, st)

	mustAccept(t, p.Add([]*types.Transaction{stx(t, k, 3, 1), stx(t, k, 4, 1)}))
	if s := p.Stats(); s != (Stats{Pending: 0, Queued: 2, Senders: 1}) {
		t.Fatalf("stats %+v", s)
	}
	if got := p.Pending(10); len(got) != 0 {
		t.Fatalf("queued transactions returned as pending: %v", nonces(got))
	}
	if n, _ := p.NextNonce(k.Address()); n != 2 {
		t.Fatalf("next nonce %d, want 2", n)
	}

	mustAccept(t, p.Add([]*types.Transaction{stx(t, k, 2, 1)}))
	if got := nonces(p.Pending(10)); !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("pending %v, want [2 3 4]", got)
	}
	if s := p.Stats(); s != (Stats{Pending: 3, Queued: 0, Senders: 1}) {
		t.Fatalf("stats %+v", s)
	}
	if n, _ := p.NextNonce(k.Address()); n != 5 {
		t.Fatalf("next nonce %d, want 5", n)
	}
}

func TestPendingRoundRobin(t *testing.T) {
	a, b, c := addr(1), addr(2), addr(3)
	st := newState()
	for _, x := range []crypto.Address{a, b, c} {
		st.set(x, 100, 0)
	}
	p := New(Config{ChainID: testChain}, st)
	// Arrival: a, then b, then c (c's first transaction comes after b's).
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(a, 1, 1), utx(a, 2, 1), utx(a, 3, 1)}))
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(b, 1, 1), utx(b, 2, 1)}))
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(c, 1, 1)}))
	type sn struct {
		from  crypto.Address
		nonce uint64
	}
	seq := func(txs []*types.Transaction) []sn {
		var out []sn
		for _, t := range txs {
			out = append(out, sn{t.From, t.Nonce})
		}
		return out
	}
	all := []sn{{a, 1}, {b, 1}, {c, 1}, {a, 2}, {b, 2}, {a, 3}}
	for _, max := range []int{0, 1, 2, 4, 6, 100} {
		want := all[:min(max, len(all))]
		if got := seq(p.Pending(max)); !slices.Equal(got, want) {
			t.Errorf("Pending(%d) = %v, want %v", max, got, want)
		}
	}
}

func TestReset(t *testing.T) {
	a, b := addr(1), addr(2)
	type acct struct{ balance, nonce uint64 }
	type tc struct {
		name    string
		start   map[crypto.Address]acct
		pool    []*types.Transaction
		head    map[crypto.Address]acct // state after the new head
		touched []crypto.Address        // nil: all
		pending map[crypto.Address][]uint64
		stats   Stats
	}
	ten := func(from crypto.Address, ns ...uint64) []*types.Transaction {
		var out []*types.Transaction
		for _, n := range ns {
			out = append(out, utx(from, n, 10))
		}
		return out
	}
	cases := []tc{
		{
			name:    "included nonces dropped",
			start:   map[crypto.Address]acct{a: {100, 0}},
			pool:    ten(a, 1, 2, 3, 4, 5),
			head:    map[crypto.Address]acct{a: {70, 3}},
			touched: []crypto.Address{a},
			pending: map[crypto.Address][]uint64{a: {4, 5}},
			stats:   Stats{Pending: 2, Senders: 1},
		},
		{
			name:    "head fills the gap and promotes",
			start:   map[crypto.Address]acct{a: {100, 0}},
			pool:    ten(a, 1, 3, 4),
			head:    map[crypto.Address]acct{a: {90, 2}}, // nonce 2 came from elsewhere
			touched: []crypto.Address{a},
			pending: map[crypto.Address][]uint64{a: {3, 4}},
			stats:   Stats{Pending: 2, Senders: 1},
		},
		{
			name:    "head passes queued nonces",
			start:   map[crypto.Address]acct{a: {100, 0}},
			pool:    ten(a, 3, 4, 7),
			head:    map[crypto.Address]acct{a: {100, 5}},
			touched: []crypto.Address{a},
			pending: map[crypto.Address][]uint64{},
			stats:   Stats{Queued: 1, Senders: 1},
		},
		{
			name:    "balance drop evicts highest nonces",
			start:   map[crypto.Address]acct{a: {100, 0}},
			pool:    ten(a, 1, 2, 3, 4),
			head:    map[crypto.Address]acct{a: {25, 0}},
			touched: []crypto.Address{a},
			pending: map[crypto.Address][]uint64{a: {1, 2}},
			stats:   Stats{Pending: 2, Senders: 1},
		},
		{
			name:    "balance drop evicts queued before pending",
			start:   map[crypto.Address]acct{a: {100, 0}},
			pool:    ten(a, 1, 2, 5),
			head:    map[crypto.Address]acct{a: {20, 0}},
			touched: []crypto.Address{a},
			pending: map[crypto.Address][]uint64{a: {1, 2}},
			stats:   Stats{Pending: 2, Senders: 1},
		},
		{
			name:    "balance to zero empties the sender",
			start:   map[crypto.Address]acct{a: {100, 0}},
			pool:    ten(a, 1, 2),
			head:    map[crypto.Address]acct{a: {0, 0}},
			touched: []crypto.Address{a},
			pending: map[crypto.Address][]uint64{},
			stats:   Stats{},
		},
		{
			name:    "all included forgets the sender",
			start:   map[crypto.Address]acct{a: {100, 0}, b: {100, 0}},
			pool:    append(ten(a, 1, 2), ten(b, 1)...),
			head:    map[crypto.Address]acct{a: {80, 2}, b: {100, 0}},
			touched: []crypto.Address{a, b},
			pending: map[crypto.Address][]uint64{b: {1}},
			stats:   Stats{Pending: 1, Senders: 1},
		},
		{
			name:    "reorg lowers the nonce: run becomes queued",
			start:   map[crypto.Address]acct{a: {100, 2}},
			pool:    ten(a, 3, 4),
			head:    map[crypto.Address]acct{a: {100, 0}},
			touched: []crypto.Address{a},
			pending: map[crypto.Address][]uint64{},
			stats:   Stats{Queued: 2, Senders: 1},
		},
		{
			name:    "untouched accounts keep their cached view",
			start:   map[crypto.Address]acct{a: {100, 0}, b: {100, 0}},
			pool:    append(ten(a, 1, 2), ten(b, 1, 2)...),
			head:    map[crypto.Address]acct{a: {90, 1}, b: {90, 1}},
			touched: []crypto.Address{b},
			pending: map[crypto.Address][]uint64{a: {1, 2}, b: {2}},
			stats:   Stats{Pending: 3, Senders: 2},
		},
		{
			name:    "nil touched means everyone",
			start:   map[crypto.Address]acct{a: {100, 0}, b: {100, 0}},
			pool:    append(ten(a, 1, 2), ten(b, 1, 2)...),
			head:    map[crypto.Address]acct{a: {90, 1}, b: {90, 1}},
			touched: nil,
			pending: map[crypto.Address][]uint64{a: {2}, b: {2}},
			stats:   Stats{Pending: 2, Senders: 2},
		},
		{
			name:    "balance rise keeps everything",
			start:   map[crypto.Address]acct{a: {30, 0}},
			pool:    ten(a, 1, 2, 3),
			head:    map[crypto.Address]acct{a: {1000, 0}},
			touched: []crypto.Address{a},
			pending: map[crypto.Address][]uint64{a: {1, 2, 3}},
			stats:   Stats{Pending: 3, Senders: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newState()
			for x, v := range c.start {
				st.set(x, v.balance, v.nonce)
			}
			p := New(Config{ChainID: testChain}, st)
			mustAccept(t, p.AddVerified(c.pool))
			for x, v := range c.head {
				st.set(x, v.balance, v.nonce)
			}
			p.Reset(Head{Touched: c.touched})
			got := map[crypto.Address][]uint64{}
			for _, tx := range p.Pending(1000) {
				got[tx.From] = append(got[tx.From], tx.Nonce)
			}
			if !maps.EqualFunc(got, c.pending, slices.Equal) {
				t.Errorf("pending %v, want %v", got, c.pending)
			}
			if s := p.Stats(); s != c.stats {
				t.Errorf("stats %+v, want %+v", s, c.stats)
			}
			// The pool's index and its per-sender lists agree.
			if n := len(p.Content(1000)); n != c.stats.Pending+c.stats.Queued {
				t.Errorf("content has %d transactions", n)
			}
			checkIndex(t, p)
		})
	}
}

// checkIndex verifies the internal bookkeeping: every listed entry is
// indexed, counts agree, reservations equal the pooled amounts.
func checkIndex(t interface {
	Helper()
	Errorf(string, ...any)
}, p *Pool) {
	t.Helper()
	p.mu.RLock()
	defer p.mu.RUnlock()
	pend, queued, senders := 0, 0, 0
	for a := p.head; a != nil; a = a.next {
		senders++
		if a.count() == 0 {
			t.Errorf("empty sender %s listed", a.addr)
		}
		var sum uint64
		for i, e := range a.pending {
			if e.tx.Nonce != a.nonce+1+uint64(i) {
				t.Errorf("sender %s pending[%d] has nonce %d, account nonce %d", a.addr, i, e.tx.Nonce, a.nonce)
			}
			if p.all[e.id] != e {
				t.Errorf("pending entry not indexed")
			}
			sum += e.tx.Amount
		}
		for n, e := range a.queued {
			if n != e.tx.Nonce || n <= a.nonce || n == a.nextNonce() || a.has(n) && n < a.nextNonce() {
				t.Errorf("bad queued nonce %d (account nonce %d, next %d)", n, a.nonce, a.nextNonce())
			}
			if p.all[e.id] != e {
				t.Errorf("queued entry not indexed")
			}
			sum += e.tx.Amount
		}
		if sum != a.committed || a.committed > a.balance {
			t.Errorf("sender %s: committed %d, sum %d, balance %d", a.addr, a.committed, sum, a.balance)
		}
		pend += len(a.pending)
		queued += len(a.queued)
	}
	if pend != p.pendingN || queued != p.queuedN || senders != len(p.accts) || pend+queued != len(p.all) {
		t.Errorf("counts: pending %d/%d queued %d/%d senders %d/%d all %d",
			pend, p.pendingN, queued, p.queuedN, senders, len(p.accts), len(p.all))
	}
}

func TestReorgReturn(t *testing.T) {
	a := addr(1)
	st := newState()
	st.set(a, 100, 0)
	p := New(Config{ChainID: testChain}, st)
	block := []*types.Transaction{utx(a, 1, 10), utx(a, 2, 10)}
	mustAccept(t, p.AddVerified(block))
	// The block is applied: the pool forgets its transactions.
	st.set(a, 80, 2)
	p.Reset(Head{Touched: []crypto.Address{a}})
	if s := p.Stats(); s != (Stats{}) {
		t.Fatalf("after block: %+v", s)
	}
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(a, 3, 10), utx(a, 4, 10)}))
	// The block is abandoned: state rolls back and its transactions return.
	st.set(a, 100, 0)
	mustAccept(t, p.Reset(Head{Touched: []crypto.Address{a}, Abandoned: block}))
	if got := nonces(p.Pending(10)); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Fatalf("pending %v", got)
	}
	// Returned again: counted once.
	for _, err := range p.Reset(Head{Touched: []crypto.Address{}, Abandoned: block}) {
		if !errors.Is(err, ErrKnown) {
			t.Fatalf("second return: %v", err)
		}
	}
	// A returned transaction the new branch already holds is too low.
	st.set(a, 90, 1)
	p.Reset(Head{})
	if err := p.AddVerified(block[:1])[0]; !errors.Is(err, ErrNonceTooLow) {
		t.Fatalf("returned included tx: %v", err)
	}
	checkIndex(t, p)
}

func TestExpiry(t *testing.T) {
	a := addr(1)
	clock := newClock()
	st := newState()
	st.set(a, 100, 0)
	p := New(Config{ChainID: testChain, TTL: 10 * time.Minute, Now: clock.Now}, st)
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(a, 1, 1), utx(a, 3, 1)}))
	clock.Advance(5 * time.Minute)
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(a, 5, 1)}))
	clock.Advance(5*time.Minute + time.Second)
	// Nonce 3 is stale; nonce 5 is 5 minutes old; nonce 1 is executable.
	p.Reset(Head{Touched: []crypto.Address{}})
	if s := p.Stats(); s != (Stats{Pending: 1, Queued: 1, Senders: 1}) {
		t.Fatalf("stats %+v", s)
	}
	if p.Has(utx(a, 3, 1).ID()) || !p.Has(utx(a, 5, 1).ID()) {
		t.Fatal("wrong transaction expired")
	}
	// The freed reservation can be used again.
	if err := p.AddVerified([]*types.Transaction{utx(a, 3, 98)})[0]; err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	p.Reset(Head{})
	// Pending transactions never expire; the queued ones all did.
	if got := nonces(p.Content(10)); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("content %v", got)
	}
	checkIndex(t, p)
}

func TestRun(t *testing.T) {
	a := addr(1)
	clock := newClock()
	st := newState()
	st.set(a, 100, 0)
	p := New(Config{ChainID: testChain, TTL: 20 * time.Millisecond, Now: clock.Now}, st)
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(a, 4, 1)}))
	clock.Advance(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Queued != 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not expire the queued transaction")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCapsRecover(t *testing.T) {
	a, b := addr(1), addr(2)
	st := newState()
	st.set(a, 100, 0)
	st.set(b, 100, 0)
	p := New(Config{ChainID: testChain, MaxTotal: 5, MaxPerAccount: 3, MaxQueued: 1}, st)
	var errs []error
	// One at a time: a batch is inserted in nonce order.
	for _, tx := range []*types.Transaction{utx(a, 1, 1), utx(a, 2, 1), utx(b, 3, 1), utx(b, 4, 1), utx(b, 1, 1), utx(b, 2, 1), utx(a, 3, 1)} {
		errs = append(errs, p.AddVerified([]*types.Transaction{tx})[0])
	}
	want := []error{nil, nil, nil, ErrQueueFull, nil, nil, ErrPoolFull}
	for i := range errs {
		if want[i] == nil && errs[i] != nil || want[i] != nil && !errors.Is(errs[i], want[i]) {
			t.Fatalf("tx %d: %v, want %v", i, errs[i], want[i])
		}
	}
	// A block includes a's two transactions: room again.
	st.set(a, 98, 2)
	p.Reset(Head{Touched: []crypto.Address{a}})
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(a, 3, 1)}))
	if err := p.AddVerified([]*types.Transaction{utx(b, 4, 1)})[0]; !errors.Is(err, ErrAccountFull) {
		t.Fatalf("fourth from b: %v", err)
	}
	if got := p.Stats(); got != (Stats{Pending: 4, Queued: 0, Senders: 2}) {
		t.Fatalf("stats %+v", got)
	}
	checkIndex(t, p)
}

func TestLookups(t *testing.T) {
	a, b := addr(1), addr(2)
	st := newState()
	st.set(a, 100, 7)
	st.set(b, 100, 0)
	p := New(Config{ChainID: testChain}, st)
	t1, t2, q := utx(a, 8, 1), utx(a, 9, 1), utx(b, 5, 1)
	mustAccept(t, p.AddVerified([]*types.Transaction{t1, t2, q}))
	if got, ok := p.Get(t2.ID()); !ok || got != t2 {
		t.Fatal("Get")
	}
	if _, ok := p.Get(types.Hash{1}); ok || p.Has(types.Hash{1}) {
		t.Fatal("unknown id found")
	}
	for _, c := range []struct {
		a    crypto.Address
		want uint64
	}{{a, 10}, {b, 1}, {addr(3), 1}} {
		if n, err := p.NextNonce(c.a); err != nil || n != c.want {
			t.Errorf("NextNonce(%s) = %d, %v; want %d", c.a, n, err, c.want)
		}
	}
	if got := p.Content(10); !slices.Equal(got, []*types.Transaction{t1, t2, q}) {
		t.Fatalf("content %v", nonces(got))
	}
	if got := p.Content(2); len(got) != 2 || p.Content(0) != nil || p.Content(-1) != nil {
		t.Fatal("content limit")
	}
	if p.Pending(-5) != nil {
		t.Fatal("negative max")
	}
}

// TestConcurrentAdd submits signed transactions from several goroutines,
// including competing transactions for the same nonces, while readers and
// Reset run. Run it under -race.
func TestConcurrentAdd(t *testing.T) {
	keys := testKeys(t)
	st := newState()
	const perKey = 12
	// Two competing versions of every (sender, nonce), signed in parallel.
	versions := make([][2][]*types.Transaction, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		st.set(k.Address(), 1_000_000, 0)
		for v := range 2 {
			versions[i][v] = make([]*types.Transaction, perKey)
			wg.Go(func() {
				for n := range perKey {
					versions[i][v][n] = stx(t, k, uint64(n+1), uint64(v+1))
				}
			})
		}
	}
	wg.Wait()
	p := New(Config{ChainID: testChain}, st)
	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	readers.Go(func() {
		for ctx.Err() == nil {
			p.Pending(50)
			p.Stats()
			p.Content(50)
			p.Reset(Head{})
		}
	})
	var accepted sync.Map // id -> struct{}
	for i := range keys {
		for v := range 2 {
			wg.Go(func() {
				txs := versions[i][v]
				// One at a time and in small batches, in different orders.
				for n := len(txs) - 1; n >= 0; n -= 3 {
					batch := txs[max(0, n-2) : n+1]
					for j, err := range p.Add(batch) {
						switch {
						case err == nil:
							accepted.Store(batch[j].ID(), struct{}{})
						case !errors.Is(err, ErrNonceTaken) && !errors.Is(err, ErrKnown):
							t.Errorf("unexpected rejection: %v", err)
						}
					}
				}
			})
		}
	}
	wg.Wait()
	cancel()
	readers.Wait()

	pending := p.Pending(1000)
	if len(pending) != len(keys)*perKey {
		t.Fatalf("pending %d, want %d", len(pending), len(keys)*perKey)
	}
	for _, tx := range pending {
		if _, ok := accepted.Load(tx.ID()); !ok {
			t.Fatalf("pending transaction was never reported accepted")
		}
	}
	n := 0
	accepted.Range(func(any, any) bool { n++; return true })
	if n != len(pending) {
		t.Fatalf("%d accepted, %d pending: exactly one version per nonce must win", n, len(pending))
	}
	if err := apply(st.snapshot(), pending); err != nil {
		t.Fatal(err)
	}
	checkIndex(t, p)
}

// TestOverloaded: at MaxPending executable transactions new ones are
// refused with ErrOverloaded (before any signature work), queued ones and
// a reorg's returned transactions still get in, and room comes back as
// blocks include transactions.
func TestOverloaded(t *testing.T) {
	a, b := addr(1), addr(2)
	st := newState()
	st.set(a, 100, 0)
	st.set(b, 100, 0)
	p := New(Config{ChainID: testChain, MaxPending: 3}, st)
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(a, 1, 1), utx(a, 2, 1)}))
	if p.Overloaded() {
		t.Fatal("overloaded at 2 of 3")
	}
	// A batch of two with room for one is taken whole (no nonce gap left
	// behind); the pool is then over its bound.
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(b, 2, 1), utx(b, 1, 1)}))
	if !p.Overloaded() {
		t.Fatal("not overloaded at 4 of 3")
	}
	// Both paths a client's submission takes are refused, forged or not:
	// no signature is checked while overloaded.
	for name, add := range map[string]func([]*types.Transaction) []error{"Add": p.Add, "AddVerified": p.AddVerified} {
		if err := add([]*types.Transaction{utx(b, 3, 1)})[0]; !errors.Is(err, ErrOverloaded) {
			t.Fatalf("%s while overloaded: %v", name, err)
		}
	}
	// Gossip is not: a refused copy would never be sent again.
	if err := p.AddFromPeer([]*types.Transaction{utx(b, 3, 1)})[0]; errors.Is(err, ErrOverloaded) {
		t.Fatalf("AddFromPeer refused for overload: %v", err)
	}
	// A reorg's abandoned transactions come back regardless.
	mustAccept(t, p.Reset(Head{Touched: []crypto.Address{}, Abandoned: []*types.Transaction{utx(b, 4, 1)}}))
	// A block takes a's two and b's four: room again.
	st.set(a, 98, 2)
	st.set(b, 96, 4)
	p.Reset(Head{Touched: []crypto.Address{a, b}})
	if p.Overloaded() {
		t.Fatalf("still overloaded after a block: %+v", p.Stats())
	}
	mustAccept(t, p.AddVerified([]*types.Transaction{utx(a, 3, 1)}))
	checkIndex(t, p)
}
