package smt

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"ccoin/ccoin/kv"
)

const (
	benchAccounts  = 1_000_000
	benchBatch     = 1000
	benchCache     = 1 << 18 // ~ the top 17 levels of a 1M tree
	benchValueSize = 20
)

// benchFixture is the 1M-account tree, built once per benchmark process.
type benchFixture struct {
	keys  [][20]byte
	store *MemStore
	root  Hash

	dbOnce sync.Once
	dir    string
	db     *leveldb.DB
	dbErr  error
}

var (
	fixtureOnce sync.Once
	fixture     *benchFixture
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture != nil && fixture.db != nil {
		fixture.db.Close()
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

func randKey(rng *rand.Rand) [20]byte {
	var k [20]byte
	for i := 0; i < 20; i += 4 {
		v := rng.Uint32()
		k[i], k[i+1], k[i+2], k[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	return k
}

func randValue(rng *rand.Rand) []byte {
	v := make([]byte, benchValueSize)
	for i := range v {
		v[i] = byte(rng.Uint32())
	}
	return v
}

func getFixture(b *testing.B) *benchFixture {
	b.Helper()
	fixtureOnce.Do(func() {
		rng := rand.New(rand.NewPCG(42, 1))
		f := &benchFixture{store: NewMemStore()}
		ups := make([]Update, benchAccounts)
		f.keys = make([][20]byte, benchAccounts)
		for i := range ups {
			f.keys[i] = randKey(rng)
			ups[i] = Update{f.keys[i], randValue(rng)}
		}
		root, err := New(f.store, benchCache).Update(Hash{}, ups, f.store)
		if err != nil {
			panic(err)
		}
		f.root = root
		fixture = f
	})
	return fixture
}

// levelReader reads goleveldb directly, so the benchmark keeps its own
// options (a larger write buffer than a node's).
type levelReader struct{ db *leveldb.DB }

func (r levelReader) Get(key []byte) ([]byte, error) {
	v, err := r.db.Get(key, nil)
	if err == leveldb.ErrNotFound {
		return nil, kv.ErrNotFound
	}
	return v, err
}

func (r levelReader) Has(key []byte) (bool, error) { return r.db.Has(key, nil) }

// levelDB copies the fixture's nodes to an on-disk goleveldb once.
func (f *benchFixture) levelDB(b *testing.B) *leveldb.DB {
	b.Helper()
	f.dbOnce.Do(func() {
		f.dir, f.dbErr = os.MkdirTemp("", "smt-bench-")
		if f.dbErr != nil {
			return
		}
		// Node hashes are random, so reads have no locality: a bloom filter
		// and a block cache the size a node would give it matter.
		f.db, f.dbErr = leveldb.OpenFile(f.dir, &opt.Options{
			WriteBuffer:        64 << 20,
			BlockCacheCapacity: 64 << 20,
			Filter:             filter.NewBloomFilter(10),
		})
		if f.dbErr != nil {
			return
		}
		batch := new(leveldb.Batch)
		w := BatchWriter{Batch: batch, Prefix: []byte("n")}
		f.store.Range(func(h Hash, enc []byte) bool {
			w.PutNode(h, enc)
			if batch.Len() >= 100_000 {
				if f.dbErr = f.db.Write(batch, nil); f.dbErr != nil {
					return false
				}
				batch.Reset()
			}
			return true
		})
		if f.dbErr == nil {
			f.dbErr = f.db.Write(batch, nil)
		}
		if f.dbErr == nil {
			f.dbErr = f.db.CompactRange(struct{ Start, Limit []byte }{})
		}
	})
	if f.dbErr != nil {
		b.Fatal(f.dbErr)
	}
	return f.db
}

// reportCPU adds the process CPU time per op (all goroutines, GC included).
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N)/1e6, "cpu-ms/op")
	}
}

// warm loads every node down to the cache depth, as a running node's cache
// would hold them, so the timed loop measures the steady state.
func warm(b *testing.B, tr *Tree, root Hash) *Tree {
	b.Helper()
	var visit func(h Hash, depth int)
	visit = func(h Hash, depth int) {
		if h == (Hash{}) || depth > tr.cacheDepth {
			return
		}
		var n node
		if err := tr.loadNode(&h, depth, &n); err != nil {
			b.Fatal(err)
		}
		if !n.leaf {
			visit(n.left, depth+1)
			visit(n.right, depth+1)
		}
	}
	visit(root, 0)
	runtime.GC() // finish collecting setup garbage before the timer starts
	return tr
}

// updateSets makes n batches of benchBatch updates: half overwrite existing
// accounts, half create new ones, like a block of transfers.
func (f *benchFixture) updateSets(n int) [][]Update {
	rng := rand.New(rand.NewPCG(7, 7))
	sets := make([][]Update, n)
	for i := range sets {
		ups := make([]Update, benchBatch)
		for j := range ups {
			k := randKey(rng)
			if j%2 == 0 {
				k = f.keys[rng.IntN(len(f.keys))]
			}
			ups[j] = Update{k, randValue(rng)}
		}
		sets[i] = ups
	}
	return sets
}

func BenchmarkUpdate1000In1M(b *testing.B) {
	f := getFixture(b)
	sets := f.updateSets(64)
	b.Run("mem", func(b *testing.B) {
		tr := warm(b, New(f.store, benchCache), f.root)
		i := 0
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			if _, err := tr.Update(f.root, sets[i%len(sets)], discard{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportCPU(b, cpu)
	})
	for _, cache := range []int{benchCache, 1 << 20} {
		b.Run(fmt.Sprintf("leveldb/cache=%d", cache), func(b *testing.B) {
			db := f.levelDB(b)
			tr := warm(b, New(KVStore{DB: levelReader{db}, Prefix: []byte("n")}, cache), f.root)
			batch := new(leveldb.Batch)
			i := 0
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				batch.Reset()
				if _, err := tr.Update(f.root, sets[i%len(sets)], BatchWriter{Batch: batch, Prefix: []byte("n")}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportCPU(b, cpu)
		})
	}
	b.Run("leveldb+write", func(b *testing.B) {
		db := f.levelDB(b)
		tr := warm(b, New(KVStore{DB: levelReader{db}, Prefix: []byte("n")}, benchCache), f.root)
		batch := new(leveldb.Batch)
		i := 0
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			batch.Reset()
			if _, err := tr.Update(f.root, sets[i%len(sets)], BatchWriter{Batch: batch, Prefix: []byte("n")}); err != nil {
				b.Fatal(err)
			}
			if err := db.Write(batch, nil); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportCPU(b, cpu)
	})
}

func benchReaders(b *testing.B, f *benchFixture) []struct {
	name string
	tr   *Tree
} {
	return []struct {
		name string
		tr   *Tree
	}{
		{"mem", warm(b, New(f.store, benchCache), f.root)},
		{"leveldb", warm(b, New(KVStore{DB: levelReader{f.levelDB(b)}, Prefix: []byte("n")}, benchCache), f.root)},
	}
}

func BenchmarkGetIn1M(b *testing.B) {
	f := getFixture(b)
	for _, r := range benchReaders(b, f) {
		b.Run(r.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 3))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, ok, err := r.tr.Get(f.root, f.keys[rng.IntN(len(f.keys))]); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

func BenchmarkProveVerifyIn1M(b *testing.B) {
	f := getFixture(b)
	for _, r := range benchReaders(b, f) {
		b.Run(r.name+"/prove+verify", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(4, 4))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				k := f.keys[rng.IntN(len(f.keys))]
				v, ok, p, err := r.tr.Prove(f.root, k)
				if err != nil || !ok {
					b.Fatal(ok, err)
				}
				if err := VerifyProof(f.root, k, v, ok, p); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
	b.Run("verify-only", func(b *testing.B) {
		tr := New(f.store, benchCache)
		k := f.keys[0]
		v, ok, p, err := tr.Prove(f.root, k)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			if err := VerifyProof(f.root, k, v, ok, p); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
	})
}

// BenchmarkBuild measures building a tree from scratch with one Update.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 5))
			ups := make([]Update, n)
			for i := range ups {
				ups[i] = Update{randKey(rng), randValue(rng)}
			}
			tr := New(NewMemStore(), benchCache)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := tr.Update(Hash{}, ups, discard{}); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}
