package smt

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"ccoin/ccoin/kv"
	kvleveldb "ccoin/ccoin/kv/leveldb"
	"ccoin/ccoin/kv/memorydb"
)

func TestKVStore(t *testing.T) {
	t.Run("leveldb", func(t *testing.T) {
		db, err := kvleveldb.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		testKVStore(t, db)
	})
	t.Run("memorydb", func(t *testing.T) { testKVStore(t, memorydb.New()) })
}

func testKVStore(t *testing.T, db kv.Store) {
	prefix := []byte("s/")
	if err := db.Put([]byte("other"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	tr := New(KVStore{DB: db, Prefix: prefix}, 0)

	var ups []Update
	m := map[[20]byte][]byte{}
	for i := 0; i < 200; i++ {
		k := key(byte(i), byte(i*7), byte(i*13))
		v := []byte(fmt.Sprint("v", i))
		ups = append(ups, Update{k, v})
		m[k] = v
	}
	batch := db.NewBatch()
	root := mustUpdate(t, tr, Hash{}, ups, BatchWriter{Batch: batch, Prefix: prefix})
	if err := db.Write(batch, false); err != nil {
		t.Fatal(err)
	}
	// A second block: delete half, write in a new batch.
	var dels []Update
	m2 := map[[20]byte][]byte{}
	for k, v := range m {
		if k[0]%2 == 0 {
			dels = append(dels, Update{Key: k})
		} else {
			m2[k] = v
		}
	}
	batch2 := db.NewBatch()
	root2 := mustUpdate(t, tr, root, dels, BatchWriter{Batch: batch2, Prefix: prefix})
	if err := db.Write(batch2, false); err != nil {
		t.Fatal(err)
	}

	fresh := New(KVStore{DB: db, Prefix: prefix}, 0) // empty cache: everything from disk
	for _, s := range []struct {
		root Hash
		m    map[[20]byte][]byte
	}{{root, m}, {root2, m2}} {
		if ref := refRoot(s.m); s.root != ref {
			t.Fatalf("root %x, reference %x", s.root, ref)
		}
		for k := range m {
			v, ok, err := fresh.Get(s.root, k)
			if err != nil {
				t.Fatal(err)
			}
			if want, wantOK := s.m[k]; ok != wantOK || !bytes.Equal(v, want) {
				t.Fatalf("get %x = %q,%v want %q", k, v, ok, want)
			}
		}
	}
	// Every node lives under the prefix; other keys are untouched.
	it := db.NewIterator(nil, nil)
	defer it.Release()
	for it.Next() {
		k := it.Key()
		if string(k) == "other" {
			continue
		}
		if !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+32 {
			t.Fatalf("stray key %x", k)
		}
	}
	if _, err := (KVStore{DB: db, Prefix: prefix}).GetNode(Hash{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing node: %v", err)
	}
}

// TestChainedUpdates covers the block pattern: several Update calls chained
// before the batch is written, the later ones reading the earlier ones'
// nodes from the cache.
func TestChainedUpdates(t *testing.T) {
	store := NewMemStore()
	tr := New(store, 0)
	base := mustUpdate(t, tr, Hash{}, []Update{{key(1), []byte("a")}, {key(2), []byte("b")}}, store)
	pending := NewMemStore()
	r := base
	for i := 0; i < 50; i++ {
		r = mustUpdate(t, tr, r, []Update{{key(3, byte(i)), []byte{byte(i)}}, {key(1), []byte{byte(i)}}}, pending)
	}
	// Nothing of the chain is in store yet, yet reads of r work.
	if v, ok, err := tr.Get(r, key(1)); err != nil || !ok || v[0] != 49 {
		t.Fatalf("get = %v %v %v", v, ok, err)
	}
	pending.Range(func(h Hash, enc []byte) bool { store.PutNode(h, enc); return true })
	fresh := New(store, 0)
	if v, ok, err := fresh.Get(r, key(3, 17)); err != nil || !ok || v[0] != 17 {
		t.Fatalf("after persisting: %v %v %v", v, ok, err)
	}
}

func TestConcurrentReaders(t *testing.T) {
	store := NewMemStore()
	tr := New(store, minCacheNodes) // small: readers race on eviction too
	var ups []Update
	for i := 0; i < 3000; i++ {
		ups = append(ups, Update{key(byte(i), byte(i>>8), byte(i*31)), []byte{byte(i)}})
	}
	root := mustUpdate(t, tr, Hash{}, ups, store)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(ups); i += 6 {
				v, ok, err := tr.Get(root, ups[i].Key)
				if err != nil || !ok || !bytes.Equal(v, ups[i].Value) {
					errs <- fmt.Errorf("get %d: %v %v %v", i, v, ok, err)
					return
				}
				val, found, p, err := tr.Prove(root, ups[i].Key)
				if err == nil {
					err = VerifyProof(root, ups[i].Key, val, found, p)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Add(1)
	go func() { // a writer building new roots beside the readers
		defer wg.Done()
		r := root
		for i := 0; i < 20; i++ {
			var err error
			r, err = tr.Update(r, []Update{{key(0xee, byte(i)), []byte{1}}}, store)
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestChainedUpdatesSmallCache chains updates whose deep nodes the cache
// does not keep: they must come from the recent-node generations.
func TestChainedUpdatesSmallCache(t *testing.T) {
	store := NewMemStore()
	tr := New(store, minCacheNodes) // caches depth <= 10 only
	var ups []Update
	for i := 0; i < 4000; i++ {
		ups = append(ups, Update{key(byte(i), byte(i>>8), byte(i*31), 1), []byte{1}})
	}
	root := mustUpdate(t, tr, Hash{}, ups, store)
	m := map[[20]byte][]byte{}
	for _, u := range ups {
		m[u.Key] = u.Value
	}
	made := 0
	counter := writerFunc(func(Hash, []byte) { made++ })
	for i := 0; made+200 < minCacheNodes/2; i++ {
		k := ups[(i*131)%len(ups)].Key
		v := []byte{byte(i), 2}
		root = mustUpdate(t, tr, root, []Update{{k, v}, {key(0xfe, byte(i)), v}}, counter)
		m[k], m[key(0xfe, byte(i))] = v, v
	}
	if ref := refRoot(m); root != ref {
		t.Fatalf("root %x, reference %x", root, ref)
	}
	n := 0
	err := tr.Iterate(root, func(k [20]byte, v []byte) error {
		if !bytes.Equal(v, m[k]) {
			return fmt.Errorf("key %x: %x want %x", k, v, m[k])
		}
		n++
		return nil
	})
	if err != nil || n != len(m) {
		t.Fatalf("iterate: %v, %d of %d keys", err, n, len(m))
	}
}

type writerFunc func(Hash, []byte)

func (f writerFunc) PutNode(h Hash, enc []byte) { f(h, enc) }

func TestRecentNodesBound(t *testing.T) {
	r := newRecentNodes(8) // generations of 4
	var hs []Hash
	for i := 0; i < 20; i++ {
		h := Hash{byte(i + 1)}
		hs = append(hs, h)
		r.add([]newNode{{h, []byte{byte(i)}}})
		// Every node of the last half (4) stays readable.
		for j := max(0, i-3); j <= i; j++ {
			if _, ok := r.get(&hs[j]); !ok {
				t.Fatalf("after %d adds, node %d is gone", i+1, j)
			}
		}
	}
	if total := r.cur.n + r.old.n; total > 8 {
		t.Fatalf("holding %d nodes, capacity 8", total)
	}
	if _, ok := r.get(&hs[0]); ok {
		t.Fatalf("oldest node still held")
	}
}
