package smt

import (
	"crypto/sha256"
	"errors"
	"testing"
)

// put stores enc under its own hash, as an honest writer would.
func put(s *MemStore, enc []byte) Hash {
	h := sha256.Sum256(enc)
	s.PutNode(h, enc)
	return h
}

func internalEnc(l, r Hash) []byte {
	return append(append([]byte{tagInternal}, l[:]...), r[:]...)
}

func leafEnc(k [20]byte, v []byte) []byte {
	return append(append([]byte{tagLeaf}, k[:]...), v...)
}

func TestDecodeNode(t *testing.T) {
	k := key(1)
	tests := []struct {
		name string
		enc  []byte
		ok   bool
	}{
		{"leaf", leafEnc(k, []byte("v")), true},
		{"leaf empty value", leafEnc(k, nil), true},
		{"leaf max value", leafEnc(k, make([]byte, MaxValueSize)), true},
		{"internal", internalEnc(Hash{1}, Hash{}), true},
		{"empty", nil, false},
		{"unknown type", append([]byte{2}, make([]byte, 64)...), false},
		{"short leaf", leafEnc(k, nil)[:20], false},
		{"oversize leaf", leafEnc(k, make([]byte, MaxValueSize+1)), false},
		{"short internal", internalEnc(Hash{1}, Hash{2})[:64], false},
		{"long internal", append(internalEnc(Hash{1}, Hash{2}), 0), false},
		{"internal with two empty children", internalEnc(Hash{}, Hash{}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n node
			err := decodeNode(tc.enc, &n)
			if tc.ok && err != nil {
				t.Fatalf("err = %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

// gapReader hides some nodes of a store.
type gapReader struct {
	*MemStore
	hide map[Hash]bool
}

func (g gapReader) GetNode(h Hash) ([]byte, error) {
	if g.hide[h] {
		return nil, ErrNotFound
	}
	return g.MemStore.GetNode(h)
}

// TestCorruptTree builds damaged trees by hand and checks that every entry
// point reports ErrCorrupt rather than panicking or answering.
func TestCorruptTree(t *testing.T) {
	left := key(0x00)  // bit 0 = 0
	right := key(0x80) // bit 0 = 1
	goodLeft := leafEnc(left, []byte("l"))
	goodRight := leafEnc(right, []byte("r"))

	type built struct {
		r    NodeReader
		root Hash
		key  [20]byte // a key whose path meets the damage
	}
	tests := []struct {
		name  string
		build func(s *MemStore) built
		// iterateOnly: damage that only a full walk can see (shape rules
		// that a point lookup does not need).
		iterateOnly bool
	}{
		{"unknown type byte", func(s *MemStore) built {
			bad := put(s, append([]byte{7}, make([]byte, 64)...))
			return built{s, put(s, internalEnc(bad, put(s, goodRight))), left}
		}, false},
		{"truncated internal", func(s *MemStore) built {
			bad := put(s, internalEnc(Hash{1}, Hash{2})[:40])
			return built{s, put(s, internalEnc(bad, put(s, goodRight))), left}
		}, false},
		{"empty encoding", func(s *MemStore) built {
			bad := put(s, []byte{})
			return built{s, put(s, internalEnc(bad, put(s, goodRight))), left}
		}, false},
		{"oversize leaf", func(s *MemStore) built {
			bad := put(s, leafEnc(left, make([]byte, 300)))
			return built{s, put(s, internalEnc(bad, put(s, goodRight))), left}
		}, false},
		{"internal with two empty children", func(s *MemStore) built {
			bad := put(s, internalEnc(Hash{}, Hash{}))
			return built{s, put(s, internalEnc(bad, put(s, goodRight))), left}
		}, false},
		{"hash mismatch", func(s *MemStore) built {
			l := put(s, goodLeft)
			s.PutNode(l, leafEnc(left, []byte("forged")))
			return built{s, put(s, internalEnc(l, put(s, goodRight))), left}
		}, false},
		{"missing child", func(s *MemStore) built {
			l := put(s, goodLeft)
			root := put(s, internalEnc(l, put(s, goodRight)))
			return built{gapReader{s, map[Hash]bool{l: true}}, root, left}
		}, false},
		{"internal below depth 160", func(s *MemStore) built {
			// 170 internal nodes down the all-zero path.
			h := put(s, goodLeft)
			for i := 0; i < 170; i++ {
				h = put(s, internalEnc(h, put(s, goodRight)))
			}
			return built{s, h, key(0)}
		}, false},
		{"uncollapsed leaf", func(s *MemStore) built {
			return built{s, put(s, internalEnc(put(s, goodLeft), Hash{})), left}
		}, true},
		{"leaf off its path", func(s *MemStore) built {
			// right's leaf placed on the left.
			return built{s, put(s, internalEnc(put(s, goodRight), put(s, goodLeft))), left}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.build(NewMemStore())
			tr := New(b.r, 0)
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s: err = %v, want ErrCorrupt", what, err)
				}
			}
			check("iterate", tr.Iterate(b.root, func([20]byte, []byte) error { return nil }))
			if tc.iterateOnly {
				return
			}
			_, _, err := tr.Get(b.root, b.key)
			check("get", err)
			_, _, _, err = tr.Prove(b.root, b.key)
			check("prove", err)
			up := b.key
			up[19] ^= 1 // a new neighbour: the update must descend through the damage
			_, err = tr.Update(b.root, []Update{{up, []byte("x")}}, discard{})
			check("update", err)
		})
	}
}

func TestUnknownRoot(t *testing.T) {
	tr := New(NewMemStore(), 0)
	root := Hash{9}
	_, _, err := tr.Get(root, key(1))
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("get: %v", err)
	}
	if _, err := tr.Update(root, []Update{{key(1), []byte("a")}}, discard{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update: %v", err)
	}
	if err := tr.Iterate(root, func([20]byte, []byte) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("iterate: %v", err)
	}
}

func FuzzDecodeNode(f *testing.F) {
	f.Add(leafEnc(key(1), []byte("v")))
	f.Add(internalEnc(Hash{1}, Hash{2}))
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, enc []byte) {
		var n node
		if err := decodeNode(enc, &n); err != nil {
			return
		}
		// Whatever decodes must re-encode to the same bytes.
		var re []byte
		if n.leaf {
			re = leafEnc(n.key, n.value)
		} else {
			re = internalEnc(n.left, n.right)
		}
		if string(re) != string(enc) {
			t.Fatalf("re-encoding differs")
		}
	})
}
