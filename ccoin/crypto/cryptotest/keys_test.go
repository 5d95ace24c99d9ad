package cryptotest

import "testing"

func TestKeysAreSharedAndDistinct(t *testing.T) {
	a := Keys(t, 2)
	b := Keys(t, 3)
	if a[0] != b[0] || a[1] != b[1] {
		t.Fatal("a larger request does not extend the smaller one")
	}
	seen := map[string]bool{}
	for _, k := range b {
		if seen[k.Address().String()] {
			t.Fatal("duplicate key")
		}
		seen[k.Address().String()] = true
	}
}
