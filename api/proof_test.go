package api_test

import (
	"encoding/base64"
	"testing"

	"ccoin/api"
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
	if len(j.Headers) == 0 {
		t.Fatal("no headers")
	}
	for _, h := range j.Headers {
		raw, err := base64.StdEncoding.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		b, err := types.DecodeBlock(raw)
		if err != nil || len(b.Txs) != 0 {
			t.Fatalf("sealed header: %v", err)
		}
	}
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
