package api_test

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"ccoin/api"
	"ccoin/api/apitest"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// proofOf turns the JSON back into an smt proof and checks it against the
// state root it names (the fake's headers carry a stand-in root).
func checkProof(t *testing.T, j api.AccountProofJSON) {
	t.Helper()
	addr, err := crypto.ParseAddress(j.Address)
	if err != nil {
		t.Fatal(err)
	}
	root, err := types.ParseHash(j.StateRoot)
	if err != nil {
		t.Fatal(err)
	}
	var p smt.Proof
	for _, s := range j.Siblings {
		h, err := types.ParseHash(s)
		if err != nil {
			t.Fatal(err)
		}
		p.Siblings = append(p.Siblings, h)
	}
	if j.Leaf != nil {
		k, _ := crypto.ParseAddress(j.Leaf.Key)
		v, _ := base64.StdEncoding.DecodeString(j.Leaf.Value)
		p.Leaf = &smt.ProofLeaf{Key: k, Value: v}
	}
	var value []byte
	if j.Found {
		value = types.Account{Balance: j.Balance, Nonce: j.Nonce}.Encode(nil)
	}
	if err := smt.VerifyProof(root, addr, value, j.Found, p); err != nil {
		t.Fatalf("proof of %s: %v", j.Address, err)
	}
	checkCertJSON(t, &j.Certificate)
	if j.Certificate.ID != j.BlockID {
		t.Fatalf("certificate of %s, proof of block %s", j.Certificate.ID, j.BlockID)
	}
}

// checkCertJSON checks that a certificate's raw encoding decodes, that its
// JSON fields say what the encoding says and that every vote is signed by
// its voter over its unsigned encoding.
func checkCertJSON(t *testing.T, j *api.CertificateJSON) {
	t.Helper()
	c, err := api.CertificateFromJSON(j)
	if err != nil {
		t.Fatalf("certificate raw: %v", err)
	}
	if c.Header.ID().String() != j.ID || j.Header.ID != j.ID || hex.EncodeToString(c.Header.Encode(nil)) != j.HeaderHex {
		t.Fatalf("certificate header %s, JSON says %s / %s", c.Header.ID(), j.ID, j.Header.ID)
	}
	if len(c.Votes) != len(j.Votes) || len(c.Votes) < apitest.FakeQuorum {
		t.Fatalf("%d votes, JSON lists %d", len(c.Votes), len(j.Votes))
	}
	if j.Source.ID != j.ID || j.Target.Epoch != j.Source.Epoch+1 {
		t.Fatalf("link %+v -> %+v", j.Source, j.Target)
	}
	for i, v := range c.Votes {
		jv := j.Votes[i]
		if err := v.VerifySignature(nil); err != nil {
			t.Fatalf("vote %d: %v", i, err)
		}
		if jv.Encoding != hex.EncodeToString(v.Encode(nil)) || jv.Unsigned != hex.EncodeToString(v.EncodeUnsigned(nil)) ||
			jv.Voter != v.Voter.String() || jv.Signature != hex.EncodeToString(v.Signature) || jv.ID != v.ID().String() ||
			jv.Source != j.Source || jv.Target != j.Target {
			t.Fatalf("vote %d JSON %+v differs from its encoding", i, jv)
		}
		if d, err := types.DecodeVote(mustHex(t, jv.Encoding)); err != nil || d.ID() != v.ID() {
			t.Fatalf("vote %d encoding: %v", i, err)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAccountProofRoute(t *testing.T) {
	e := newEnv(t)
	alice := e.f.Keys.Alice.Address().String()
	stranger := crypto.AddressOf([]byte("stranger")).String()
	cases := []routeCase{
		{name: "proof of a present account", method: "GET", path: "/accounts/" + alice + "?proof=true", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			j := decode[api.AccountProofJSON](t, p)
			if !j.Found || j.Balance == 0 || j.Block != 2 {
				t.Errorf("proof %+v", j)
			}
			checkProof(t, j)
		}},
		{name: "proof of an absent account", method: "GET", path: "/accounts/" + stranger + "?proof=1", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			j := decode[api.AccountProofJSON](t, p)
			if j.Found || j.Balance != 0 {
				t.Errorf("proof %+v", j)
			}
			checkProof(t, j)
		}},
		{name: "proof false is the plain account", method: "GET", path: "/accounts/" + alice + "?proof=false", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			if j := decode[api.AccountJSON](t, p); j.NextNonce == 0 {
				t.Errorf("account %+v", j)
			}
		}},
		{name: "proof bad value", method: "GET", path: "/accounts/" + alice + "?proof=yes", status: 400, code: "bad_request"},
		{name: "proof bad address", method: "GET", path: "/accounts/xyz?proof=true", status: 400, code: "bad_address"},
	}
	runCases(t, e, cases)
}
