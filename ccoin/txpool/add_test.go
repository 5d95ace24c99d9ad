package txpool

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// weakDER returns PKIX encodings of a 1024-bit key and of a 2048-bit key with
// exponent 3, both refused by the protocol.
var (
	weakOnce            sync.Once
	weakShort, weakExp3 []byte
	weakErr             error
)

func weakKeys(tb testing.TB) (short, exp3 []byte) {
	tb.Helper()
	weakOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			weakErr = err
			return
		}
		if weakShort, weakErr = x509.MarshalPKIXPublicKey(&k.PublicKey); weakErr != nil {
			return
		}
		strong := testKeys(tb)[0].RSA()
		weakExp3, weakErr = x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: strong.N, E: 3})
	})
	if weakErr != nil {
		tb.Fatal(weakErr)
	}
	return weakShort, weakExp3
}

func TestAddRules(t *testing.T) {
	short, exp3 := weakKeys(t)
	type tc struct {
		name  string
		cfg   func(*Config)
		setup func(st *fakeState, k []*crypto.PrivateKey)
		pre   func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction
		tx    func(t *testing.T, k []*crypto.PrivateKey, pre []*types.Transaction) *types.Transaction
		want  error // nil: accepted
		cause error // a wrapped cause that must also match
	}
	sign := func(t *testing.T, k *crypto.PrivateKey, tx *types.Transaction) *types.Transaction {
		t.Helper()
		if err := tx.Sign(k); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	plain := func(k *crypto.PrivateKey, nonce, amount uint64) *types.Transaction {
		return &types.Transaction{ChainID: testChain, Nonce: nonce, From: k.Address(), To: addr(1), Amount: amount, Time: 5}
	}
	cases := []tc{
		{name: "accepted", tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			return stx(t, k[0], 1, 10)
		}},
		{name: "self transfer allowed", tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			tx := plain(k[0], 1, 10)
			tx.To = k[0].Address()
			return sign(t, k[0], tx)
		}},
		{name: "zero amount with data allowed", tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			tx := plain(k[0], 1, 0)
			tx.Data = make([]byte, types.MaxTxData)
			return sign(t, k[0], tx)
		}},
		{name: "any address as recipient", tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			tx := plain(k[0], 1, 1)
			tx.To = crypto.Address{}
			return sign(t, k[0], tx)
		}},
		{name: "known", want: ErrKnown,
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, 10)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, pre []*types.Transaction) *types.Transaction { return pre[0] }},
		{name: "known under another signature", want: ErrKnown,
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, 10)}
			},
			// PSS is randomised: re-signing gives new bytes, same id.
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 1, 10)
			}},
		{name: "wrong chain", want: ErrWrongChain, tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			tx := plain(k[0], 1, 10)
			tx.ChainID = types.Hash{9}
			return sign(t, k[0], tx)
		}},
		{name: "data too large", want: ErrDataTooLarge, tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			tx := plain(k[0], 1, 10)
			tx.Data = make([]byte, types.MaxTxData+1)
			return sign(t, k[0], tx)
		}},
		{name: "unsigned", want: ErrBadSignature, cause: types.ErrUnsigned,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return plain(k[0], 1, 10)
			}},
		{name: "nil", want: ErrBadSignature, cause: types.ErrUnsigned,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction { return nil }},
		{name: "altered payload", want: ErrBadSignature, cause: crypto.ErrBadSignature,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				s := stx(t, k[0], 1, 10)
				tx := plain(k[0], 1, 11)
				tx.PublicKey, tx.Signature = s.PublicKey, s.Signature
				return tx
			}},
		{name: "key does not hash to from", want: ErrBadSignature, cause: types.ErrFromMismatch,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				tx := stx(t, k[0], 1, 10)
				tx.PublicKey = k[1].Public().DER()
				return tx
			}},
		{name: "malformed key", want: ErrBadSignature, cause: crypto.ErrBadKey,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				der := []byte("not a key")
				tx := plain(k[0], 1, 10)
				tx.From = crypto.AddressOf(der)
				tx.PublicKey, tx.Signature = der, make([]byte, 256)
				return tx
			}},
		{name: "1024-bit key", want: ErrBadSignature, cause: crypto.ErrWeakKey,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				tx := plain(k[0], 1, 10)
				tx.From = crypto.AddressOf(short)
				tx.PublicKey, tx.Signature = short, make([]byte, 128)
				return tx
			}},
		{name: "exponent 3", want: ErrBadSignature, cause: crypto.ErrWeakKey,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				tx := plain(k[0], 1, 10)
				tx.From = crypto.AddressOf(exp3)
				tx.PublicKey, tx.Signature = exp3, make([]byte, 256)
				return tx
			}},
		{name: "nonce too low", want: ErrNonceTooLow,
			setup: func(st *fakeState, k []*crypto.PrivateKey) { st.set(k[0].Address(), 1000, 5) },
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 5, 1)
			}},
		{name: "tampered signature and an old nonce", want: ErrBadSignature, cause: crypto.ErrBadSignature,
			setup: func(st *fakeState, k []*crypto.PrivateKey) { st.set(k[0].Address(), 1000, 5) },
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				tx := stx(t, k[0], 5, 1)
				tx.Signature[0] ^= 0xff
				return tx
			}},
		{name: "tampered signature and a pooled nonce", want: ErrBadSignature, cause: crypto.ErrBadSignature,
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, 1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				tx := stx(t, k[0], 1, 2)
				tx.Signature[0] ^= 0xff
				return tx
			}},
		{name: "tampered signature and too large an amount", want: ErrBadSignature, cause: crypto.ErrBadSignature,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				tx := stx(t, k[0], 1, 1001)
				tx.Signature[0] ^= 0xff
				return tx
			}},
		{name: "replay of nonce zero", want: ErrNonceTooLow,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 0, 1)
			}},
		{name: "largest allowed gap", tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			return stx(t, k[0], 1+DefaultMaxFutureGap, 1)
		}},
		{name: "nonce gap", want: ErrNonceGap, tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			return stx(t, k[0], 2+DefaultMaxFutureGap, 1)
		}},
		{name: "gap counts from the pooled run", // next nonce is 3 here
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, 1), stx(t, k[0], 2, 1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 3+DefaultMaxFutureGap, 1)
			}},
		{name: "nonce taken, first wins", want: ErrNonceTaken,
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, 1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 1, 2)
			}},
		{name: "queued nonce taken", want: ErrNonceTaken,
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 4, 1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 4, 2)
			}},
		{name: "amount above balance", want: ErrInsufficientFunds,
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 1, 1001)
			}},
		{name: "whole balance", tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
			return stx(t, k[0], 1, 1000)
		}},
		{name: "amount plus pooled above balance", want: ErrInsufficientFunds,
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, 600)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 2, 401)
			}},
		{name: "pooled later nonce reserves funds too", want: ErrInsufficientFunds,
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 2, 600)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 1, 401)
			}},
		{name: "amounts near 2^64 do not wrap", want: ErrInsufficientFunds,
			setup: func(st *fakeState, k []*crypto.PrivateKey) { st.set(k[0].Address(), math.MaxUint64, 0) },
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, math.MaxUint64-1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 2, 2)
			}},
		{name: "pool full", want: ErrPoolFull, cfg: func(c *Config) { c.MaxTotal = 2 },
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, 1), stx(t, k[1], 1, 1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[2], 1, 1)
			}},
		{name: "account full", want: ErrAccountFull, cfg: func(c *Config) { c.MaxPerAccount = 2 },
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 1, 1), stx(t, k[0], 3, 1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[0], 2, 1)
			}},
		{name: "queue full", want: ErrQueueFull, cfg: func(c *Config) { c.MaxQueued = 1 },
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 3, 1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[1], 3, 1)
			}},
		{name: "queue full still takes executable", cfg: func(c *Config) { c.MaxQueued = 1 },
			pre: func(t *testing.T, k []*crypto.PrivateKey) []*types.Transaction {
				return []*types.Transaction{stx(t, k[0], 3, 1)}
			},
			tx: func(t *testing.T, k []*crypto.PrivateKey, _ []*types.Transaction) *types.Transaction {
				return stx(t, k[1], 1, 1)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := testKeys(t)
			st := newState()
			for _, key := range k {
				st.set(key.Address(), 1000, 0)
			}
			if c.setup != nil {
				c.setup(st, k)
			}
			cfg := Config{ChainID: testChain}
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			p := New(cfg, st)
			var pre []*types.Transaction
			if c.pre != nil {
				pre = c.pre(t, k)
				mustAccept(t, p.Add(pre))
			}
			before := p.Stats()
			tx := c.tx(t, k, pre)
			errs := p.Add([]*types.Transaction{tx})
			if len(errs) != 1 {
				t.Fatalf("got %d results", len(errs))
			}
			err := errs[0]
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("rejected: %v", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("got %v, want %v", err, c.want)
			case c.cause != nil && !errors.Is(err, c.cause):
				t.Fatalf("got %v, want cause %v", err, c.cause)
			}
			after := p.Stats()
			if c.want == nil {
				if !p.Has(tx.ID()) || !p.Verified(tx) {
					t.Fatal("accepted transaction not pooled")
				}
				if after.Pending+after.Queued != before.Pending+before.Queued+1 {
					t.Fatalf("stats %+v after %+v", after, before)
				}
			} else if after != before {
				t.Fatalf("rejection changed stats: %+v -> %+v", before, after)
			}
		})
	}
}

func TestStateErrorRejects(t *testing.T) {
	k := testKeys(t)
	st := newState()
	st.err = errors.New("disk on fire")
	p := New(Config{ChainID: testChain}, st)
	if errs := p.AddVerified([]*types.Transaction{utx(k[0].Address(), 1, 0)}); errs[0] == nil {
		t.Fatal("accepted without state")
	}
	if _, err := p.NextNonce(k[0].Address()); err == nil {
		t.Fatal("NextNonce without state")
	}
	if s := p.Stats(); s != (Stats{}) {
		t.Fatalf("stats %+v", s)
	}
}

func TestDuplicatesCountedOnce(t *testing.T) {
	k := testKeys(t)
	st := newState()
	st.set(k[0].Address(), 1000, 0)
	p := New(Config{ChainID: testChain}, st)
	tx := stx(t, k[0], 1, 10)
	resigned := stx(t, k[0], 1, 10)
	if tx.ID() != resigned.ID() || sameSignature(tx, resigned) {
		t.Fatal("test needs a second signature of the same transaction")
	}
	// Same batch, several copies: one accepted, the rest known.
	errs := p.Add([]*types.Transaction{tx, tx, resigned, tx})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	for i, err := range errs[1:] {
		if !errors.Is(err, ErrKnown) {
			t.Fatalf("copy %d: %v", i+1, err)
		}
	}
	// Again from many goroutines, signed and already-verified paths.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				err = p.Add([]*types.Transaction{tx})[0]
			} else {
				err = p.AddVerified([]*types.Transaction{resigned})[0]
			}
			if !errors.Is(err, ErrKnown) {
				t.Errorf("goroutine %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if s := p.Stats(); s != (Stats{Pending: 1, Senders: 1}) {
		t.Fatalf("stats %+v", s)
	}
	if got := p.Pending(10); len(got) != 1 {
		t.Fatalf("pending %d", len(got))
	}
}

func TestVerified(t *testing.T) {
	k := testKeys(t)
	st := newState()
	st.set(k[0].Address(), 1000, 0)
	p := New(Config{ChainID: testChain}, st)
	tx := stx(t, k[0], 1, 10)
	other := stx(t, k[0], 1, 10) // same id, different signature bytes
	mustAccept(t, p.Add([]*types.Transaction{tx}))
	cases := []struct {
		name string
		tx   *types.Transaction
		want bool
	}{
		{"same transaction", tx, true},
		{"decoded copy", mustDecode(t, tx.Encode(nil)), true},
		{"other signature, same id", other, false},
		{"other key bytes", withKey(tx, k[1].Public().DER()), false},
		{"not pooled", stx(t, k[0], 2, 10), false},
		{"nil", nil, false},
	}
	for _, c := range cases {
		if got := p.Verified(c.tx); got != c.want {
			t.Errorf("%s: Verified = %v, want %v", c.name, got, c.want)
		}
	}
}

func mustDecode(t *testing.T, b []byte) *types.Transaction {
	t.Helper()
	tx, err := types.DecodeTx(b)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func withKey(t *types.Transaction, der []byte) *types.Transaction {
	c := &types.Transaction{ChainID: t.ChainID, Nonce: t.Nonce, From: t.From, To: t.To, Amount: t.Amount,
		Data: t.Data, Time: t.Time, PublicKey: der, Signature: t.Signature}
	return c
}

// TestBatchOutOfOrder checks that a batch fills its own gaps: nonces beyond
// the gap limit are fine when the batch also carries the nonces below them.
func TestBatchOutOfOrder(t *testing.T) {
	a := addr(1)
	st := newState()
	st.set(a, 1_000_000, 0)
	p := New(Config{ChainID: testChain, MaxFutureGap: 4, MaxQueued: 1}, st)
	var batch []*types.Transaction
	for n := uint64(20); n >= 1; n-- {
		batch = append(batch, utx(a, n, 1))
	}
	mustAccept(t, p.AddVerified(batch))
	got := nonces(p.Pending(100))
	want := make([]uint64, 20)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pending %v", got)
	}
	// Two different transactions with one nonce in a batch: the first wins.
	b := addr(2)
	st.set(b, 100, 0)
	first, second := utx(b, 1, 5), utx(b, 1, 6)
	errs := p.AddVerified([]*types.Transaction{first, second})
	if errs[0] != nil || !errors.Is(errs[1], ErrNonceTaken) {
		t.Fatalf("errs %v", errs)
	}
}

// A peer's batch of forged transactions costs one signature check, not
// one per transaction (issue 16: 6,400 bad signatures in one TXN frame
// were all verified before the peer was banned), and nothing of a batch
// with a forgery is pooled.
func TestAddFromPeerStopsAtFirstBadSignature(t *testing.T) {
	k := testKeys(t)
	st := newState()
	st.set(k[0].Address(), 1<<40, 0)
	p := New(Config{ChainID: testChain}, st)
	good := stx(t, k[0], 1, 1)
	batch := []*types.Transaction{good}
	for i := range 3000 {
		forged := utx(good.From, uint64(2+i), 1)
		forged.PublicKey, forged.Signature = good.PublicKey, good.Signature // another payload's signature
		batch = append(batch, forged)
	}
	errs := p.AddFromPeer(batch)
	verified, skipped := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, ErrBadSignature):
			verified++
		case errors.Is(err, ErrNotVerified):
			skipped++
		}
	}
	// Concurrent workers may each have checked one before seeing the first.
	if verified == 0 || verified > 2*runtime.GOMAXPROCS(0) {
		t.Fatalf("%d bad signatures verified, want 1..%d", verified, 2*runtime.GOMAXPROCS(0))
	}
	if skipped < 3000-verified {
		t.Fatalf("only %d transactions skipped", skipped)
	}
	if p.Has(good.ID()) {
		t.Fatal("a transaction of a forged batch was pooled")
	}
	// Add (the API's path) still judges each transaction alone.
	if errs := p.Add(batch[:2]); errs[0] != nil || !errors.Is(errs[1], ErrBadSignature) {
		t.Fatalf("Add: %v", errs)
	}
}
