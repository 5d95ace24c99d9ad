package snapshot

import (
	"errors"
	"slices"
	"testing"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

func cloneCert(c *types.Certificate) *types.Certificate {
	if c == nil {
		return nil
	}
	q := &types.Certificate{Header: c.Header}
	q.Header.Data = slices.Clone(c.Header.Data)
	for _, v := range c.Votes {
		w := *v
		w.VoterKey, w.Signature = slices.Clone(v.VoterKey), slices.Clone(v.Signature)
		q.Votes = append(q.Votes, &w)
	}
	return q
}

func cloneProof(p *AccountProof) *AccountProof {
	q := *p
	q.Proof.Siblings = slices.Clone(p.Proof.Siblings)
	if p.Proof.Leaf != nil {
		l := *p.Proof.Leaf
		l.Value = slices.Clone(l.Value)
		q.Proof.Leaf = &l
	}
	q.Cert = cloneCert(p.Cert)
	return &q
}

// certForgery tampers with a valid certificate of tc's final block; a
// verifier must refuse it, naming check.
type certForgery struct {
	name   string
	tamper func(c *types.Certificate)
	check  consensus.CertCheck
}

// certForgeries are the ways a lying node could forge a certificate of
// tc's final block (tc.finalize ran; the chain has a block after it).
// other is a certificate of another chain.
func certForgeries(t *testing.T, tc *testChain, other *types.Certificate) []certForgery {
	ks := keys(t)
	miners, outsider := ks[:3], ks[4]
	cert := tc.ffg.Certificate()
	src, tgt := cert.Votes[0].Source, cert.Votes[0].Target
	head, _ := tc.c.Head()
	relink := func(s, d types.Checkpoint, signers ...*crypto.PrivateKey) func(c *types.Certificate) {
		return func(c *types.Certificate) {
			c.Votes = nil
			for _, k := range signers {
				c.Votes = append(c.Votes, signVote(t, tc.g, k, s, d))
			}
		}
	}
	return []certForgery{
		{"a non-miner's vote", func(c *types.Certificate) {
			c.Votes = append(c.Votes[:1], signVote(t, tc.g, outsider, src, tgt))
		}, consensus.CheckMiner},
		{"one voter twice", func(c *types.Certificate) { c.Votes = []*types.Vote{c.Votes[0], c.Votes[0]} }, consensus.CheckDistinct},
		{"too few voters", func(c *types.Certificate) { c.Votes = c.Votes[:1] }, consensus.CheckQuorum},
		{"no votes", func(c *types.Certificate) { c.Votes = nil }, consensus.CheckVotes},
		{"a vote for another link", func(c *types.Certificate) {
			c.Votes[1] = signVote(t, tc.g, miners[1], src, types.Checkpoint{Epoch: tgt.Epoch, ID: types.Hash{1}})
		}, consensus.CheckLink},
		{"non-consecutive epochs", relink(src, types.Checkpoint{Epoch: tgt.Epoch + 1, ID: tgt.ID}, miners...), consensus.CheckEpochs},
		{"header of another block", func(c *types.Certificate) { c.Header = *head }, consensus.CheckHeaderID},
		{"tampered state root", func(c *types.Certificate) { c.Header.StateRoot[0] ^= 1 }, consensus.CheckHeaderID},
		{"forged signature", func(c *types.Certificate) { c.Votes[0].Signature[10] ^= 1 }, consensus.CheckSignature},
		{"a miner's key under another's name", func(c *types.Certificate) { c.Votes[0].VoterKey = miners[2].Public().DER() }, consensus.CheckSignature},
		{"certificate of another chain", func(c *types.Certificate) { *c = *cloneCert(other) }, consensus.CheckChain},
	}
}

func TestAccountProofs(t *testing.T) {
	tc := newTestChain(t, 7, 50)
	tc.sealN(4, true)
	user := keys(t)[3].Address()
	if _, err := ProveAccount(tc.c, tc.ffg.Certificate(), user); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("proof without a certificate: %v", err)
	}
	tc.finalize()
	tc.sealN(1, true) // the chain moves on; the proof stays at the final block
	other := newTestChain(t, 8, 50)
	other.sealN(3, false)
	foreign := other.finalize()

	final, finalID := tc.c.Finalized()
	incl, err := ProveAccount(tc.c, tc.ffg.Certificate(), user)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tc.c.AccountAt(final.StateRoot, user)
	if err != nil {
		t.Fatal(err)
	}
	if !incl.Found || incl.Account != want || incl.Cert.Header.ID() != finalID {
		t.Fatalf("proof says %+v found=%v at %s, chain %+v at %s", incl.Account, incl.Found, incl.Cert.Header.ID(), want, finalID)
	}
	absent, err := ProveAccount(tc.c, tc.ffg.Certificate(), crypto.AddressOf([]byte("nobody")))
	if err != nil {
		t.Fatal(err)
	}
	if absent.Found {
		t.Fatal("absent account found")
	}

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
		{"no certificate", incl, func(p *AccountProof) { p.Cert = nil }, ErrNotFinal},
	}
	for _, f := range certForgeries(t, tc, foreign) {
		cases = append(cases, struct {
			name   string
			base   *AccountProof
			tamper func(p *AccountProof)
			want   error
		}{"certificate: " + f.name, incl, func(p *AccountProof) { f.tamper(p.Cert) }, f.check})
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
			if _, isCheck := c.want.(consensus.CertCheck); isCheck && !errors.Is(err, ErrNotFinal) {
				t.Fatalf("a certificate failure that is not ErrNotFinal: %v", err)
			}
		})
	}
}

// TestFinalCert: proofs and snapshots are served only for the chain's
// final block, and only with its certificate.
func TestFinalCert(t *testing.T) {
	tc := newTestChain(t, 7, 3)
	tc.sealN(3, false)
	if _, err := FinalCert(tc.c, nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no certificate: %v", err)
	}
	cert := tc.finalize()
	if got, err := FinalCert(tc.c, cert); err != nil || got != cert {
		t.Fatalf("certificate of the final block: %v", err)
	}
	stale := cloneCert(cert)
	tc.sealN(2, false)
	tc.finalize()
	if _, err := FinalCert(tc.c, stale); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("certificate of an older final block: %v", err)
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
