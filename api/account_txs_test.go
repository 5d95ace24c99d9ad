package api_test

import (
	"strings"
	"testing"

	"ccoin/api"
	"ccoin/ccoin/crypto"
)

// GET /accounts/{address}/txs: newest first, bounded, paged by block; each
// response is checked against openapi.yaml by the env's transport.
func TestAccountTxsRoute(t *testing.T) {
	e := newEnv(t)
	f := e.f
	alice, bob := f.Keys.Alice.Address().String(), f.Keys.Bob.Address().String()
	t1, t2, t3 := f.Canonical(2).Txs[0], f.Canonical(2).Txs[1], f.Canonical(3).Txs[0]
	stranger := crypto.AddressOf([]byte("nobody")).String()
	ids := func(want ...string) func(t *testing.T, _ *env, p []byte) {
		return func(t *testing.T, _ *env, p []byte) {
			j := decode[api.AccountTxsJSON](t, p)
			var got []string
			for _, tx := range j.Transactions {
				got = append(got, tx.ID)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("got %v, want %v", got, want)
			}
		}
	}
	id1, id2, id3 := t1.ID().String(), t2.ID().String(), t3.ID().String()
	runCases(t, e, []routeCase{
		{name: "sender, newest first", method: "GET", path: "/accounts/" + alice + "/txs", status: 200, check: ids(id3, id2, id1)},
		{name: "recipient", method: "GET", path: "/accounts/" + bob + "/txs", status: 200, check: ids(id3, id2, id1)},
		{name: "status and block", method: "GET", path: "/accounts/" + alice + "/txs?limit=1", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			j := decode[api.AccountTxsJSON](t, p)
			if j.Address != alice || len(j.Transactions) != 1 || j.Transactions[0].Status != "included" || *j.Transactions[0].BlockNumber != 3 {
				t.Errorf("%+v", j)
			}
		}},
		{name: "before pages back", method: "GET", path: "/accounts/" + alice + "/txs?before=3", status: 200, check: ids(id2, id1)},
		{name: "limit", method: "GET", path: "/accounts/" + alice + "/txs?limit=2", status: 200, check: ids(id3, id2)},
		{name: "none", method: "GET", path: "/accounts/" + stranger + "/txs", status: 200, check: ids()},
		{name: "limit zero", method: "GET", path: "/accounts/" + alice + "/txs?limit=0", status: 400, code: "bad_request"},
		{name: "limit too large", method: "GET", path: "/accounts/" + alice + "/txs?limit=101", status: 400, code: "bad_request"},
		{name: "bad before", method: "GET", path: "/accounts/" + alice + "/txs?before=x", status: 400, code: "bad_request"},
		{name: "bad address", method: "GET", path: "/accounts/xyz/txs", status: 400, code: "bad_address"},
	})
}

// A backend without an index by address answers 404.
func TestAccountTxsWithoutIndex(t *testing.T) {
	e0 := newEnv(t)
	d := e0.f.Deps()
	d.AccountTxs = nil
	e := newEnvWith(t, e0.f, d)
	runCases(t, e, []routeCase{
		{name: "no index", method: "GET", path: "/accounts/" + e0.f.Keys.Alice.Address().String() + "/txs", status: 404, code: "not_found"},
	})
}
