package smt

import (
	"errors"
	"testing"
)

type proofCase struct {
	name  string
	root  Hash
	key   [20]byte
	value []byte
	found bool
	p     Proof
}

func proofCases(t *testing.T) []proofCase {
	t.Helper()
	store := NewMemStore()
	tr := New(store, 0)
	a, b, c := fill(0x11), fill(0x11), key(0xf0)
	b[19] ^= 1
	d := a
	d[18] ^= 0x02 // bit 150
	q := d
	q[19] ^= 0x10 // bit 155: ends at d's leaf, at depth 151
	three := mustUpdate(t, tr, Hash{}, []Update{{a, []byte("a")}, {b, []byte("b")}, {c, []byte("c")}, {d, []byte("d")}}, store)
	one := mustUpdate(t, tr, Hash{}, []Update{{c, []byte("c")}}, store)

	queries := []struct {
		name      string
		root      Hash
		key       [20]byte
		wantFound bool
		wantSibs  int
		wantLeaf  bool
	}{
		{"inclusion deep", three, a, true, 160, false},
		{"inclusion shallow", three, c, true, 1, false},
		{"absence empty end", three, key(0x50), false, 2, false},
		{"absence other leaf", three, fill(0xff), false, 1, true},
		{"absence deep empty end", three, func() [20]byte { k := a; k[19] ^= 2; return k }(), false, 159, false},
		{"absence deep other leaf", three, q, false, 151, true},
		{"empty tree", Hash{}, a, false, 0, false},
		{"single leaf present", one, c, true, 0, false},
		{"single leaf absent", one, a, false, 0, true},
	}
	var cases []proofCase
	for _, q := range queries {
		v, ok, p, err := tr.Prove(q.root, q.key)
		if err != nil {
			t.Fatalf("%s: prove: %v", q.name, err)
		}
		if ok != q.wantFound || len(p.Siblings) != q.wantSibs || (p.Leaf != nil) != q.wantLeaf {
			t.Fatalf("%s: found=%v siblings=%d leaf=%v", q.name, ok, len(p.Siblings), p.Leaf != nil)
		}
		cases = append(cases, proofCase{q.name, q.root, q.key, v, ok, p})
	}
	return cases
}

func cloneProof(p Proof) Proof {
	q := Proof{Siblings: append([]Hash(nil), p.Siblings...)}
	if p.Leaf != nil {
		l := *p.Leaf
		l.Value = append([]byte(nil), l.Value...)
		q.Leaf = &l
	}
	return q
}

func TestProofs(t *testing.T) {
	// Each tamper returns false when it does not apply to a case.
	tampers := []struct {
		name string
		f    func(c *proofCase) bool
	}{
		{"flip value", func(c *proofCase) bool {
			if !c.found {
				return false
			}
			c.value = append(append([]byte(nil), c.value...), 'x')
			return true
		}},
		{"value on absence", func(c *proofCase) bool {
			if c.found {
				return false
			}
			c.value = []byte("a")
			return true
		}},
		{"flip found", func(c *proofCase) bool { c.found = !c.found; return true }},
		{"wrong root", func(c *proofCase) bool { c.root[0] ^= 1; return true }},
		// An absence proof also proves every other key on the same path
		// absent, so only an inclusion proof is bound to its key.
		{"wrong key", func(c *proofCase) bool {
			if !c.found {
				return false
			}
			c.key[19] ^= 0x80
			return true
		}},
		{"flip first sibling", func(c *proofCase) bool {
			if len(c.p.Siblings) == 0 {
				return false
			}
			c.p.Siblings[0][5] ^= 1
			return true
		}},
		{"flip last sibling", func(c *proofCase) bool {
			if len(c.p.Siblings) == 0 {
				return false
			}
			c.p.Siblings[len(c.p.Siblings)-1][31] ^= 1
			return true
		}},
		{"drop first sibling", func(c *proofCase) bool {
			if len(c.p.Siblings) == 0 {
				return false
			}
			c.p.Siblings = c.p.Siblings[1:]
			return true
		}},
		{"drop last sibling", func(c *proofCase) bool {
			if len(c.p.Siblings) == 0 {
				return false
			}
			c.p.Siblings = c.p.Siblings[:len(c.p.Siblings)-1]
			return true
		}},
		{"extra empty sibling", func(c *proofCase) bool { c.p.Siblings = append(c.p.Siblings, Hash{}); return true }},
		{"extra sibling", func(c *proofCase) bool { c.p.Siblings = append(c.p.Siblings, Hash{1}); return true }},
		{"extra leading sibling", func(c *proofCase) bool {
			c.p.Siblings = append([]Hash{{2}}, c.p.Siblings...)
			return true
		}},
		{"too many siblings", func(c *proofCase) bool { c.p.Siblings = make([]Hash, KeyBits+1); return true }},
		{"drop other leaf", func(c *proofCase) bool {
			if c.p.Leaf == nil {
				return false
			}
			c.p.Leaf = nil
			return true
		}},
		{"tamper other leaf value", func(c *proofCase) bool {
			if c.p.Leaf == nil {
				return false
			}
			c.p.Leaf.Value = append(c.p.Leaf.Value, 1)
			return true
		}},
		{"tamper other leaf key", func(c *proofCase) bool {
			if c.p.Leaf == nil {
				return false
			}
			c.p.Leaf.Key[19] ^= 4
			return true
		}},
		{"other leaf is the key", func(c *proofCase) bool {
			c.p.Leaf = &ProofLeaf{Key: c.key, Value: c.value}
			c.found = false
			return true
		}},
		{"add other leaf", func(c *proofCase) bool {
			if c.p.Leaf != nil {
				return false
			}
			k := c.key
			k[19] ^= 1
			c.p.Leaf = &ProofLeaf{Key: k, Value: []byte("z")}
			return true
		}},
		{"oversize value", func(c *proofCase) bool {
			if !c.found {
				return false
			}
			c.value = make([]byte, MaxValueSize+1)
			return true
		}},
	}
	for _, base := range proofCases(t) {
		t.Run(base.name, func(t *testing.T) {
			if err := VerifyProof(base.root, base.key, base.value, base.found, base.p); err != nil {
				t.Fatalf("honest proof: %v", err)
			}
			for _, tm := range tampers {
				c := base
				c.value = append([]byte(nil), base.value...)
				if base.value == nil {
					c.value = nil
				}
				c.p = cloneProof(base.p)
				if !tm.f(&c) {
					continue
				}
				err := VerifyProof(c.root, c.key, c.value, c.found, c.p)
				if !errors.Is(err, ErrBadProof) {
					t.Errorf("%s: err = %v, want ErrBadProof", tm.name, err)
				}
			}
		})
	}
}
