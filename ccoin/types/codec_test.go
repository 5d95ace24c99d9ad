package types

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"testing"
)

func sampleTx() *Transaction {
	return &Transaction{ChainID: Hash{1}, Nonce: 300, From: [20]byte{2}, To: [20]byte{3}, Amount: math.MaxUint64,
		Data: []byte("x"), Time: 70000, PublicKey: []byte{1, 2, 3}, Signature: []byte{4, 5}}
}

func TestUintShortestForm(t *testing.T) {
	for _, v := range []uint64{0, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxUint64} {
		b := appendUint(nil, v)
		r := reader{b: b}
		if got := r.uint(); got != v || r.end() != nil {
			t.Fatalf("%d: got %d, err %v", v, got, r.err)
		}
	}
}

func TestDecodeRefusesNonCanonical(t *testing.T) {
	good := sampleTx().Encode(nil)
	tests := []struct {
		name string
		in   func() []byte
	}{
		{"trailing byte", func() []byte { return append(bytes.Clone(good), 0) }},
		{"truncated", func() []byte { return good[:len(good)-1] }},
		{"empty", func() []byte { return nil }},
		{"long nonce form", func() []byte {
			// nonce 300 is cd 01 2c; the same value as ce 00 00 01 2c is not canonical.
			i := bytes.Index(good, []byte{0xcd, 0x01, 0x2c})
			return append(append(bytes.Clone(good[:i]), 0xce, 0, 0, 1, 0x2c), good[i+3:]...)
		}},
		{"signed int", func() []byte {
			i := bytes.Index(good, []byte{0xcd, 0x01, 0x2c})
			return append(append(bytes.Clone(good[:i]), 0xd1, 0x01, 0x2c), good[i+3:]...)
		}},
		{"str instead of bin", func() []byte { b := bytes.Clone(good); b[1] = 0xd9; return b }},
		{"wrong field count", func() []byte { b := bytes.Clone(good); b[0] = 0x98; return b }},
		{"chain id too short", func() []byte { b := bytes.Clone(good); b[2] = 31; return b[:len(b)-1] }},
		{"huge bin length", func() []byte { return []byte{0x99, 0xc6, 0xff, 0xff, 0xff, 0xff} }},
		{"huge array", func() []byte { return []byte{0xdd, 0xff, 0xff, 0xff, 0xff} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeTx(tc.in()); !errors.Is(err, ErrEncoding) {
				t.Fatalf("want ErrEncoding, got %v", err)
			}
		})
	}
}

func TestOversizeData(t *testing.T) {
	tx := sampleTx()
	tx.Data = make([]byte, MaxTxData+1)
	if _, err := DecodeTx(tx.Encode(nil)); !errors.Is(err, ErrEncoding) {
		t.Fatalf("want ErrEncoding, got %v", err)
	}
	tx.Data = make([]byte, MaxTxData)
	if _, err := DecodeTx(tx.Encode(nil)); err != nil {
		t.Fatal(err)
	}
}

func TestHeaderRules(t *testing.T) {
	base := Header{Version: 1, ChainID: Hash{9}, Number: 5, Parent: Hash{8}, Sealer: [20]byte{7}, Difficulty: 1}
	tests := []struct {
		name string
		mut  func(h *Header) []byte
		ok   bool
	}{
		{"valid", func(h *Header) []byte { return h.Encode(nil) }, true},
		{"unknown version", func(h *Header) []byte { h.Version = 2; return h.Encode(nil) }, false},
		{"number zero", func(h *Header) []byte { h.Number = 0; return h.Encode(nil) }, false},
		{"genesis shape valid", func(h *Header) []byte { h.Number = 1; return h.Encode(nil) }, true},
		{"difficulty too high", func(h *Header) []byte { h.Difficulty = 65; return h.Encode(nil) }, false},
		{"block 5 without parent", func(h *Header) []byte {
			b := h.Encode(nil)
			i := bytes.Index(b, append([]byte{0xc4, 32}, h.Parent[:]...))
			return append(append(bytes.Clone(b[:i]), 0xc4, 0), b[i+34:]...)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := base
			_, err := DecodeHeader(tc.mut(&h))
			if tc.ok != (err == nil) {
				t.Fatalf("ok=%v, err=%v", tc.ok, err)
			}
		})
	}
}

func TestTxRoot(t *testing.T) {
	a, b, c := Hash{1}, Hash{2}, Hash{3}
	roots := map[Hash]string{}
	for name, ids := range map[string][]Hash{"a": {a}, "ab": {a, b}, "ba": {b, a}, "abc": {a, b, c}, "abcc": {a, b, c, c}} {
		r := TxRoot(ids)
		if other, dup := roots[r]; dup {
			t.Fatalf("%s and %s share a root", name, other)
		}
		roots[r] = name
	}
	if !TxRoot(nil).IsZero() {
		t.Fatal("empty root is not zero")
	}
}

func TestMeetsDifficulty(t *testing.T) {
	id, _ := ParseHash("000f" + hex.EncodeToString(make([]byte, 30)))
	for d, want := range map[uint64]bool{0: true, 3: true, 4: false, 65: false} {
		if MeetsDifficulty(id, d) != want {
			t.Fatalf("difficulty %d: want %v", d, want)
		}
	}
}

func FuzzDecodeTx(f *testing.F) {
	f.Add(sampleTx().Encode(nil))
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := DecodeTx(b)
		if err != nil {
			return
		}
		// Canonical: what decodes re-encodes to the same bytes.
		if !bytes.Equal(tx.Encode(nil), b) {
			t.Fatalf("decoded transaction re-encodes differently")
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	h := Header{Version: 1, ChainID: Hash{9}, Number: 5, Parent: Hash{8}, Sealer: [20]byte{7}}
	f.Add((&Block{Header: h, Txs: []*Transaction{sampleTx()}}).Encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := DecodeBlock(b)
		if err != nil {
			return
		}
		if !bytes.Equal(blk.Encode(nil), b) {
			t.Fatalf("decoded block re-encodes differently")
		}
		// The header alone names the same block.
		if id, err := PeekBlockID(b); err != nil || id != blk.ID() {
			t.Fatalf("PeekBlockID: %s, %v; DecodeBlock: %s", id, err, blk.ID())
		}
		// A compact block's parts name and rebuild the same block.
		id, head, txs, ids, err := SplitBlock(b)
		if err != nil || id != blk.ID() || len(ids) != len(blk.Txs) {
			t.Fatalf("SplitBlock: %s, %d ids, %v", id, len(ids), err)
		}
		if back, err := AssembleBlock(head, txs); err != nil || !bytes.Equal(back, b) {
			t.Fatalf("AssembleBlock: %v", err)
		}
	})
}

func TestSplitAndAssembleBlock(t *testing.T) {
	h := Header{Version: 1, ChainID: Hash{9}, Number: 5, Parent: Hash{8}, Sealer: [20]byte{7}}
	many := make([]*Transaction, 20) // over 15: a 3-byte array header
	for i := range many {
		many[i] = sampleTx()
		many[i].Nonce = uint64(i + 1)
	}
	for _, tc := range []struct {
		name string
		txs  []*Transaction
	}{{"empty", nil}, {"one", many[:1]}, {"twenty", many}} {
		t.Run(tc.name, func(t *testing.T) {
			blk := &Block{Header: h, SealerKey: []byte{1, 2}, Signature: []byte{3}, Txs: tc.txs}
			raw := blk.Encode(nil)
			id, head, txs, ids, err := SplitBlock(raw)
			if err != nil || id != h.ID() {
				t.Fatalf("split: %s %v", id, err)
			}
			// The head is itself a block encoding, with no transactions.
			hb, err := DecodeBlock(head)
			if err != nil || len(hb.Txs) != 0 || hb.ID() != id || !bytes.Equal(hb.Signature, blk.Signature) {
				t.Fatalf("head does not decode as the block without txs: %v", err)
			}
			for i, tx := range tc.txs {
				if ids[i] != tx.ID() || !bytes.Equal(txs[i], tx.Encode(nil)) {
					t.Fatalf("tx %d: id or encoding differs", i)
				}
			}
			back, err := AssembleBlock(head, txs)
			if err != nil || !bytes.Equal(back, raw) {
				t.Fatalf("assemble: %v", err)
			}
		})
	}
	if _, err := AssembleBlock([]byte{0x94, 0x01}, nil); !errors.Is(err, ErrEncoding) {
		t.Errorf("a head without the empty list: %v", err)
	}
	if _, _, _, _, err := SplitBlock([]byte{0x94, 0xc0}); !errors.Is(err, ErrEncoding) {
		t.Errorf("garbage: %v", err)
	}
}

func TestPeekBlockID(t *testing.T) {
	h := Header{Version: 1, ChainID: Hash{9}, Number: 5, Parent: Hash{8}, Sealer: [20]byte{7}}
	raw := (&Block{Header: h, Txs: []*Transaction{sampleTx(), sampleTx()}}).Encode(nil)
	blk, err := DecodeBlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	id, err := PeekBlockID(raw)
	if err != nil || id != blk.ID() || id != h.ID() {
		t.Fatalf("peek %s %v, block %s", id, err, blk.ID())
	}
	// A damaged body is not the peek's business (DecodeBlock refuses it),
	// a damaged header is.
	if _, err := PeekBlockID(raw[:len(raw)-3]); err != nil {
		t.Fatalf("truncated body: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x94}, raw[:20], {0xc0}} {
		if _, err := PeekBlockID(bad); !errors.Is(err, ErrEncoding) {
			t.Errorf("PeekBlockID(% x...): %v", bad[:min(len(bad), 4)], err)
		}
	}
}
