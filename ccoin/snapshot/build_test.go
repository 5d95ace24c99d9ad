package snapshot

import (
	"bytes"
	"errors"
	"testing"

	"ccoin/ccoin/crypto"
)

// Build emits the chunks Export writes and the same manifest; a chunk cut
// again from the state at its first address encodes identically.
func TestBuildMatchesExport(t *testing.T) {
	tc := newTestChain(t, 11, 2300)
	if _, err := Build(tc.c, tc.g, tc.ffg.Certificate(), Options{ChunkAccounts: 1000}, nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Build at genesis: %v, want ErrUnavailable", err)
	}
	tc.sealN(5, true)
	if _, err := Build(tc.c, tc.g, tc.ffg.Certificate(), Options{ChunkAccounts: 1000}, nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Build without a certificate: %v, want ErrUnavailable", err)
	}
	tc.finalize()
	_, want := exportFile(t, tc, 1000)
	var firsts []crypto.Address
	var encs [][]byte
	m, err := Build(tc.c, tc.g, tc.ffg.Certificate(), Options{ChunkAccounts: 1000}, func(i int, first crypto.Address, enc []byte) error {
		if i != len(encs) {
			t.Fatalf("chunk %d emitted after %d", i, len(encs))
		}
		firsts, encs = append(firsts, first), append(encs, bytes.Clone(enc))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Encode(), want.Encode()) {
		t.Fatal("Build and Export manifests differ")
	}
	for i, enc := range encs {
		c, err := m.VerifyChunk(i, enc)
		if err != nil {
			t.Fatal(err)
		}
		if c.Addrs[0] != firsts[i] {
			t.Fatalf("chunk %d: first address %x, emitted %x", i, c.Addrs[0], firsts[i])
		}
	}
	stop := errors.New("stop")
	if _, err := Build(tc.c, tc.g, tc.ffg.Certificate(), Options{}, func(int, crypto.Address, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("emit error not returned: %v", err)
	}
}
