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

func TestSignDeterministicVerifies(t *testing.T) {
	for _, k := range VectorKeys(t) {
		d := [32]byte{1, 2, 3}
		sig := SignDeterministic(k, d)
		if err := k.Public().Verify(d, sig); err != nil {
			t.Fatalf("%s: %v", k.Address(), err)
		}
		if string(sig) != string(SignDeterministic(k, d)) {
			t.Fatal("not deterministic")
		}
	}
}
