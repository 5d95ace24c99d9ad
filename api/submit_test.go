package api_test

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"net/http"
	"strings"
	"testing"

	"ccoin/api"
)

func TestSubmitTxs(t *testing.T) {
	e := newEnv(t)
	f := e.f
	bob := f.Keys.Bob.Address()
	good := f.MustSign(f.Keys.Alice, 5, bob, 10, "five")
	good6 := f.MustSign(f.Keys.Alice, 6, bob, 10, "")
	pooled := f.PoolTxs()[0]
	included := f.Canonical(2).Txs[0]
	gap := f.MustSign(f.Keys.Alice, 9, bob, 10, "")
	low := f.MustSign(f.Keys.Alice, 2, bob, 10, "other")
	poor := f.MustSign(f.Keys.Bob, 1, f.Keys.Alice.Address(), 1<<40, "")

	wrongChain := api.TxToJSON(good)
	wrongChain.ChainID = strings.Repeat("11", 32)
	wrongChain.ID = ""
	forged := api.TxToJSON(good)
	forged.Amount = 11
	forged.ID = ""
	badSig := api.TxToJSON(good)
	badSig.Signature = "AAAA"

	js := func(v any) string { return string(mustJSON(t, v)) }
	with := func(field, value string) string {
		m := map[string]any{}
		_ = json.Unmarshal(mustJSON(t, api.TxToJSON(good)), &m)
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Fatal(err)
		}
		m[field] = v
		return js(m)
	}

	type want struct {
		accepted bool
		code     string
		id       string
	}
	cases := []struct {
		name   string
		body   string
		status int
		code   string
		want   []want
	}{
		{name: "one object", body: js(api.TxToJSON(good)), status: 200, want: []want{{true, "", good.ID().String()}}},
		{name: "same again is known", body: js(api.TxToJSON(good)), status: 200, want: []want{{false, "known", good.ID().String()}}},
		{name: "batch mixed", status: 200,
			body: "[" + js(api.TxToJSON(good6)) + `,42,{"bogus":1},` + js(api.TxToJSON(pooled)) + "," + js(api.TxToJSON(included)) + "," +
				js(api.TxToJSON(gap)) + "," + js(api.TxToJSON(low)) + "," + js(api.TxToJSON(poor)) + "," + js(wrongChain) + "," + js(forged) + "," + js(badSig) + "]",
			want: []want{
				{true, "", good6.ID().String()},
				{false, "bad_json", ""},
				{false, "bad_json", ""},
				{false, "known", pooled.ID().String()},
				{false, "known", included.ID().String()},
				{false, "nonce_gap", gap.ID().String()},
				{false, "nonce_too_low", low.ID().String()},
				{false, "insufficient_funds", poor.ID().String()},
				{false, "wrong_chain", ""},
				{false, "bad_signature", ""},
				{false, "skipped", good.ID().String()}, // checking stopped at the first bad signature
			}},
		{name: "empty batch", body: "[]", status: 200, want: []want{}},
		{name: "no id is fine", body: with("id", `""`), status: 200, want: []want{{false, "known", good.ID().String()}}},
		{name: "wrong id", body: with("id", `"`+strings.Repeat("0", 64)+`"`), status: 200, want: []want{{false, "bad_request", strings.Repeat("0", 64)}}},
		{name: "nonce as string", body: with("nonce", `"5"`), status: 200, want: []want{{false, "bad_json", ""}}},
		{name: "negative amount", body: with("amount", `-1`), status: 200, want: []want{{false, "bad_json", ""}}},
		{name: "amount overflow", body: with("amount", `18446744073709551616`), status: 200, want: []want{{false, "bad_json", ""}}},
		{name: "fraction", body: with("time", `1.5`), status: 200, want: []want{{false, "bad_json", ""}}},
		{name: "data as number", body: with("data", `5`), status: 200, want: []want{{false, "bad_json", ""}}},
		{name: "data too large", body: with("data", `"`+strings.Repeat("d", 1025)+`"`), status: 200, want: []want{{false, "data_too_large", ""}}},
		{name: "bad chain hex", body: with("chain_id", `"xyz"`), status: 200, want: []want{{false, "bad_hex", ""}}},
		{name: "bad from", body: with("from", `"1234"`), status: 200, want: []want{{false, "bad_address", ""}}},
		{name: "bad to", body: with("to", `"`+strings.Repeat("q", 40)+`"`), status: 200, want: []want{{false, "bad_address", ""}}},
		{name: "bad base64", body: with("public_key", `"not base64!"`), status: 200, want: []want{{false, "bad_request", ""}}},
		{name: "missing signature", body: with("signature", `""`), status: 200, want: []want{{false, "bad_signature", ""}}},
		{name: "huge public key", body: with("public_key", `"`+strings.Repeat("AAAA", 400)+`"`), status: 200, want: []want{{false, "bad_request", ""}}},
		{name: "null item", body: "[null]", status: 200, want: []want{{false, "bad_json", ""}}},

		{name: "malformed", body: `{"chain_id":`, status: 400, code: "bad_json"},
		{name: "malformed array", body: `[{},`, status: 400, code: "bad_json"},
		{name: "empty body", body: ``, status: 400, code: "bad_json"},
		{name: "string body", body: `"tx"`, status: 400, code: "bad_json"},
		{name: "number body", body: `12`, status: 400, code: "bad_json"},
		{name: "two objects", body: `{} {}`, status: 400, code: "bad_json"},
		{name: "too many", body: "[" + strings.Repeat("{},", api.MaxBatchTxs) + "{}]", status: 400, code: "bad_request"},
		{name: "oversize", body: "[" + strings.Repeat(" ", api.MaxBatchBody) + "]", status: 413, code: "body_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			st, p := e.do(http.MethodPost, "/txs", []byte(c.body), nil)
			if st != c.status {
				t.Fatalf("status %d, want %d: %.300s", st, c.status, p)
			}
			if c.code != "" {
				if got := errCode(t, p); got != c.code {
					t.Fatalf("code %q, want %q", got, c.code)
				}
				return
			}
			res := decode[api.SubmitResponseJSON](t, p)
			if len(res.Results) != len(c.want) {
				t.Fatalf("%d results, want %d: %s", len(res.Results), len(c.want), p)
			}
			for i, w := range c.want {
				r := res.Results[i]
				code := ""
				if r.Error != nil {
					code = r.Error.Code
				}
				if r.Accepted != w.accepted || code != w.code || (w.id != "" && r.ID != w.id) {
					t.Errorf("result %d = %+v (code %q), want %+v", i, r, code, w)
				}
				if r.Accepted == (r.Error != nil) {
					t.Errorf("result %d: accepted and error disagree: %+v", i, r)
				}
			}
		})
	}
	e.t = t
	// The accepted ones are in the pool and can be looked up.
	for _, tx := range []string{good.ID().String(), good6.ID().String()} {
		if st, p := e.get("/txs/" + tx); st != 200 || decode[api.TxStatusJSON](t, p).Status != "pending" {
			t.Errorf("tx %s: %d %s", tx, st, p)
		}
	}
}

// TestNoClientInputIs5xx posts random and mutated bodies to every POST
// route; nothing a client sends may produce a 5xx.
func TestNoClientInputIs5xx(t *testing.T) {
	e := newEnv(t)
	f := e.f
	rng := rand.New(rand.NewSource(1))
	valid := [][]byte{
		mustJSON(t, api.TxToJSON(f.MustSign(f.Keys.Alice, 5, f.Keys.Bob.Address(), 1, "x"))),
		mustJSON(t, []api.TxJSON{api.TxToJSON(f.Canonical(2).Txs[0])}),
		[]byte(`{"sendto_address":"` + f.Keys.Bob.Address().String() + `","amount":1,"data":"d"}`),
		[]byte(`{"block_number":2}`),
	}
	id := f.Canonical(2).Txs[0].ID().String()
	routes := []struct {
		path string
		hdr  map[string]string
	}{
		{"/txs", nil},
		{"/" + e.node + "/txn/", bearer(testToken)},
		{"/" + e.node + "/txn/", nil},
		{"/" + e.node + "/txn/" + id + "/", nil},
	}
	tokens := []string{"{", "}", "[", "]", ",", ":", `"`, "null", "true", "-1", "1e999", "0.5", `"\u0000"`, `"\ud800"`, "18446744073709551616", `"chain_id"`, `"nonce"`, `"amount"`, `"data"`, `"sendto_address"`, `"block_number"`}
	for _, r := range routes {
		for i := 0; i < 150; i++ {
			var body []byte
			switch i % 3 {
			case 0: // random bytes
				body = make([]byte, rng.Intn(200))
				rng.Read(body)
			case 1: // a valid body with random byte edits
				body = bytes.Clone(valid[rng.Intn(len(valid))])
				for k := 0; k < 1+rng.Intn(4) && len(body) > 0; k++ {
					body[rng.Intn(len(body))] = byte(rng.Intn(256))
				}
			case 2: // random JSON-ish token soup
				var sb strings.Builder
				for k := 0; k < rng.Intn(30); k++ {
					sb.WriteString(tokens[rng.Intn(len(tokens))])
				}
				body = []byte(sb.String())
			}
			e.t = t
			st, p := e.do(http.MethodPost, r.path, body, r.hdr)
			if st >= 500 {
				t.Fatalf("POST %s %q: %d %s", r.path, body, st, p)
			}
		}
	}
}

// FuzzSubmitTxs feeds arbitrary bodies to POST /txs (go test -fuzz).
func FuzzSubmitTxs(f *testing.F) {
	e := newEnv(f)
	fk := e.f
	f.Add(mustJSON(f, api.TxToJSON(fk.Canonical(2).Txs[0])))
	f.Add([]byte(`[{"chain_id":"00","nonce":1}]`))
	f.Add([]byte(`[1,"a",null,{}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		st, p := e.do(http.MethodPost, "/txs", body, nil)
		if st >= 500 {
			t.Fatalf("%d %s", st, p)
		}
		if st == 200 {
			var res api.SubmitResponseJSON
			if err := json.Unmarshal(p, &res); err != nil {
				t.Fatal(err)
			}
		}
	})
}
