package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/state"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

const (
	benchSenders = 200
	benchTxs     = 1000
)

var (
	benchOnce    sync.Once
	benchKeys    []*crypto.PrivateKey
	benchGenesis *genesis.Genesis
	benchBlock   []byte // sealed block of benchTxs transfers on genesis
	benchPool    mapPool
)

// mapPool is a TxSource holding every benchmark transaction, as a pool that
// verified them on entry would.
type mapPool map[types.Hash]*types.Transaction

func (p mapPool) Get(id types.Hash) (*types.Transaction, bool) {
	tx, ok := p[id]
	return tx, ok
}

// benchSenderKeys makes the 200 sender keys in parallel. They are cached in
// the temp directory because RSA key generation dominates the set-up.
func benchSenderKeys(b *testing.B) []*crypto.PrivateKey {
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("ccoin-chain-bench-keys-%d", benchSenders))
	var ks []*crypto.PrivateKey
	for i := range benchSenders {
		pem, err := os.ReadFile(filepath.Join(cache, fmt.Sprintf("%d.pem", i)))
		if err != nil {
			break
		}
		k, err := crypto.DecodePrivateKeyPEM(pem, nil)
		if err != nil {
			break
		}
		ks = append(ks, k)
	}
	if len(ks) == benchSenders {
		return ks
	}
	ks = make([]*crypto.PrivateKey, benchSenders)
	var wg sync.WaitGroup
	next := make(chan int, benchSenders)
	for i := range benchSenders {
		next <- i
	}
	close(next)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				k, err := crypto.GenerateKey()
				if err != nil {
					panic(err)
				}
				ks[i] = k
			}
		})
	}
	wg.Wait()
	if err := os.MkdirAll(cache, 0o700); err == nil {
		for i, k := range ks {
			if pem, err := crypto.EncodePrivateKeyPEM(k, nil); err == nil {
				_ = os.WriteFile(filepath.Join(cache, fmt.Sprintf("%d.pem", i)), pem, 0o600)
			}
		}
	}
	return ks
}

// benchSetup builds, once per binary, the genesis (200 funded senders, one
// miner), 1,000 pre-signed transfers (five per sender) and a sealed block
// holding all of them.
func benchSetup(b *testing.B) {
	benchOnce.Do(func() {
		benchKeys = benchSenderKeys(b)
		miner := keys(b, 1)[0]
		f := genesis.File{NetworkID: 11, Timestamp: 1_700_000_000, Miners: []string{miner.Address().String()}}
		f.BlockMining.Interval = 1
		f.BlockMining.MaxBound = benchTxs
		f.BlockMining.Reward = 100
		f.Alloc = map[string]genesis.Alloc{}
		for _, k := range benchKeys {
			f.Alloc[k.Address().String()] = genesis.Alloc{Balance: 1_000_000}
		}
		g, err := genesis.New(f)
		if err != nil {
			b.Fatal(err)
		}
		benchGenesis = g
		benchPool = mapPool{}
		txs := benchTxList(b, g)
		for _, tx := range txs {
			benchPool[tx.ID()] = tx
		}
		db, c := memChain(b, g, nil)
		defer db.Close()
		blk := makeBlock(b, c, g.ChainID, miner, 1, txs...)
		if len(blk.Txs) != benchTxs {
			b.Fatalf("block kept %d of %d transactions", len(blk.Txs), benchTxs)
		}
		benchBlock = blk.Encode(nil)
	})
}

func benchTxList(b *testing.B, g *genesis.Genesis) []*types.Transaction {
	txs := make([]*types.Transaction, benchTxs)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < benchTxs; i += 4 {
				from := benchKeys[i%benchSenders]
				to := benchKeys[(i*7+3)%benchSenders].Address()
				txs[i] = signTx(b, g, from, to, uint64(i/benchSenders+1), uint64(1+i%5))
			}
		})
	}
	wg.Wait()
	return txs
}

// benchChain opens a fresh on-disk chain at genesis.
func benchChain(b *testing.B, pool TxSource, keyCache *crypto.KeyCache) (kv.Store, *Chain) {
	dir := b.TempDir()
	db, err := OpenDB(dir)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := Init(db, benchGenesis, []byte("{}")); err != nil {
		b.Fatal(err)
	}
	c, err := Open(db, Config{Genesis: benchGenesis, Verifier: linkVerifier{}, Pool: pool, Keys: keyCache, Finality: &testFinality{}})
	if err != nil {
		b.Fatal(err)
	}
	return db, c
}

// BenchmarkImportBlock1000 validates, executes and commits (synced) a
// network block of 1,000 transfers from 200 senders on a fresh chain:
// with the signatures the pool already checked skipped, and verifying
// all of them.
func BenchmarkImportBlock1000(b *testing.B) {
	benchSetup(b)
	for _, mode := range []struct {
		name string
		pool TxSource
	}{{"pool-verified", benchPool}, {"verify-all", nil}} {
		b.Run(mode.name, func(b *testing.B) {
			keyCache := crypto.NewKeyCache(4096) // warm, as in a running node
			for b.Loop() {
				b.StopTimer()
				db, c := benchChain(b, mode.pool, keyCache)
				blk, err := types.DecodeBlock(benchBlock)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := c.ImportBlock(blk, benchBlock); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTxs), "ns/tx")
		})
	}
}

// BenchmarkImportOwn1000 commits a block this node built: no signature
// checks, no re-execution.
func BenchmarkImportOwn1000(b *testing.B) {
	benchSetup(b)
	blk, err := types.DecodeBlock(benchBlock)
	if err != nil {
		b.Fatal(err)
	}
	miner := keys(b, 1)[0]
	for b.Loop() {
		b.StopTimer()
		db, c := benchChain(b, nil, nil)
		own := makeBlock(b, c, benchGenesis.ChainID, miner, 1, blk.Txs...)
		b.StartTimer()
		if _, err := c.ImportOwn(own); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTxs), "ns/tx")
}

// BenchmarkBuildBlock1000 executes 1,000 candidate transfers on the head
// state and computes the new state root (what a sealer does every slot).
func BenchmarkBuildBlock1000(b *testing.B) {
	benchSetup(b)
	blk, err := types.DecodeBlock(benchBlock)
	if err != nil {
		b.Fatal(err)
	}
	db, c := benchChain(b, nil, nil)
	defer db.Close()
	h := blk.Header
	h.StateRoot, h.TxRoot = types.Hash{}, types.Hash{}
	for b.Loop() {
		out, err := c.BuildBlock(benchGenesis.ChainID, h, blk.Txs)
		if err != nil || len(out.Txs) != benchTxs {
			b.Fatalf("build: %v", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTxs), "ns/tx")
}

func benchAddr(i uint64) [20]byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], i)
	h := sha256.Sum256(buf[:])
	var a [20]byte
	copy(a[:], h[:])
	return a
}

// BenchmarkStateRoot1000of1M builds a 1,000,000-account state tree in
// LevelDB once, reopens the database (so nodes come from table files),
// then times the state root update for 1,000 random touched accounts
// through a tree with a warmed node cache, as block import does (nodes go
// to a batch that is not written). Key generation (1,000 SHA-256) is inside
// the timed region and negligible.
func BenchmarkStateRoot1000of1M(b *testing.B) {
	const accounts = 1_000_000
	dir := b.TempDir()
	db, err := OpenDB(dir)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	// One update on the empty tree reads nothing; its nodes stream into
	// LevelDB in bounded batches.
	ups := make([]smt.Update, accounts)
	for i := range ups {
		ups[i] = smt.Update{Key: benchAddr(uint64(i)), Value: types.Account{Balance: uint64(i) + 1}.Encode(nil)}
	}
	w := &flushWriter{db: db, batch: db.NewBatch()}
	root, err := smt.New(state.NodeStore(db), 0).Update(smt.Hash{}, ups, w)
	if err != nil {
		b.Fatal(err)
	}
	w.flush()
	if w.err != nil {
		b.Fatal(w.err)
	}
	built := time.Since(start)
	// A node that has run for a while has a compacted store.
	if err := db.(kv.Compacter).Compact(nil, nil); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if db, err = OpenDB(dir); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.Logf("built a %d-account tree in %v, compacted in %v", accounts, built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))

	// The chain's default node cache, and a larger one for comparison.
	for _, cache := range []int{smt.DefaultCacheNodes, 1 << 18} {
		b.Run(fmt.Sprintf("cache=%d", cache), func(b *testing.B) { benchRootUpdate(b, db, root, accounts, cache) })
	}
}

func benchRootUpdate(b *testing.B, db kv.Store, root smt.Hash, accounts uint64, cache int) {
	store := &countingStore{r: state.NodeStore(db)}
	tree := smt.New(store, cache)
	rng := rand.New(rand.NewPCG(1, 2))
	ups := make([]smt.Update, 1000)
	update := func() {
		for i := range ups {
			n := rng.Uint64N(accounts)
			ups[i] = smt.Update{Key: benchAddr(n), Value: types.Account{Balance: n + 2, Nonce: 1}.Encode(nil)}
		}
		if _, err := tree.Update(root, ups, state.NodeWriter(db.NewBatch())); err != nil {
			b.Fatal(err)
		}
	}
	// Warm the node cache as a node that has been importing blocks for a
	// while would have it; then measure.
	for range 100 {
		update()
	}
	store.n.Store(0)
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		update()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/update")
	// Wall time is at the mercy of other load on the machine; the
	// process CPU time and the store reads are steadier figures.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/update")
	b.ReportMetric(float64(store.n.Load())/float64(b.N), "reads/update")
}

// flushWriter writes tree nodes to LevelDB in batches of bounded size.
type flushWriter struct {
	db    kv.Store
	batch kv.Batch
	err   error
}

func (w *flushWriter) PutNode(h smt.Hash, enc []byte) {
	state.NodeWriter(w.batch).PutNode(h, enc)
	if w.batch.Len() >= 50_000 {
		w.flush()
	}
}

func (w *flushWriter) flush() {
	if w.err == nil {
		w.err = w.db.Write(w.batch, false)
	}
	w.batch.Reset()
}

// countingStore counts the node reads that reach LevelDB (cache misses).
type countingStore struct {
	r smt.NodeReader
	n atomic.Int64
}

func (s *countingStore) GetNode(h smt.Hash) ([]byte, error) {
	s.n.Add(1)
	return s.r.GetNode(h)
}
