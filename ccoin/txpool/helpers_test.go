package txpool

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/types"
)

var testChain = types.Hash{0xcc, 1}

// testKeys returns the 4 keys the tests share (RSA generation is slow).
func testKeys(tb testing.TB) []*crypto.PrivateKey { return cryptotest.Keys(tb, 4) }

// fakeState is an in-memory chain state: the head's accounts, and the
// accounts of each root saved with commit. Any other root reads the head.
type fakeState struct {
	mu    sync.Mutex
	m     map[crypto.Address]types.Account
	roots map[types.Hash]map[crypto.Address]types.Account
	err   error
}

func newState() *fakeState {
	return &fakeState{m: make(map[crypto.Address]types.Account), roots: make(map[types.Hash]map[crypto.Address]types.Account)}
}

func (s *fakeState) AccountAt(root types.Hash, a crypto.Address) (types.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return types.Account{}, s.err
	}
	if m, ok := s.roots[root]; ok {
		return m[a], nil
	}
	return s.m[a], nil
}

// commit saves the head's accounts as the state of root.
func (s *fakeState) commit(root types.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roots[root] = maps.Clone(s.m)
}

func (s *fakeState) set(a crypto.Address, balance, nonce uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[a] = types.Account{Balance: balance, Nonce: nonce}
}

func (s *fakeState) snapshot() map[crypto.Address]types.Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m)
}

// apply executes txs on accounts with the chain's rules and reports the first
// invalid one.
func apply(accts map[crypto.Address]types.Account, txs []*types.Transaction) error {
	for i, t := range txs {
		from := accts[t.From]
		if t.Nonce != from.Nonce+1 {
			return fmt.Errorf("tx %d: nonce %d, account nonce %d", i, t.Nonce, from.Nonce)
		}
		if t.Amount > from.Balance {
			return fmt.Errorf("tx %d: amount %d, balance %d", i, t.Amount, from.Balance)
		}
		from.Nonce++
		from.Balance -= t.Amount
		accts[t.From] = from
		to := accts[t.To]
		if to.Balance+t.Amount < to.Balance {
			return fmt.Errorf("tx %d: recipient balance overflows", i)
		}
		to.Balance += t.Amount
		accts[t.To] = to
	}
	return nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

// addr makes a distinct address for unsigned test transactions.
func addr(i int) crypto.Address {
	var a crypto.Address
	a[0], a[1], a[19] = byte(i>>8), byte(i), 0xaa
	return a
}

// utx builds an unsigned transaction, for AddVerified paths.
func utx(from crypto.Address, nonce, amount uint64) *types.Transaction {
	return &types.Transaction{ChainID: testChain, Nonce: nonce, From: from, To: addr(9999), Amount: amount, Time: 1}
}

// stx builds and signs a transaction.
func stx(tb testing.TB, k *crypto.PrivateKey, nonce, amount uint64) *types.Transaction {
	tb.Helper()
	t := &types.Transaction{ChainID: testChain, Nonce: nonce, From: k.Address(), To: addr(9999), Amount: amount, Time: 1}
	if err := t.Sign(k); err != nil {
		tb.Fatal(err)
	}
	return t
}

func nonces(txs []*types.Transaction) []uint64 {
	out := make([]uint64, len(txs))
	for i, t := range txs {
		out[i] = t.Nonce
	}
	return out
}

func mustAccept(tb testing.TB, errs []error) {
	tb.Helper()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("tx %d rejected: %v", i, err)
		}
	}
}
