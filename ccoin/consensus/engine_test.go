package consensus

import (
	"context"
	"errors"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// validHeader is a block template for slot 4 (leader: miner 1) on genesis.
func validHeader(e *Engine, txs []*types.Transaction) types.Header {
	g := e.Genesis()
	h := e.Prepare(&g.Block.Header, g.ChainID, 4, e.Schedule().SlotStart(4)+10, g.Miners[1])
	h.TxRoot = types.TxRoot((&types.Block{Txs: txs}).TxIDs())
	h.StateRoot = types.Hash{0xaa}
	return h
}

func sealWith(tb testing.TB, e *Engine, h types.Header, txs []*types.Transaction, k *crypto.PrivateKey) *types.Block {
	tb.Helper()
	b := &types.Block{Header: h, Txs: txs}
	if !b.Header.Mine(0, nil) {
		tb.Fatal("mine stopped")
	}
	if err := b.Seal(k); err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestVerifyHeader(t *testing.T) {
	k := testKeys(t)
	g := testGenesis(t, nil)
	e := NewEngine(g, crypto.NewKeyCache(16))
	s := e.Schedule()
	now4 := s.SlotStart(4) + 50

	cases := []struct {
		name   string
		ntx    int
		key    int                   // signer index + 1; 0 means miner 1
		hdr    func(h *types.Header) // before sealing
		post   func(b *types.Block)  // after sealing
		parent func(p *types.Header) // on a copy of the genesis header
		now    uint64                // default now4
		want   error
		also   error
	}{
		{name: "valid", ntx: 2},
		{name: "valid empty"},
		{name: "valid at max_bound", ntx: 5},
		{name: "valid at slot end", hdr: func(h *types.Header) { h.Time = s.SlotStart(5) - 1 }},
		{name: "wrong chain", hdr: func(h *types.Header) { h.ChainID[0] ^= 1 }, want: ErrWrongChain},
		{name: "bad number", hdr: func(h *types.Header) { h.Number = 3 }, want: ErrBadNumber},
		{name: "number wraps", hdr: func(h *types.Header) { h.Number = 0 },
			parent: func(p *types.Header) { p.Number = 1<<64 - 1 }, want: ErrBadNumber},
		{name: "slot equal to parent", parent: func(p *types.Header) { p.Slot = 4 }, want: ErrBadSlot},
		{name: "slot before parent", parent: func(p *types.Header) { p.Slot = 9 }, want: ErrBadSlot},
		{name: "time before slot", hdr: func(h *types.Header) { h.Time = s.SlotStart(4) - 1 }, want: ErrBadTime},
		{name: "time after slot", hdr: func(h *types.Header) { h.Time = s.SlotStart(5) }, want: ErrBadTime},
		{name: "time before genesis", hdr: func(h *types.Header) { h.Time = 5 }, want: ErrBadTime},
		{name: "huge slot", hdr: func(h *types.Header) { h.Slot = 1<<64 - 1; h.Time = 1<<64 - 1 }, want: ErrBadTime},
		{name: "huge slot in its window", hdr: func(h *types.Header) { h.Slot = 1 << 50; h.Time = s.SlotStart(1 << 50) }, want: ErrFarFuture},
		{name: "far future", now: s.SlotStart(2) - 1, want: ErrFarFuture},
		{name: "near future", now: s.SlotStart(2), want: ErrFuture},
		{name: "next slot", now: s.SlotStart(4) - 1, want: ErrFuture},
		{name: "near future with bad signature", now: s.SlotStart(3),
			post: func(b *types.Block) { b.Signature[7] ^= 1 }, want: ErrBadSeal},
		{name: "near future from wrong leader", now: s.SlotStart(3), key: 3,
			hdr: func(h *types.Header) { h.Sealer = k[2].Address() }, want: ErrWrongLeader},
		{name: "non-miner", key: 4, hdr: func(h *types.Header) { h.Sealer = k[3].Address() }, want: ErrNotMiner},
		{name: "wrong leader", key: 1, hdr: func(h *types.Header) { h.Sealer = k[0].Address() }, want: ErrWrongLeader},
		{name: "bad reward", hdr: func(h *types.Header) { h.Reward++ }, want: ErrBadParams},
		{name: "bad difficulty", hdr: func(h *types.Header) { h.Difficulty = 0 }, want: ErrBadParams},
		{name: "bad version", hdr: func(h *types.Header) { h.Version = 2 }, want: ErrBadParams},
		{name: "too many txs", ntx: 6, want: ErrTooManyTxs},
		{name: "bad tx root", ntx: 2, hdr: func(h *types.Header) { h.TxRoot[0] ^= 1 }, want: ErrBadTxRoot},
		{name: "tx root of no txs", ntx: 0, hdr: func(h *types.Header) { h.TxRoot = types.Hash{1} }, want: ErrBadTxRoot},
		{name: "tx dropped", ntx: 3, post: func(b *types.Block) { b.Txs = b.Txs[:2] }, want: ErrBadTxRoot},
		{name: "bad pow", post: func(b *types.Block) {
			for types.MeetsDifficulty(b.Header.ID(), b.Header.Difficulty) {
				b.Header.PowNonce++
			}
		}, want: ErrBadSeal, also: types.ErrBadPow},
		{name: "header changed after sealing", post: func(b *types.Block) {
			// Find a data change whose id still meets difficulty 1, so only the signature is wrong.
			for i := 0; ; i++ {
				b.Header.Data = []byte{byte(i), byte(i >> 8)}
				if types.MeetsDifficulty(b.Header.ID(), b.Header.Difficulty) {
					return
				}
			}
		}, want: ErrBadSeal, also: crypto.ErrBadSignature},
		{name: "sealer key of another address", post: func(b *types.Block) {
			sig, err := k[2].Sign(b.Header.ID())
			if err != nil {
				t.Fatal(err)
			}
			b.SealerKey, b.Signature = k[2].Public().DER(), sig
		}, want: ErrBadSeal},
		{name: "garbage sealer key", post: func(b *types.Block) { b.SealerKey = []byte{1, 2, 3} }, want: ErrBadSeal, also: crypto.ErrBadKey},
		{name: "bad signature", post: func(b *types.Block) { b.Signature[0] ^= 0x80 }, want: ErrBadSeal, also: crypto.ErrBadSignature},
		{name: "no signature", post: func(b *types.Block) { b.Signature = nil }, want: ErrBadSeal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			txs := testTxs(c.ntx)
			h := validHeader(e, txs)
			if c.hdr != nil {
				c.hdr(&h)
			}
			key := k[1]
			if c.key != 0 {
				key = k[c.key-1]
			}
			b := sealWith(t, e, h, txs, key)
			if c.post != nil {
				c.post(b)
			}
			parent := g.Block.Header
			if c.parent != nil {
				c.parent(&parent)
			}
			now := now4
			if c.now != 0 {
				now = c.now
			}
			err := e.VerifyHeader(&parent, b, now)
			if c.want == nil {
				if err != nil {
					t.Fatalf("valid block refused: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if c.also != nil && !errors.Is(err, c.also) {
				t.Fatalf("got %v, want it to wrap %v", err, c.also)
			}
		})
	}
}

func TestVerifyHeaderDecodedBlock(t *testing.T) {
	// What arrives from the network: encoded, decoded, then verified.
	g := testGenesis(t, nil)
	e := NewEngine(g, nil)
	txs := testTxs(3)
	b := sealWith(t, e, validHeader(e, txs), txs, testKeys(t)[1])
	d, err := types.DecodeBlock(b.Encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.VerifyHeader(&g.Block.Header, d, e.Schedule().SlotStart(4)); err != nil {
		t.Fatal(err)
	}
	if e.Author(&d.Header) != g.Miners[1] {
		t.Fatal("author")
	}
}

func TestPrepareSeal(t *testing.T) {
	k := testKeys(t)
	g := testGenesis(t, nil)
	e := NewEngine(g, nil)
	s := e.Schedule()
	parent := &g.Block.Header
	for _, c := range []struct {
		name     string
		slot     uint64
		now      uint64
		wantTime uint64
	}{
		{"mid slot", 7, s.SlotStart(7) + 42, s.SlotStart(7) + 42},
		{"early clock", 7, s.SlotStart(7) - 30, s.SlotStart(7)},
		{"late clock", 7, s.SlotStart(9), s.SlotStart(8) - 1},
		{"first slot", 1, s.SlotStart(1), s.SlotStart(1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			leader := s.Leader(c.slot)
			h := e.Prepare(parent, g.ChainID, c.slot, c.now, leader)
			if h.Time != c.wantTime || h.Number != 2 || h.Parent != g.ChainID || h.ChainID != g.ChainID ||
				h.Slot != c.slot || h.Sealer != leader || h.Reward != 5 || h.Difficulty != 1 ||
				string(h.Data) != "ccoin" || h.Version != types.HeaderVersion {
				t.Fatalf("prepared %+v", h)
			}
			txs := testTxs(2)
			b := &types.Block{Header: h, Txs: txs}
			b.Header.TxRoot = types.TxRoot(b.TxIDs())
			var key *crypto.PrivateKey
			for _, kk := range k {
				if kk.Address() == leader {
					key = kk
				}
			}
			if err := e.Seal(context.Background(), b, key); err != nil {
				t.Fatal(err)
			}
			if err := e.VerifyHeader(parent, b, c.now); err != nil && !errors.Is(err, ErrFuture) {
				t.Fatal(err)
			}
			if err := e.VerifyHeader(parent, b, h.Time); err != nil {
				t.Fatal(err)
			}
			if id := b.ID(); !types.MeetsDifficulty(id, 1) || id != b.Header.ID() {
				t.Fatalf("id %s", id)
			}
		})
	}
}

func TestSealErrors(t *testing.T) {
	k := testKeys(t)
	e := NewEngine(testGenesis(t, nil), nil)
	h := validHeader(e, nil)

	if err := e.Seal(context.Background(), &types.Block{Header: h}, k[0]); !errors.Is(err, ErrBadSeal) {
		t.Fatalf("foreign key: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Seal(ctx, &types.Block{Header: h}, k[1]); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// Difficulty 8 takes ~4e9 hashes: the deadline must stop it.
	h.Difficulty = 8
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.Seal(ctx, &types.Block{Header: h}, k[1]); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("seal ignored its context for %v", d)
	}
}

func BenchmarkVerifyHeader(b *testing.B) {
	g := testGenesis(b, func(f *genesisFile) { f.BlockMining.Difficulty = 4; f.BlockMining.MaxBound = 100 })
	e := NewEngine(g, crypto.NewKeyCache(16))
	txs := testTxs(100)
	blk := sealWith(b, e, validHeader(e, txs), txs, testKeys(b)[1])
	now := e.Schedule().SlotStart(4)
	for b.Loop() {
		if err := e.VerifyHeader(&g.Block.Header, blk, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealDifficulty4(b *testing.B) {
	g := testGenesis(b, func(f *genesisFile) { f.BlockMining.Difficulty = 4 })
	e := NewEngine(g, nil)
	k := testKeys(b)[1]
	h := validHeader(e, nil)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		hh := h
		hh.Data = []byte{byte(i), byte(i >> 8), byte(i >> 16)} // a fresh search each time
		if err := e.Seal(ctx, &types.Block{Header: hh}, k); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifyHeaderBlockBytes: a block whose encoding is over
// max_block_bytes is refused with ErrBlockTooLarge; one under it is not.
func TestVerifyHeaderBlockBytes(t *testing.T) {
	k := testKeys(t)
	g := testGenesis(t, func(f *genesisFile) { f.BlockMining.MaxBound = 100; f.BlockMining.MaxBlockBytes = 16 << 10 })
	e := NewEngine(g, crypto.NewKeyCache(16))
	now := e.Schedule().SlotStart(4) + 50
	txs := testTxs(20) // about 1 KiB each
	for _, tx := range txs {
		tx.Data = make([]byte, 1000)
	}
	fits := sealWith(t, e, validHeader(e, txs[:10]), txs[:10], k[1])
	if err := e.VerifyHeader(&g.Block.Header, fits, now); fits.EncodedLen() > int(g.MaxBlockBytes) || err != nil {
		t.Fatalf("block of %d bytes (cap %d): %v", fits.EncodedLen(), g.MaxBlockBytes, err)
	}
	over := sealWith(t, e, validHeader(e, txs), txs, k[1])
	err := e.VerifyHeader(&g.Block.Header, over, now)
	if over.EncodedLen() <= int(g.MaxBlockBytes) || !errors.Is(err, ErrBlockTooLarge) {
		t.Fatalf("block of %d bytes (cap %d): got %v, want ErrBlockTooLarge", over.EncodedLen(), g.MaxBlockBytes, err)
	}
}
