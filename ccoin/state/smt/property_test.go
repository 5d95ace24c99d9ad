package smt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sort"
	"testing"

	"pgregory.net/rapid"
)

// genKey draws keys that often collide with each other and share long
// prefixes, so overwrites, deletes and deep paths (down to depth 160) are
// exercised, not only the shallow random case.
func genKey() *rapid.Generator[[20]byte] {
	return rapid.Custom(func(t *rapid.T) [20]byte {
		var k [20]byte
		switch rapid.IntRange(0, 3).Draw(t, "shape") {
		case 0: // a small pool: many overwrites and deletes
			k[0] = byte(rapid.IntRange(0, 7).Draw(t, "pool"))
		case 1: // a fixed prefix with a varying last byte: deep splits
			for i := range k {
				k[i] = 0xa5
			}
			k[19] = byte(rapid.IntRange(0, 3).Draw(t, "tail"))
		case 2: // one bit flipped in a base key
			i := rapid.IntRange(0, 159).Draw(t, "flip")
			k[i/8] ^= 0x80 >> uint(i%8)
		default:
			copy(k[:], rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(t, "random"))
		}
		return k
	})
}

func genValue() *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		if rapid.IntRange(0, 3).Draw(t, "delete") == 0 {
			return nil
		}
		n := rapid.IntRange(0, 3).Draw(t, "len")
		if rapid.IntRange(0, 20).Draw(t, "max") == 0 {
			n = MaxValueSize
		}
		v := make([]byte, n) // non-nil even when empty: an empty value is a value
		for i := range v {
			v[i] = byte(rapid.IntRange(0, 3).Draw(t, "b"))
		}
		return v
	})
}

type snapshot struct {
	root Hash
	m    map[[20]byte][]byte
}

func cloneMap(m map[[20]byte][]byte) map[[20]byte][]byte {
	c := make(map[[20]byte][]byte, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func sortedKeys(m map[[20]byte][]byte) [][20]byte {
	ks := make([][20]byte, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return bytes.Compare(ks[i][:], ks[j][:]) < 0 })
	return ks
}

// checkState compares everything the tree exposes about root with the model.
func checkState(t *rapid.T, tr *Tree, s snapshot, probes [][20]byte) {
	if ref := refRoot(s.m); s.root != ref {
		t.Fatalf("root %x, reference %x", s.root, ref)
	}
	for _, k := range probes {
		want, wantOK := s.m[k]
		got, ok, err := tr.Get(s.root, k)
		if err != nil {
			t.Fatalf("get %x: %v", k, err)
		}
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("get %x = %x,%v want %x,%v", k, got, ok, want, wantOK)
		}
		if ok && got == nil {
			t.Fatalf("get %x: found with nil value", k)
		}
		pv, pok, p, err := tr.Prove(s.root, k)
		if err != nil {
			t.Fatalf("prove %x: %v", k, err)
		}
		if pok != wantOK || !bytes.Equal(pv, want) {
			t.Fatalf("prove %x = %x,%v want %x,%v", k, pv, pok, want, wantOK)
		}
		if err := VerifyProof(s.root, k, pv, pok, p); err != nil {
			t.Fatalf("verify %x: %v", k, err)
		}
		if err := VerifyProof(s.root, k, pv, !pok, p); !errors.Is(err, ErrBadProof) {
			t.Fatalf("verify %x with flipped claim: %v", k, err)
		}
		if n := len(p.Siblings); n > 0 {
			i := int(k[7]) % n
			p.Siblings[i][int(k[8])%32] ^= 1 << (k[9] % 8)
			if err := VerifyProof(s.root, k, pv, pok, p); !errors.Is(err, ErrBadProof) {
				t.Fatalf("verify %x with sibling %d of %d tampered: %v", k, i, n, err)
			}
		}
	}
	var got [][20]byte
	err := tr.Iterate(s.root, func(k [20]byte, v []byte) error {
		if !bytes.Equal(v, s.m[k]) {
			t.Fatalf("iterate %x = %x want %x", k, v, s.m[k])
		}
		got = append(got, k)
		return nil
	})
	if err != nil {
		t.Fatalf("iterate: %v", err)
	}
	want := sortedKeys(s.m)
	if len(got) != len(want) {
		t.Fatalf("iterate gave %d keys, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("iterate key %d = %x want %x", i, got[i], want[i])
		}
	}
}

func TestPropertyMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		store := NewMemStore()
		tr := New(store, rapid.SampledFrom([]int{0, 1 << 12}).Draw(t, "cache"))
		model := map[[20]byte][]byte{}
		var root Hash
		var history []snapshot
		var probes [][20]byte
		nBatches := rapid.IntRange(1, 8).Draw(t, "batches")
		for b := 0; b < nBatches; b++ {
			ups := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Update {
				return Update{Key: genKey().Draw(t, "key"), Value: genValue().Draw(t, "value")}
			}), 0, 40).Draw(t, "ups")
			for _, u := range ups {
				if u.Value == nil {
					delete(model, u.Key)
				} else {
					model[u.Key] = u.Value
				}
				probes = append(probes, u.Key)
			}
			// Apply in a random split of sub-batches, chained through the
			// cache half of the time (writer discards, nothing persisted
			// until the end of the batch).
			chained := rapid.Bool().Draw(t, "chained")
			var pending []Update
			rest := ups
			cur := root
			for len(rest) > 0 {
				n := rapid.IntRange(1, len(rest)).Draw(t, "split")
				var w NodeWriter = store
				if chained {
					w = discard{}
				}
				var err error
				cur, err = tr.Update(cur, rest[:n], w)
				if err != nil {
					t.Fatalf("update: %v", err)
				}
				pending = append(pending, rest[:n]...)
				rest = rest[n:]
			}
			if chained {
				// Persist by replaying the whole batch at once: the same root
				// must come out, and its nodes go to the store.
				again, err := tr.Update(root, pending, store)
				if err != nil {
					t.Fatalf("replay: %v", err)
				}
				if again != cur {
					t.Fatalf("chained root %x, one-batch root %x", cur, again)
				}
			}
			root = cur
			history = append(history, snapshot{root, cloneMap(model)})
			checkState(t, tr, history[len(history)-1], probes)
		}
		// Old roots keep their old values; a fresh tree (empty cache) proves
		// the store has everything.
		fresh := New(store, 0)
		for _, s := range history {
			checkState(t, fresh, s, probes)
		}
		// Order independence: the final set inserted shuffled in one batch.
		var all []Update
		for k, v := range model {
			all = append(all, Update{k, v})
		}
		perm := rapid.Permutation(all).Draw(t, "perm")
		other := NewMemStore()
		r2, err := New(other, 0).Update(Hash{}, perm, other)
		if err != nil {
			t.Fatal(err)
		}
		if r2 != root {
			t.Fatalf("shuffled rebuild %x, incremental %x", r2, root)
		}
	})
}

func TestLaterDuplicateWins(t *testing.T) {
	store := NewMemStore()
	tr := New(store, 0)
	k := key(1)
	tests := []struct {
		name string
		ups  []Update
		want []byte // nil: absent
	}{
		{"set then overwrite", []Update{{k, []byte("a")}, {k, []byte("b")}}, []byte("b")},
		{"set then delete", []Update{{k, []byte("a")}, {k, nil}}, nil},
		{"delete then set", []Update{{k, nil}, {k, []byte("c")}}, []byte("c")},
		{"empty value", []Update{{k, []byte{}}}, []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ups := append([]Update{{key(2), []byte("x")}}, tc.ups...)
			root := mustUpdate(t, tr, Hash{}, ups, store)
			got, ok, err := tr.Get(root, k)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tc.want != nil) || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %q,%v want %q", got, ok, tc.want)
			}
			m := map[[20]byte][]byte{key(2): []byte("x")}
			if tc.want != nil {
				m[k] = tc.want
			}
			if ref := refRoot(m); root != ref {
				t.Fatalf("root %x, reference %x", root, ref)
			}
		})
	}
}

func TestUpdateDoesNotModifyInput(t *testing.T) {
	store := NewMemStore()
	ups := []Update{{key(3), []byte("c")}, {key(1), []byte("a")}, {key(3), []byte("d")}}
	orig := append([]Update(nil), ups...)
	mustUpdate(t, New(store, 0), Hash{}, ups, store)
	for i := range ups {
		if ups[i].Key != orig[i].Key || !bytes.Equal(ups[i].Value, orig[i].Value) {
			t.Fatalf("input changed at %d", i)
		}
	}
}

func TestValueTooLarge(t *testing.T) {
	store := NewMemStore()
	tr := New(store, 0)
	root := mustUpdate(t, tr, Hash{}, []Update{{key(1), []byte("a")}}, store)
	got, err := tr.Update(root, []Update{{key(2), make([]byte, MaxValueSize+1)}}, store)
	if !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if got != root {
		t.Fatalf("root changed on error")
	}
}

func TestDeleteCollapses(t *testing.T) {
	store := NewMemStore()
	tr := New(store, 0)
	a, b, c := fill(0x11), fill(0x11), key(0xf0)
	b[19] ^= 1
	full := mustUpdate(t, tr, Hash{}, []Update{{a, []byte("a")}, {b, []byte("b")}, {c, []byte("c")}}, store)
	// Removing b must bring a back up to depth 1, beside c.
	r := mustUpdate(t, tr, full, []Update{{b, nil}}, store)
	want := mustUpdate(t, tr, Hash{}, []Update{{a, []byte("a")}, {c, []byte("c")}}, store)
	if r != want {
		t.Fatalf("after delete %x, want %x", r, want)
	}
	// Removing c too leaves the lone leaf as the root.
	r = mustUpdate(t, tr, r, []Update{{c, nil}}, store)
	if r != leafHash(&a, []byte("a")) {
		t.Fatalf("lone leaf root %x", r)
	}
	// Deleting absent keys changes nothing.
	if r2 := mustUpdate(t, tr, r, []Update{{b, nil}, {key(9), nil}}, store); r2 != r {
		t.Fatalf("deleting absent keys changed root")
	}
	if r = mustUpdate(t, tr, r, []Update{{a, nil}}, store); r != (Hash{}) {
		t.Fatalf("empty tree root %x", r)
	}
}

// TestParallelUpdate checks that spreading an update over goroutines gives
// the same root and writes exactly the same nodes as doing it sequentially.
func TestParallelUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	randKey := func() [20]byte {
		var k [20]byte
		for i := range k {
			k[i] = byte(rng.Uint32())
		}
		return k
	}
	base := NewMemStore()
	m := map[[20]byte][]byte{}
	var ups []Update
	for i := 0; i < 6000; i++ {
		k := randKey()
		ups = append(ups, Update{k, []byte{byte(i), byte(i >> 8)}})
		m[k] = ups[i].Value
	}
	for _, fan := range []int{1, 2, 3, 16} {
		r, err := New(NewMemStore(), 0).update(Hash{}, ups, discard{}, fan)
		if err != nil {
			t.Fatal(err)
		}
		if want := refRoot(m); r != want {
			t.Fatalf("fan %d: build root %x, reference %x", fan, r, want)
		}
	}
	root := mustUpdate(t, New(base, 0), Hash{}, ups, base)

	// A block: overwrites, deletes (some leaving lone leaves to collapse),
	// inserts, and repeats of the same key.
	var block []Update
	for i := 0; i < 1500; i++ {
		switch i % 4 {
		case 0:
			block = append(block, Update{ups[rng.IntN(len(ups))].Key, []byte{9, byte(i)}})
		case 1:
			block = append(block, Update{Key: ups[rng.IntN(len(ups))].Key})
		case 2:
			block = append(block, Update{randKey(), []byte{7}})
		default:
			block = append(block, Update{block[i-1].Key, []byte{8, byte(i)}})
		}
	}
	for _, u := range block {
		if u.Value == nil {
			delete(m, u.Key)
		} else {
			m[u.Key] = u.Value
		}
	}
	var roots []Hash
	var written []*MemStore
	for _, fan := range []int{1, 2, 4, 16} {
		w := NewMemStore()
		r, err := New(base, 0).update(root, block, w, fan)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, r)
		written = append(written, w)
	}
	if want := refRoot(m); roots[0] != want {
		t.Fatalf("root %x, reference %x", roots[0], want)
	}
	for i := 1; i < len(roots); i++ {
		if roots[i] != roots[0] {
			t.Fatalf("fan variant %d: root %x, sequential %x", i, roots[i], roots[0])
		}
		if written[i].Len() != written[0].Len() {
			t.Fatalf("fan variant %d wrote %d nodes, sequential %d", i, written[i].Len(), written[0].Len())
		}
		written[0].Range(func(h Hash, _ []byte) bool {
			if _, err := written[i].GetNode(h); err != nil {
				t.Fatalf("fan variant %d did not write node %x", i, h)
			}
			return true
		})
	}
}
