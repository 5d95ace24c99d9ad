package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ccoin/api"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// TestVerifyAccountRefusesForgeries serves account proofs from a lying
// node and checks that verify-account refuses each, naming the check that
// failed, and accepts the honest one.
func TestVerifyAccountRefusesForgeries(t *testing.T) {
	ks := cryptotest.Keys(t, 5)
	miners, user, outsider := ks[:3], ks[3], ks[4]
	gpath := filepath.Join(t.TempDir(), "genesis.json")
	gj := fmt.Sprintf(`{"network_id": 9, "timestamp": 1700000000, "miners": [%q, %q, %q],
 "block_mining": {"interval": 1, "max_bound": 100, "reward": 100, "difficulty": 1, "allow_empty": true},
 "genesis_block": {"difficulty": 1}, "alloc": {%q: {"balance": 1000}}}`,
		miners[0].Address(), miners[1].Address(), miners[2].Address(), user.Address())
	if err := os.WriteFile(gpath, []byte(gj), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := genesis.Load(gpath)
	if err != nil {
		t.Fatal(err)
	}

	// A final block 2 whose state holds the user's 1,234 coins, and the
	// miners' votes for the link (1, block 2) -> (2, next).
	store := smt.NewMemStore()
	tree := smt.New(store, 0)
	acc := types.Account{Balance: 1234, Nonce: 3}
	root, err := tree.Update(smt.Hash{}, []smt.Update{{Key: user.Address(), Value: acc.Encode(nil)},
		{Key: outsider.Address(), Value: types.Account{Balance: 7}.Encode(nil)}}, store)
	if err != nil {
		t.Fatal(err)
	}
	h := types.Header{Version: types.HeaderVersion, ChainID: g.ChainID, Number: 2, Parent: g.ChainID, Slot: 1,
		Sealer: consensus.NewSchedule(g).Leader(1), StateRoot: root, Reward: 100, Difficulty: 1}
	other := h
	other.Number, other.Slot, other.Parent = 3, 2, h.ID()
	src := types.Checkpoint{Epoch: 1, ID: h.ID()}
	tgt := types.Checkpoint{Epoch: 2, ID: other.ID()}
	vote := func(k *crypto.PrivateKey, s, d types.Checkpoint) *types.Vote {
		v := &types.Vote{Version: types.VoteVersion, ChainID: g.ChainID, Source: s, Target: d, Voter: k.Address()}
		if err := v.Sign(k); err != nil {
			t.Fatal(err)
		}
		return v
	}
	honest := &types.Certificate{Header: h, Votes: []*types.Vote{vote(miners[0], src, tgt), vote(miners[1], src, tgt)}}
	_, found, proof, err := tree.Prove(root, user.Address())
	if err != nil || !found {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		lie   func(p *api.AccountProof)
		check string // "" = verifies
	}{
		{"honest", func(*api.AccountProof) {}, ""},
		{"a balance the state does not hold", func(p *api.AccountProof) { p.Balance = 1_000_000 }, "merkle_path"},
		{"a vote of a non-miner", func(p *api.AccountProof) {
			p.Certificate.Votes = []*types.Vote{honest.Votes[0], vote(outsider, src, tgt)}
		}, "voter_miner"},
		{"one voter twice", func(p *api.AccountProof) {
			p.Certificate.Votes = []*types.Vote{honest.Votes[0], honest.Votes[0]}
		}, "distinct_voters"},
		{"too few voters", func(p *api.AccountProof) { p.Certificate.Votes = honest.Votes[:1] }, "quorum"},
		{"a vote for another link", func(p *api.AccountProof) {
			p.Certificate.Votes = []*types.Vote{honest.Votes[0], vote(miners[1], src, types.Checkpoint{Epoch: 2, ID: types.Hash{9}})}
		}, "link"},
		{"non-consecutive epochs", func(p *api.AccountProof) {
			far := types.Checkpoint{Epoch: 3, ID: other.ID()}
			p.Certificate.Votes = []*types.Vote{vote(miners[0], src, far), vote(miners[1], src, far)}
		}, "epochs"},
		{"the header of another block", func(p *api.AccountProof) { p.Certificate.Header = other }, "header_id"},
		{"a forged signature", func(p *api.AccountProof) {
			v := *honest.Votes[1]
			v.Signature = bytes.Clone(v.Signature)
			v.Signature[5] ^= 1
			p.Certificate.Votes = []*types.Vote{honest.Votes[0], &v}
		}, "signature"},
		{"no certificate", func(p *api.AccountProof) { p.Certificate = &types.Certificate{Header: h} }, "votes"},
		{"another address", func(p *api.AccountProof) { p.Address = outsider.Address() }, "answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := api.AccountProof{Address: user.Address(), Found: true, Balance: acc.Balance, Nonce: acc.Nonce,
				Block: h.Number, BlockID: h.ID(), StateRoot: root,
				Certificate: &types.Certificate{Header: honest.Header, Votes: honest.Votes}}
			for _, s := range proof.Siblings {
				p.Siblings = append(p.Siblings, types.Hash(s))
			}
			c.lie(&p)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				j := api.AccountProofToJSON(p)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(j)
			}))
			defer srv.Close()
			var out bytes.Buffer
			err := runVerifyAccount(context.Background(), []string{user.Address().String(), "--node", srv.URL, "--genesis", gpath}, &out)
			if c.check == "" {
				if err != nil || !strings.Contains(out.String(), "balance=1234 nonce=3") || !strings.Contains(out.String(), "verified against finality") {
					t.Fatalf("honest proof: %v\n%s", err, out.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "verification failed: check "+c.check+":") {
				t.Fatalf("want a failure naming check %s, got %v (%s)", c.check, err, out.String())
			}
		})
	}
}
