package txpool

import (
	"sync"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/types"
)

// 200 senders with 5 signed transactions each, made once: key generation
// and signing take seconds.
var (
	benchOnce sync.Once
	benchTxs  []*types.Transaction
	benchErr  error
)

func benchSigned(b *testing.B) []*types.Transaction {
	b.Helper()
	keys := cryptotest.Keys(b, 200)
	benchOnce.Do(func() {
		benchTxs = make([]*types.Transaction, 0, 1000)
		for n := uint64(1); n <= 5; n++ {
			for _, k := range keys {
				benchTxs = append(benchTxs, &types.Transaction{ChainID: testChain, Nonce: n, From: k.Address(), To: addr(1), Amount: 1, Time: n})
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, len(benchTxs))
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < len(benchTxs); i += 8 {
					errs[i] = benchTxs[i].Sign(keys[i%len(keys)])
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				benchErr = err
				return
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchTxs
}

func benchState(txs []*types.Transaction) *fakeState {
	st := newState()
	for _, t := range txs {
		st.set(t.From, 1<<40, 0)
	}
	return st
}

// BenchmarkAdd1000 adds 1,000 pre-signed transactions from 200 senders in
// one batch to a fresh pool (cold key cache), as a gossip batch would.
func BenchmarkAdd1000(b *testing.B) {
	txs := benchSigned(b)
	st := benchState(txs)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		p := New(Config{ChainID: testChain}, st)
		b.StartTimer()
		for _, err := range p.Add(txs) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(txs)*b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkAddSingles adds the same transactions one per call from parallel
// goroutines, as HTTP submissions would, with a warm key cache.
func BenchmarkAddSingles(b *testing.B) {
	txs := benchSigned(b)
	st := benchState(txs)
	keys := crypto.NewKeyCache(keyCacheSize)
	for _, t := range txs {
		if _, err := keys.Parse(t.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		p := New(Config{ChainID: testChain}, st)
		p.keys = keys
		b.StartTimer()
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				// Each worker owns whole senders, so nonces arrive in order.
				for i := w; i < len(txs); i += 8 {
					if err := p.Add(txs[i : i+1])[0]; err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(len(txs)*b.N)/b.Elapsed().Seconds(), "tx/s")
}

// bigPool holds perSender transactions from each of senders accounts,
// inserted without signatures.
func bigPool(b *testing.B, senders, perSender int) (*Pool, *fakeState, []crypto.Address) {
	b.Helper()
	st := newState()
	p := New(Config{ChainID: testChain}, st)
	addrs := make([]crypto.Address, senders)
	for i := range addrs {
		addrs[i] = addr(i + 10)
		st.set(addrs[i], 1<<40, 0)
	}
	batch := make([]*types.Transaction, 0, senders)
	for n := 1; n <= perSender; n++ {
		batch = batch[:0]
		for _, a := range addrs {
			batch = append(batch, utx(a, uint64(n), 1))
		}
		for _, err := range p.AddVerified(batch) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	return p, st, addrs
}

func BenchmarkPending10000(b *testing.B) {
	p, _, _ := bigPool(b, 200, 60)
	b.ResetTimer()
	for b.Loop() {
		if got := p.Pending(10_000); len(got) != 10_000 {
			b.Fatalf("got %d", len(got))
		}
	}
}

func BenchmarkPending10000ManySenders(b *testing.B) {
	p, _, _ := bigPool(b, 20_000, 1)
	b.ResetTimer()
	for b.Loop() {
		if got := p.Pending(10_000); len(got) != 10_000 {
			b.Fatalf("got %d", len(got))
		}
	}
}

// BenchmarkReset applies a block in which 100 of 2,000 senders (20,000
// pooled transactions) each had one transaction included, then Resets with
// those 100 accounts as the hint. Refilling is outside the timer.
func BenchmarkReset(b *testing.B) {
	p, st, addrs := bigPool(b, 2000, 10)
	touched := addrs[:100]
	nonce := uint64(0)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		nonce++
		refill := make([]*types.Transaction, 0, len(touched))
		for _, a := range touched {
			st.set(a, 1<<40, nonce)
			refill = append(refill, utx(a, nonce+10, 1))
		}
		b.StartTimer()
		p.Reset(Head{Touched: touched})
		b.StopTimer()
		if s := p.Stats(); s.Pending != 20_000-len(touched) {
			b.Fatalf("stats %+v", s)
		}
		for _, err := range p.AddVerified(refill) {
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
}
