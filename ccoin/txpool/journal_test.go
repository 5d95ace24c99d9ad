package txpool

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"ccoin/ccoin/types"
)

// A restarted node gets back the transactions it had accepted, minus those
// the chain included meanwhile, and a damaged journal costs only the records
// from the damage on.
func TestJournal(t *testing.T) {
	keys := testKeys(t)
	st := newState()
	for _, k := range keys[:2] {
		st.set(k.Address(), 1000, 0)
	}
	src := New(Config{ChainID: testChain}, st)
	var txs []*types.Transaction
	for _, k := range keys[:2] {
		for nonce := uint64(1); nonce <= 4; nonce++ {
			txs = append(txs, stx(t, k, nonce, 10))
		}
	}
	txs = append(txs, stx(t, keys[0], 7, 10)) // queued behind a gap
	mustAccept(t, src.Add(txs))
	path := filepath.Join(t.TempDir(), "txpool.journal")
	if n, err := src.SaveJournal(path); err != nil || n != len(txs) {
		t.Fatalf("SaveJournal: %d, %v", n, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recordLen := len(txs[0].Encode(nil)) + 4

	cases := []struct {
		name           string
		file           []byte // nil: no file
		included       uint64 // head nonce of keys[0] when the journal is read
		added, dropped int
		err            error
	}{
		{"round trip", raw, 0, 9, 0, nil},
		{"included meanwhile dropped", raw, 2, 7, 2, nil},
		{"missing file", nil, 0, 0, 0, nil},
		{"empty file", []byte{}, 0, 0, 0, ErrJournal},
		{"not a journal", []byte("garbage!garbage!"), 0, 0, 0, ErrJournal},
		{"truncated record", raw[:len(raw)-5], 0, 8, 0, ErrJournal},
		{"oversize length", append(slices.Clone(raw[:8+recordLen]), 0xff, 0xff, 0xff, 0xff), 0, 1, 0, ErrJournal},
		// A changed field still decodes, but its signature no longer checks.
		{"flipped byte", flip(raw, 8+recordLen+20), 0, 8, 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newState()
			st.set(keys[0].Address(), 1000, c.included)
			st.set(keys[1].Address(), 1000, 0)
			p := New(Config{ChainID: testChain}, st)
			file := filepath.Join(t.TempDir(), "txpool.journal")
			if c.file != nil {
				if err := os.WriteFile(file, c.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			added, dropped, err := p.LoadJournal(file)
			if added != c.added || dropped != c.dropped || !errors.Is(err, c.err) {
				t.Fatalf("LoadJournal = %d added, %d dropped, %v; want %d, %d, %v", added, dropped, err, c.added, c.dropped, c.err)
			}
			if s := p.Stats(); s.Pending+s.Queued != c.added {
				t.Fatalf("pool holds %+v after restoring %d", s, c.added)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	b = slices.Clone(b)
	b[i] ^= 0x40
	return b
}
