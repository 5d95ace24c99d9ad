package snapshot

import (
	"errors"
	"slices"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

func cloneProof(p *AccountProof) *AccountProof {
	q := *p
	q.Proof.Siblings = slices.Clone(p.Proof.Siblings)
	if p.Proof.Leaf != nil {
		l := *p.Proof.Leaf
		l.Value = slices.Clone(l.Value)
		q.Proof.Leaf = &l
	}
	q.Headers = make([]SealedHeader, len(p.Headers))
	for i, h := range p.Headers {
		h.Header.Data = slices.Clone(h.Header.Data)
		h.SealerKey = slices.Clone(h.SealerKey)
		h.Signature = slices.Clone(h.Signature)
		q.Headers[i] = h
	}
	return &q
}

func TestAccountProofs(t *testing.T) {
	tc := newTestChain(t, 7, 50)
	tc.sealN(4, true)
	other := newTestChain(t, 8, 50)
	other.sealN(3, false)
	user := keys(t)[3].Address()

	final, finalID := tc.c.Finalized()
	if final.Number < 2 {
		t.Fatalf("finalized %d, want a sealed block", final.Number)
	}
	incl, err := ProveAccount(tc.c, tc.g, user)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tc.c.AccountAt(final.StateRoot, user)
	if err != nil {
		t.Fatal(err)
	}
	if !incl.Found || incl.Account != want || incl.Headers[0].ID() != finalID {
		t.Fatalf("proof says %+v found=%v at %s, chain %+v at %s", incl.Account, incl.Found, incl.Headers[0].ID(), want, finalID)
	}
	absent, err := ProveAccount(tc.c, tc.g, crypto.AddressOf([]byte("nobody")))
	if err != nil {
		t.Fatal(err)
	}
	if absent.Found {
		t.Fatal("absent account found")
	}
	foreign, err := ProveAccount(other.c, other.g, user)
	if err != nil {
		t.Fatal(err)
	}
	outsider := keys(t)[4]

	cases := []struct {
		name   string
		base   *AccountProof
		tamper func(p *AccountProof)
		want   error
	}{
		{"inclusion", incl, func(*AccountProof) {}, nil},
		{"absence", absent, func(*AccountProof) {}, nil},
		{"tampered balance", incl, func(p *AccountProof) { p.Account.Balance++ }, ErrBadProof},
		{"tampered nonce", incl, func(p *AccountProof) { p.Account.Nonce++ }, ErrBadProof},
		{"claimed absent", incl, func(p *AccountProof) { p.Found, p.Account = false, types.Account{} }, ErrBadProof},
		{"claimed present", absent, func(p *AccountProof) { p.Found, p.Account.Balance = true, 5 }, ErrBadProof},
		{"absent with balance", absent, func(p *AccountProof) { p.Account.Balance = 5 }, ErrBadProof},
		{"tampered sibling", incl, func(p *AccountProof) { p.Proof.Siblings[0][0] ^= 1 }, ErrBadProof},
		{"tampered last sibling", absent, func(p *AccountProof) { p.Proof.Siblings[len(p.Proof.Siblings)-1][31] ^= 1 }, ErrBadProof},
		{"dropped sibling", incl, func(p *AccountProof) { p.Proof.Siblings = p.Proof.Siblings[1:] }, ErrBadProof},
		{"other address", incl, func(p *AccountProof) { p.Address[0] ^= 1 }, ErrBadProof},
		{"header from another chain", incl, func(p *AccountProof) { p.Headers = foreign.Headers }, ErrBadHeader},
		{"whole proof from another chain", foreign, func(*AccountProof) {}, ErrBadHeader},
		{"header without finality", incl, func(p *AccountProof) { p.Headers = p.Headers[:1] }, ErrNotFinal},
		{"no headers", incl, func(p *AccountProof) { p.Headers = nil }, ErrNotFinal},
		{"same sealer twice", incl, func(p *AccountProof) { p.Headers = append(p.Headers[:1], p.Headers[0]) }, ErrBadHeader},
		{"forged seal", incl, func(p *AccountProof) { p.Headers[0].Signature[10] ^= 1 }, ErrBadSeal},
		{"forged finality seal", incl, func(p *AccountProof) { p.Headers[1].Signature[10] ^= 1 }, ErrBadSeal},
		{"tampered state root", incl, func(p *AccountProof) { p.Headers[0].Header.StateRoot[0] ^= 1 }, ErrBadSeal},
		{"sealer key of another", incl, func(p *AccountProof) { p.Headers[0].SealerKey = outsider.Public().DER() }, ErrBadSeal},
		{"headers out of order", incl, func(p *AccountProof) { p.Headers[0], p.Headers[1] = p.Headers[1], p.Headers[0] }, ErrBadHeader},
		{"genesis claimed with a seal", incl, func(p *AccountProof) {
			p.Headers = []SealedHeader{{Header: tc.g.Block.Header, SealerKey: outsider.Public().DER()}}
		}, ErrBadHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := cloneProof(c.base)
			c.tamper(p)
			h, err := VerifyAccount(tc.g, p)
			if c.want == nil {
				if err != nil {
					t.Fatalf("valid proof refused: %v", err)
				}
				if h.StateRoot != final.StateRoot {
					t.Fatal("verified against another root")
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestGenesisProof(t *testing.T) {
	tc := newTestChain(t, 7, 3)
	p, err := ProveAccount(tc.c, tc.g, keys(t)[3].Address())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyAccount(tc.g, p); err != nil || p.Account.Balance != 1_000_000 {
		t.Fatalf("genesis proof: %v (%+v)", err, p.Account)
	}
	other := testGenesis(t, 8, 3)
	if _, err := VerifyAccount(other, p); !errors.Is(err, ErrBadHeader) {
		t.Fatalf("genesis of another chain: %v", err)
	}
}

func TestNotMinerSeal(t *testing.T) {
	tc := newTestChain(t, 7, 3)
	tc.sealN(3, false)
	hs, err := FinalityHeaders(tc.c, tc.g)
	if err != nil {
		t.Fatal(err)
	}
	// Re-seal the first header with an outsider's key under its address:
	// the sealer is then not a miner (nor the slot's leader).
	outsider := keys(t)[4]
	b := types.Block{Header: hs[0].Header}
	b.Header.Sealer = outsider.Address()
	b.Header.Mine(0, nil)
	if err := b.Seal(outsider); err != nil {
		t.Fatal(err)
	}
	hs[0] = Seal(&b)
	if _, _, err := VerifyFinality(tc.g, hs); !errors.Is(err, ErrBadHeader) {
		t.Fatalf("got %v", err)
	}
}

func TestSealedHeaderCodec(t *testing.T) {
	tc := newTestChain(t, 7, 3)
	b := tc.seal(true)
	s := Seal(b)
	got, err := DecodeSealedHeader(s.Encode())
	if err != nil || got.ID() != b.ID() {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := DecodeSealedHeader(b.Encode(nil)); !errors.Is(err, ErrBadHeader) {
		t.Fatalf("block with txs accepted as a sealed header: %v", err)
	}
	if _, err := DecodeSealedHeader([]byte{0x94}); !errors.Is(err, ErrBadHeader) {
		t.Fatalf("garbage: %v", err)
	}
}
