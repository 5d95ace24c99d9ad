package smt

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func key(b ...byte) [20]byte {
	var k [20]byte
	copy(k[:], b)
	return k
}

func fill(b byte) [20]byte {
	var k [20]byte
	for i := range k {
		k[i] = b
	}
	return k
}

// discard is a NodeWriter that drops nodes: reads must then come from the
// tree's cache.
type discard struct{}

func (discard) PutNode(Hash, []byte) {}

func mustUpdate(t testing.TB, tr *Tree, root Hash, ups []Update, w NodeWriter) Hash {
	t.Helper()
	r, err := tr.Update(root, ups, w)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	return r
}

func vectorPairs() (keys [][20]byte, vals [][]byte) {
	a := fill(0x11)
	b := fill(0x11)
	b[19] = 0x10 // differs from a only in the last bit: leaves at depth 160
	c := key(0xf0)
	return [][20]byte{a, b, c}, [][]byte{[]byte("alice"), []byte("bob"), []byte("carol")}
}

// The pinned roots (cross-checked with an independent Python script) make any drift of the consensus definition visible.
func TestVector(t *testing.T) {
	keys, vals := vectorPairs()
	const (
		wantOne   = "one"
		wantThree = "three"
	)
	pinned := map[string]string{
		wantOne:   "cee5653b7167fa09cf357799a1e4504c0241bb0074671d44af788801cc88ee56",
		wantThree: "0241fd56a9c847e32408c51f8e593dc7130dc6512a80112572c731487dfc256d",
	}
	store := NewMemStore()
	tr := New(store, 0)

	if got := mustUpdate(t, tr, Hash{}, nil, store); got != (Hash{}) {
		t.Fatalf("empty root = %x", got)
	}
	one := mustUpdate(t, tr, Hash{}, []Update{{keys[0], vals[0]}}, store)
	leaf := sha256.Sum256(append(append([]byte{0}, keys[0][:]...), vals[0]...))
	if one != leaf {
		t.Fatalf("single-leaf root %x, want leaf hash %x", one, leaf)
	}
	var ups []Update
	m := map[[20]byte][]byte{}
	for i := range keys {
		ups = append(ups, Update{keys[i], vals[i]})
		m[keys[i]] = vals[i]
	}
	three := mustUpdate(t, tr, Hash{}, ups, store)
	if ref := refRoot(m); three != ref {
		t.Fatalf("root %x, reference %x", three, ref)
	}
	got := map[string]string{wantOne: hex.EncodeToString(one[:]), wantThree: hex.EncodeToString(three[:])}
	for name, want := range pinned {
		if got[name] != want {
			t.Errorf("%s: root %s, pinned %s", name, got[name], want)
		}
	}
}
