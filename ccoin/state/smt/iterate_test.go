package smt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestIterate(t *testing.T) {
	store := NewMemStore()
	tr := New(store, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	m := map[[20]byte][]byte{}
	var ups []Update
	for i := 0; i < 500; i++ {
		var k [20]byte
		for j := range k {
			k[j] = byte(rng.Uint32())
		}
		if i%50 == 0 { // neighbours that part deep in the tree
			k2 := k
			k2[19] ^= 1
			ups = append(ups, Update{k2, []byte{byte(i), 1}})
			m[k2] = []byte{byte(i), 1}
		}
		ups = append(ups, Update{k, []byte{byte(i)}})
		m[k] = []byte{byte(i)}
	}
	var zero, max [20]byte
	for i := range max {
		max[i] = 0xff
	}
	ups = append(ups, Update{zero, []byte("zero")}, Update{max, []byte("max")})
	m[zero], m[max] = []byte("zero"), []byte("max")
	root := mustUpdate(t, tr, Hash{}, ups, store)
	keys := sortedKeys(m)

	collect := func(start *[20]byte) [][20]byte {
		var got [][20]byte
		fn := func(k [20]byte, v []byte) error {
			if !bytes.Equal(v, m[k]) {
				t.Fatalf("key %x: value %x, want %x", k, v, m[k])
			}
			got = append(got, k)
			return nil
		}
		var err error
		if start == nil {
			err = tr.Iterate(root, fn)
		} else {
			err = tr.IterateFrom(root, *start, fn)
		}
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	expectFrom := func(start [20]byte) [][20]byte {
		i := sort.Search(len(keys), func(i int) bool { return bytes.Compare(keys[i][:], start[:]) >= 0 })
		return keys[i:]
	}
	equal := func(name string, got, want [][20]byte) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d keys, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: key %d = %x, want %x", name, i, got[i], want[i])
			}
		}
	}
	equal("iterate", collect(nil), keys)

	starts := [][20]byte{zero, max}
	for i := 0; i < len(keys); i += 7 {
		k := keys[i]
		starts = append(starts, k) // inclusive
		k[19]++
		starts = append(starts, k) // between keys (or equal to the next)
		k = keys[i]
		k[5] ^= 0x10
		starts = append(starts, k)
	}
	for _, s := range starts {
		equal("iterate from "+string(s[:2]), collect(&s), expectFrom(s))
	}

	// An error from fn stops the walk and comes back unchanged.
	stop := errors.New("stop")
	n := 0
	err := tr.Iterate(root, func([20]byte, []byte) error {
		n++
		if n == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 5 {
		t.Fatalf("err %v after %d calls", err, n)
	}

	// Paging: walk the whole tree in pages of 37, restarting after the last key.
	var paged [][20]byte
	var next [20]byte
	for more := true; more; {
		page := 0
		more = false
		err := tr.IterateFrom(root, next, func(k [20]byte, _ []byte) error {
			if page == 37 {
				next, more = k, true
				return stop
			}
			paged = append(paged, k)
			page++
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			t.Fatal(err)
		}
	}
	equal("paged", paged, keys)

	// The empty tree has nothing to visit.
	if err := tr.Iterate(Hash{}, func([20]byte, []byte) error { t.Fatal("called"); return nil }); err != nil {
		t.Fatal(err)
	}
}
