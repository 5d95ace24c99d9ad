package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

type routeCase struct {
	name   string
	method string
	path   string
	body   string
	hdr    map[string]string
	status int
	code   string                               // error code, when status >= 400
	check  func(t *testing.T, e *env, p []byte) // optional
}

// TestRoutes runs every route's success and failure cases. Every response
// is also checked against openapi.yaml by the client's transport.
func TestRoutes(t *testing.T) {
	e0 := newEnv(t)
	f := e0.f
	node := e0.node
	other := crypto.AddressOf([]byte("other node")).String()
	b1, b2, b3 := f.Canonical(1), f.Canonical(2), f.Canonical(3)
	t1 := b2.Txs[0]
	pending := f.PoolTxs()[0]
	unknownID := strings.Repeat("ab", 32)
	alice := f.Keys.Alice.Address().String()
	stranger := crypto.AddressOf([]byte("nobody")).String()

	cases := []routeCase{
		{name: "healthz", method: "GET", path: "/healthz", status: 200},
		{name: "readyz", method: "GET", path: "/readyz", status: 200},
		{name: "metrics", method: "GET", path: "/metrics", status: 200},
		{name: "openapi", method: "GET", path: "/openapi.yaml", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			if !strings.HasPrefix(string(p), "openapi: 3.0.3") {
				t.Errorf("openapi.yaml starts %.40q", p)
			}
		}},
		{name: "genesis file byte for byte", method: "GET", path: "/genesis", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			want, _ := f.GenesisFile()
			if string(p) != string(want) {
				t.Errorf("genesis %q, want the stored file %q", p, want)
			}
		}},
		{name: "status", method: "GET", path: "/status", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			s := decode[api.StatusJSON](t, p)
			if s.Height != 3 || s.Head != b3.ID().String() || s.FinalizedHeight != 2 || s.Address != node || s.ChainID != f.ChainID.String() {
				t.Errorf("status %+v", s)
			}
		}},

		// blocks
		{name: "blocks newest first", method: "GET", path: "/blocks", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			bl := decode[api.BlocksJSON](t, p)
			if len(bl.Blocks) != 3 || bl.Blocks[0].Number != 3 || bl.Blocks[2].Number != 1 {
				t.Errorf("blocks %v", numbers(bl))
			}
		}},
		{name: "blocks from", method: "GET", path: "/blocks?from=2&limit=5&txs=false", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			bl := decode[api.BlocksJSON](t, p)
			if got := numbers(bl); fmt.Sprint(got) != "[2 3]" {
				t.Errorf("blocks %v", got)
			}
			if bl.Blocks[0].Transactions != nil || bl.Blocks[0].TxCount != 2 {
				t.Errorf("txs=false: %+v", bl.Blocks[0])
			}
		}},
		{name: "blocks limit", method: "GET", path: "/blocks?limit=1", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			if got := numbers(decode[api.BlocksJSON](t, p)); fmt.Sprint(got) != "[3]" {
				t.Errorf("blocks %v", got)
			}
		}},
		{name: "blocks past head", method: "GET", path: "/blocks?from=99", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			if got := numbers(decode[api.BlocksJSON](t, p)); len(got) != 0 {
				t.Errorf("blocks %v", got)
			}
		}},
		{name: "blocks limit 0", method: "GET", path: "/blocks?limit=0", status: 400, code: "bad_request"},
		{name: "blocks limit 101", method: "GET", path: "/blocks?limit=101", status: 400, code: "bad_request"},
		{name: "blocks limit text", method: "GET", path: "/blocks?limit=ten", status: 400, code: "bad_request"},
		{name: "blocks from negative", method: "GET", path: "/blocks?from=-1", status: 400, code: "bad_request"},
		{name: "blocks bad txs", method: "GET", path: "/blocks?txs=maybe", status: 400, code: "bad_request"},
		{name: "block latest", method: "GET", path: "/blocks/latest", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			b := decode[api.BlockJSON](t, p)
			if b.ID != b3.ID().String() || b.Finalized || !b.Canonical || len(b.Transactions) != 1 {
				t.Errorf("latest %+v", b)
			}
		}},
		{name: "block finalized", method: "GET", path: "/blocks/finalized", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			b := decode[api.BlockJSON](t, p)
			if b.Number != 2 || !b.Finalized || len(b.Transactions) != 2 || b.Transactions[0].ID != t1.ID().String() {
				t.Errorf("finalized %+v", b)
			}
		}},
		{name: "block genesis", method: "GET", path: "/blocks/1", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			b := decode[api.BlockJSON](t, p)
			if b.ID != b1.ID().String() || b.Parent != "" || b.Sealer != "" || b.ChainID != "" || b.Data != "genesis" {
				t.Errorf("genesis %+v", b)
			}
			if b.Transactions == nil || len(b.Transactions) != 0 {
				t.Errorf("genesis transactions should be [] not absent: %s", p)
			}
		}},
		{name: "block by number no txs", method: "GET", path: "/blocks/2?txs=false", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			if strings.Contains(string(p), `"transactions"`) {
				t.Errorf("transactions present: %s", p)
			}
		}},
		{name: "block by id", method: "GET", path: "/blocks/" + b3.ID().String(), status: 200},
		{name: "side block by id", method: "GET", path: "/blocks/" + f.SideBlock().ID().String(), status: 200, check: func(t *testing.T, _ *env, p []byte) {
			b := decode[api.BlockJSON](t, p)
			if b.Canonical || b.Finalized || b.Number != 3 {
				t.Errorf("side block %+v", b)
			}
		}},

		// block transaction ids: exactly the block's ids, in block order
		{name: "txids by number", method: "GET", path: "/blocks/2/txids", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			checkTxIDs(t, p, b2, true)
		}},
		{name: "txids by id", method: "GET", path: "/blocks/" + b3.ID().String() + "/txids", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			checkTxIDs(t, p, b3, true)
		}},
		{name: "txids genesis", method: "GET", path: "/blocks/1/txids", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			checkTxIDs(t, p, b1, true)
			if !strings.Contains(string(p), `"tx_ids":[]`) {
				t.Errorf("an empty block's tx_ids should be [] not absent: %s", p)
			}
		}},
		{name: "txids side block", method: "GET", path: "/blocks/" + f.SideBlock().ID().String() + "/txids", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			checkTxIDs(t, p, f.SideBlock(), false)
		}},
		{name: "txids unknown number", method: "GET", path: "/blocks/99/txids", status: 404, code: "unknown_block"},
		{name: "txids unknown id", method: "GET", path: "/blocks/" + unknownID + "/txids", status: 404, code: "unknown_block"},
		{name: "txids zero", method: "GET", path: "/blocks/0/txids", status: 400, code: "bad_request"},
		{name: "txids bad hex", method: "GET", path: "/blocks/" + strings.Repeat("zz", 32) + "/txids", status: 400, code: "bad_hex"},
		{name: "txids post", method: "POST", path: "/blocks/2/txids", body: "{}", status: 405, code: "method_not_allowed"},

		{name: "block unknown number", method: "GET", path: "/blocks/99", status: 404, code: "unknown_block"},
		{name: "block unknown id", method: "GET", path: "/blocks/" + unknownID, status: 404, code: "unknown_block"},
		{name: "block zero", method: "GET", path: "/blocks/0", status: 400, code: "bad_request"},
		{name: "block words", method: "GET", path: "/blocks/abc", status: 400, code: "bad_request"},
		{name: "block huge number", method: "GET", path: "/blocks/99999999999999999999999", status: 400, code: "bad_request"},
		{name: "block bad hex", method: "GET", path: "/blocks/" + strings.Repeat("zz", 32), status: 400, code: "bad_hex"},
		{name: "block bad txs", method: "GET", path: "/blocks/1?txs=2", status: 400, code: "bad_request"},

		// transactions
		{name: "tx finalized", method: "GET", path: "/txs/" + t1.ID().String(), status: 200, check: func(t *testing.T, _ *env, p []byte) {
			j := decode[api.TxStatusJSON](t, p)
			if j.Status != "finalized" || *j.Block != b2.ID().String() || *j.BlockNumber != 2 || j.Confirmations != 2 || j.Data != "first" {
				t.Errorf("tx %+v", j)
			}
			tx, err := api.TxFromJSON(j.TxJSON)
			if err != nil || tx.VerifySignature(nil) != nil || tx.ID() != t1.ID() {
				t.Errorf("tx does not round-trip: %v", err)
			}
		}},
		{name: "tx pending", method: "GET", path: "/txs/" + pending.ID().String(), status: 200, check: func(t *testing.T, _ *env, p []byte) {
			j := decode[api.TxStatusJSON](t, p)
			if j.Status != "pending" || j.Block != nil || j.BlockNumber != nil || j.Confirmations != 0 {
				t.Errorf("tx %+v", j)
			}
			if !strings.Contains(string(p), `"block":null`) {
				t.Errorf("pending tx should have block null: %s", p)
			}
		}},
		{name: "tx unknown", method: "GET", path: "/txs/" + unknownID, status: 404, code: "unknown_tx"},
		{name: "tx bad hex", method: "GET", path: "/txs/xyz", status: 400, code: "bad_hex"},
		{name: "tx uppercase ok", method: "GET", path: "/txs/" + strings.ToUpper(t1.ID().String()), status: 200},

		// accounts
		{name: "account", method: "GET", path: "/accounts/" + alice, status: 200, check: func(t *testing.T, _ *env, p []byte) {
			a := decode[api.AccountJSON](t, p)
			if a.Address != alice || a.Nonce != 3 || a.NextNonce != 5 || a.Balance != 1_000_000-600 {
				t.Errorf("account %+v", a)
			}
		}},
		{name: "account unknown", method: "GET", path: "/accounts/" + stranger, status: 200, check: func(t *testing.T, _ *env, p []byte) {
			if a := decode[api.AccountJSON](t, p); a.Balance != 0 || a.Nonce != 0 || a.Address != stranger {
				t.Errorf("account %+v", a)
			}
		}},
		{name: "account bad", method: "GET", path: "/accounts/xyz", status: 400, code: "bad_address"},
		{name: "account bad hex", method: "GET", path: "/accounts/" + strings.Repeat("g", 40), status: 400, code: "bad_address"},

		// pool, peers, evidence
		{name: "pool", method: "GET", path: "/pool", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			pl := decode[api.PoolJSON](t, p)
			if pl.Pending != 1 || len(pl.Transactions) != 1 || pl.Transactions[0].ID != pending.ID().String() {
				t.Errorf("pool %+v", pl)
			}
		}},
		{name: "pool limit", method: "GET", path: "/pool?limit=1000", status: 200},
		{name: "pool limit 0", method: "GET", path: "/pool?limit=0", status: 400, code: "bad_request"},
		{name: "pool limit big", method: "GET", path: "/pool?limit=1001", status: 400, code: "bad_request"},
		{name: "peers", method: "GET", path: "/peers", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			pl := decode[api.PeersJSON](t, p)
			if len(pl.Peers) != 1 || pl.Peers[0].ConnectedAt != 1_700_000_100_000 || !pl.Peers[0].Inbound {
				t.Errorf("peers %+v", pl)
			}
		}},
		{name: "evidence", method: "GET", path: "/evidence", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			ev := decode[api.EvidenceListJSON](t, p)
			if len(ev.Evidence) != 1 || ev.Evidence[0].A.ID != b3.ID().String() || ev.Evidence[0].B.ID != f.SideBlock().ID().String() {
				t.Errorf("evidence %+v", ev)
			}
		}},

		// routing errors
		{name: "unknown route", method: "GET", path: "/nope", status: 404, code: "not_found"},
		{name: "deep unknown route", method: "GET", path: "/a/b/c/d/e", status: 404, code: "not_found"},
		{name: "delete status", method: "DELETE", path: "/status", status: 405, code: "method_not_allowed"},
		{name: "post status", method: "POST", path: "/status", body: "{}", status: 405, code: "method_not_allowed"},
		{name: "get txs", method: "GET", path: "/txs", status: 405, code: "method_not_allowed"},
		{name: "put block", method: "PUT", path: "/blocks/1", status: 405, code: "method_not_allowed"},

		// prototype: block count and blocks
		{name: "proto count", method: "GET", path: "/" + node + "/blk/cnt/", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			if strings.TrimSpace(string(p)) != "3" {
				t.Errorf("count %s", p)
			}
		}},
		{name: "proto count uppercase node", method: "GET", path: "/" + strings.ToUpper(node) + "/blk/cnt/", status: 200},
		{name: "proto count other node", method: "GET", path: "/" + other + "/blk/cnt/", status: 404, code: "unknown_node"},
		{name: "proto count junk node", method: "GET", path: "/junk/blk/cnt/", status: 404, code: "unknown_node"},
		{name: "proto block", method: "GET", path: "/" + node + "/blk/2/", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			b := decode[api.ProtoBlockJSON](t, p)
			if b.ID != b2.ID().String() || b.HashParent != b1.ID().String() || b.Coinbase != node || len(b.Body) != 2 || b.Body[0].Number != 1 {
				t.Errorf("proto block %+v", b)
			}
			if b.StateTruncated || len(b.State) != 8 || b.State[alice].Nonce != 2 || b.State[alice].Balance != 1_000_000-300 {
				t.Errorf("proto state %+v", b.State)
			}
		}},
		{name: "proto genesis", method: "GET", path: "/" + node + "/blk/1/", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			b := decode[api.ProtoBlockJSON](t, p)
			if b.HashParent != "" || b.Coinbase != "" || len(b.Body) != 0 || len(b.State) != 7 {
				t.Errorf("proto genesis %+v", b)
			}
		}},
		{name: "proto block paged", method: "GET", path: "/" + node + "/blk/3/?state_limit=3", status: 200, check: func(t *testing.T, e *env, p []byte) {
			seen := map[string]bool{}
			for page := 0; page < 10; page++ {
				b := decode[api.ProtoBlockJSON](t, p)
				for a := range b.State {
					if seen[a] {
						t.Errorf("account %s on two pages", a)
					}
					seen[a] = true
				}
				if !b.StateTruncated {
					break
				}
				if len(b.State) != 3 || b.StateNext == "" {
					t.Fatalf("page %d: %d accounts, next %q", page, len(b.State), b.StateNext)
				}
				var st int
				st, p = e.get("/" + e.node + "/blk/3/?state_limit=3&state_after=" + b.StateNext)
				if st != 200 {
					t.Fatalf("page %d: %d", page, st)
				}
			}
			if len(seen) != 8 {
				t.Errorf("paging saw %d accounts, want 8", len(seen))
			}
		}},
		{name: "proto block unknown", method: "GET", path: "/" + node + "/blk/99/", status: 404, code: "unknown_block"},
		{name: "proto block words", method: "GET", path: "/" + node + "/blk/two/", status: 400, code: "bad_request"},
		{name: "proto block zero", method: "GET", path: "/" + node + "/blk/0/", status: 400, code: "bad_request"},
		{name: "proto block bad state_after", method: "GET", path: "/" + node + "/blk/1/?state_after=zz", status: 400, code: "bad_address"},
		{name: "proto block bad state_limit", method: "GET", path: "/" + node + "/blk/1/?state_limit=1001", status: 400, code: "bad_request"},
		{name: "proto block other node", method: "GET", path: "/" + other + "/blk/1/", status: 404, code: "unknown_node"},
		{name: "proto block post", method: "POST", path: "/" + node + "/blk/1/", body: "{}", status: 405, code: "method_not_allowed"},

		// prototype: transaction lookup
		{name: "proto tx in block", method: "POST", path: "/" + node + "/txn/" + t1.ID().String() + "/", body: `{"block_number":2}`, status: 200, check: func(t *testing.T, _ *env, p []byte) {
			j := decode[api.ProtoTxJSON](t, p)
			if j.ID != t1.ID().String() || j.Number != 1 || j.Amount != 100 || j.From != alice {
				t.Errorf("proto tx %+v", j)
			}
		}},
		{name: "proto tx other block", method: "POST", path: "/" + node + "/txn/" + t1.ID().String() + "/", body: `{"block_number":3}`, status: 200, check: wantNull},
		{name: "proto tx missing block", method: "POST", path: "/" + node + "/txn/" + t1.ID().String() + "/", body: `{"block_number":77}`, status: 200, check: wantNull},
		{name: "proto tx any block", method: "POST", path: "/" + node + "/txn/" + pending.ID().String() + "/", body: `{}`, status: 200},
		{name: "proto tx empty body", method: "POST", path: "/" + node + "/txn/" + t1.ID().String() + "/", status: 200},
		{name: "proto tx unknown", method: "POST", path: "/" + node + "/txn/" + unknownID + "/", body: `{"block_number":2}`, status: 200, check: wantNull},
		{name: "proto tx unknown anywhere", method: "POST", path: "/" + node + "/txn/" + unknownID + "/", body: `{}`, status: 200, check: wantNull},
		{name: "proto tx bad id", method: "POST", path: "/" + node + "/txn/nothex/", body: `{}`, status: 400, code: "bad_hex"},
		{name: "proto tx bad json", method: "POST", path: "/" + node + "/txn/" + unknownID + "/", body: `{"block_number":`, status: 400, code: "bad_json"},
		{name: "proto tx wrong type", method: "POST", path: "/" + node + "/txn/" + unknownID + "/", body: `{"block_number":"2"}`, status: 400, code: "bad_json"},
		{name: "proto tx negative", method: "POST", path: "/" + node + "/txn/" + unknownID + "/", body: `{"block_number":-2}`, status: 400, code: "bad_json"},
		{name: "proto tx unknown field", method: "POST", path: "/" + node + "/txn/" + unknownID + "/", body: `{"block":2}`, status: 400, code: "bad_json"},
		{name: "proto tx two values", method: "POST", path: "/" + node + "/txn/" + unknownID + "/", body: `{} {}`, status: 400, code: "bad_json"},
		{name: "proto tx other node", method: "POST", path: "/" + other + "/txn/" + unknownID + "/", body: `{}`, status: 404, code: "unknown_node"},
		{name: "proto tx get", method: "GET", path: "/" + node + "/txn/" + unknownID + "/", status: 405, code: "method_not_allowed"},
		{name: "proto tx oversize", method: "POST", path: "/" + node + "/txn/" + unknownID + "/", body: `{"block_number":1}` + strings.Repeat(" ", 2<<20), status: 413, code: "body_too_large"},

		// prototype: the node signs
		{name: "proto send", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":"` + stranger + `","amount":7,"data":"hi"}`, status: 200, check: func(t *testing.T, e *env, p []byte) {
			j := decode[api.ProtoTxJSON](t, p)
			if j.From != e.node || j.To != stranger || j.Amount != 7 || j.Data != "hi" || j.Number != 1 || j.ChainID != e.f.ChainID.String() {
				t.Errorf("proto send %+v", j)
			}
		}},
		{name: "proto send lowercase scheme", method: "POST", path: "/" + node + "/txn/", hdr: map[string]string{"Authorization": "bearer " + testToken}, body: `{"sendto_address":"` + stranger + `","amount":1}`, status: 200},
		{name: "proto send no token", method: "POST", path: "/" + node + "/txn/", body: `{"sendto_address":"` + stranger + `","amount":7}`, status: 401, code: "unauthorized"},
		{name: "proto send wrong token", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken + "x"), body: `{"sendto_address":"` + stranger + `","amount":7}`, status: 401, code: "unauthorized"},
		{name: "proto send short token", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken[:10]), body: `{}`, status: 401, code: "unauthorized"},
		{name: "proto send basic auth", method: "POST", path: "/" + node + "/txn/", hdr: map[string]string{"Authorization": "Basic " + testToken}, body: `{}`, status: 401, code: "unauthorized"},
		{name: "proto send other node", method: "POST", path: "/" + other + "/txn/", hdr: bearer(testToken), body: `{}`, status: 404, code: "unknown_node"},
		{name: "proto send bad json", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":`, status: 400, code: "bad_json"},
		{name: "proto send empty", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: ``, status: 400, code: "bad_json"},
		{name: "proto send wrong type", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":"` + stranger + `","amount":"7"}`, status: 400, code: "bad_json"},
		{name: "proto send fraction", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":"` + stranger + `","amount":7.5}`, status: 400, code: "bad_json"},
		{name: "proto send unknown field", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":"` + stranger + `","amount":7,"fee":1}`, status: 400, code: "bad_json"},
		{name: "proto send bad address", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":"abc","amount":7}`, status: 400, code: "bad_address"},
		{name: "proto send data too large", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":"` + stranger + `","amount":7,"data":"` + strings.Repeat("x", 1025) + `"}`, status: 400, code: "data_too_large"},
		{name: "proto send too poor", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":"` + stranger + `","amount":99999999999}`, status: 400, code: "insufficient_funds"},
		{name: "proto send oversize", method: "POST", path: "/" + node + "/txn/", hdr: bearer(testToken), body: `{"sendto_address":"` + stranger + `","amount":7}` + strings.Repeat(" ", 1<<20), status: 413, code: "body_too_large"},
		{name: "proto send get", method: "GET", path: "/" + node + "/txn/", status: 405, code: "method_not_allowed"},
	}
	runCases(t, e0, cases)
}

func runCases(t *testing.T, e *env, cases []routeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			var body []byte
			if c.body != "" || c.method == http.MethodPost {
				body = []byte(c.body)
			}
			st, p := e.do(c.method, c.path, body, c.hdr)
			if st != c.status {
				t.Fatalf("%s %.80s: status %d, want %d: %.300s", c.method, c.path, st, c.status, p)
			}
			if c.code != "" {
				if got := errCode(t, p); got != c.code {
					t.Errorf("code %q, want %q: %s", got, c.code, p)
				}
			}
			if c.check != nil {
				c.check(t, e, p)
			}
		})
	}
}

func wantNull(t *testing.T, _ *env, p []byte) {
	if strings.TrimSpace(string(p)) != "null" {
		t.Errorf("want null, got %.200s", p)
	}
}

func numbers(bl api.BlocksJSON) []uint64 {
	var ns []uint64
	for _, b := range bl.Blocks {
		ns = append(ns, b.Number)
	}
	return ns
}

// checkTxIDs asserts a GET /blocks/{ref}/txids body names block b and carries
// exactly its transaction ids, in block order.
func checkTxIDs(t *testing.T, p []byte, b *types.Block, canonical bool) {
	t.Helper()
	got := decode[api.BlockTxIDsJSON](t, p)
	parent := ""
	if b.Header.Number > 1 {
		parent = b.Header.Parent.String()
	}
	if got.ID != b.ID().String() || got.Number != b.Header.Number || got.Parent != parent || got.Canonical != canonical {
		t.Errorf("txids header %+v, want block %d %s parent %q canonical %v", got, b.Header.Number, b.ID(), parent, canonical)
	}
	want := make([]string, len(b.Txs))
	for i, tx := range b.Txs {
		want[i] = tx.ID().String()
	}
	if !slices.Equal(got.TxIDs, want) {
		t.Errorf("tx_ids %v, want %v", got.TxIDs, want)
	}
}
