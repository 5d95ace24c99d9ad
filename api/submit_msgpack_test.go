package api_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"ccoin/api"
	"ccoin/api/apitest"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// msgpackBatch frames canonical transactions as POST /txs takes them in
// MessagePack: an array 16 of bin values (bin 8 or bin 16 by size).
func msgpackBatch(items ...[]byte) []byte {
	b := []byte{0xdc, 0, 0}
	binary.BigEndian.PutUint16(b[1:], uint16(len(items)))
	for _, it := range items {
		if len(it) < 256 {
			b = append(b, 0xc4, byte(len(it)))
		} else {
			b = append(b, 0xc5, byte(len(it)>>8), byte(len(it)))
		}
		b = append(b, it...)
	}
	return b
}

// TestSubmitMsgpack: the binary body gives each item the same result as
// JSON would, and malformed
// framing is refused as a whole with a clear error before anything big is
// read.
func TestSubmitMsgpack(t *testing.T) {
	e := newEnv(t)
	f := e.f
	bob := f.Keys.Bob.Address()
	good := f.MustSign(f.Keys.Alice, 5, bob, 10, "five")
	good6 := f.MustSign(f.Keys.Alice, 6, bob, 10, "")
	good7 := f.MustSign(f.Keys.Alice, 7, bob, 10, "")
	pooled := f.PoolTxs()[0]
	forged := f.MustSign(f.Keys.Alice, 6, bob, 10, "")
	forged.Amount = 11 // the signature no longer matches
	const mp = "application/x-msgpack"

	type want struct {
		accepted bool
		code     string
		id       string
	}
	check := func(name string, body []byte, wants []want) {
		t.Helper()
		resp, p := post(t, e, mp, bytes.NewReader(body))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, p)
		}
		var out api.SubmitResponseJSON
		if err := json.Unmarshal(p, &out); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, p)
		}
		if len(out.Results) != len(wants) {
			t.Fatalf("%s: %d results, want %d: %s", name, len(out.Results), len(wants), p)
		}
		for i, w := range wants {
			r := out.Results[i]
			code := ""
			if r.Error != nil {
				code = r.Error.Code
			}
			if r.Accepted != w.accepted || code != w.code || (w.id != "" && r.ID != w.id) {
				t.Errorf("%s item %d: accepted %v code %q id %s; want %v %q %s", name, i, r.Accepted, code, r.ID, w.accepted, w.code, w.id)
			}
		}
	}
	raw := good.Encode(nil)
	check("one", msgpackBatch(raw), []want{{true, "", good.ID().String()}})
	check("again", msgpackBatch(raw), []want{{false, "known", good.ID().String()}})
	check("batch", msgpackBatch(good6.Encode(nil), []byte{1, 2, 3}, pooled.Encode(nil), forged.Encode(nil), good7.Encode(nil)), []want{
		{true, "", good6.ID().String()},
		{false, "bad_request", ""},
		{false, "known", pooled.ID().String()},
		{false, "bad_signature", ""},
		{false, "skipped", good7.ID().String()},
	})
	check("empty", []byte{0x90}, []want{})

	for _, c := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"JSON under the msgpack type", []byte(`[{"nonce":1}]`), 400, "bad_request"},
		{"a bin, not an array", []byte{0xc4, 1, 0}, 400, "bad_request"},
		{"too many items", []byte{0xdd, 0, 0, 0x27, 0x11}, 400, "bad_request"},
		{"an item claiming 1 GiB", []byte{0x91, 0xc6, 0x40, 0, 0, 0}, 413, "body_too_large"},
		{"an item not a bin", []byte{0x91, 0x91, 0xc0}, 400, "bad_request"},
		{"ends inside an item", []byte{0x91, 0xc4, 10, 1, 2}, 400, "bad_request"},
		{"ends before the items", []byte{0x92, 0xc4, 0}, 400, "bad_request"},
		{"trailing bytes", append(msgpackBatch(raw), 0xc0), 400, "bad_request"},
	} {
		resp, p := post(t, e, mp, bytes.NewReader(c.body))
		if resp.StatusCode != c.status || errCode(t, p) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, resp.StatusCode, p, c.status, c.code)
		}
	}
}

// TestEncodeTxBatch: what clients send (array 32 of bin 32) is what the
// node reads, item for item.
func TestEncodeTxBatch(t *testing.T) {
	e := newEnv(t)
	f := e.f
	a := f.MustSign(f.Keys.Alice, 5, f.Keys.Bob.Address(), 1, "")
	b := f.MustSign(f.Keys.Alice, 6, f.Keys.Bob.Address(), 2, "")
	resp, p := post(t, e, api.ContentTypeMsgpack, bytes.NewReader(api.EncodeTxBatch([][]byte{a.Encode(nil), b.Encode(nil)})))
	var out api.SubmitResponseJSON
	if err := json.Unmarshal(p, &out); err != nil || resp.StatusCode != 200 || len(out.Results) != 2 ||
		out.Results[0].ID != a.ID().String() || out.Results[1].ID != b.ID().String() || !out.Results[0].Accepted || !out.Results[1].Accepted {
		t.Fatalf("%d %s", resp.StatusCode, p)
	}
}

// TestSubmitOverloaded: while the pool is at its backlog bound, POST /txs
// answers 503 overloaded with Retry-After before reading the body, and
// accepts again once there is room.
func TestSubmitOverloaded(t *testing.T) {
	e := newEnv(t)
	f := e.f
	tx := f.MustSign(f.Keys.Alice, 5, f.Keys.Bob.Address(), 1, "")
	body := api.EncodeTxBatch([][]byte{tx.Encode(nil)})
	f.SetOverloaded(2 * time.Second)
	resp, p := post(t, e, api.ContentTypeMsgpack, bytes.NewReader(body))
	if resp.StatusCode != 503 || errCode(t, p) != "overloaded" || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("overloaded: %d %s Retry-After %q", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
	f.SetOverloaded(0)
	if resp, p := post(t, e, api.ContentTypeMsgpack, bytes.NewReader(body)); resp.StatusCode != 200 {
		t.Fatalf("after overload: %d %s", resp.StatusCode, p)
	}
}

// raceLost is a node whose pool filled between the API's overload check
// and the batch: it refuses every transaction with txpool.ErrOverloaded.
type raceLost struct{ api.Submitter }

func (raceLost) Overloaded() (time.Duration, bool) { return 0, false }
func (raceLost) SubmitVerifiedTxs(txs []*types.Transaction) []error {
	errs := make([]error, len(txs))
	for i := range errs {
		errs[i] = fmt.Errorf("%w: full", txpool.ErrOverloaded)
	}
	return errs
}

// TestSubmitOverloadedRace: a batch the pool refused whole for overload is
// answered 503 overloaded, so the client resends it whole (no nonce gaps).
func TestSubmitOverloadedRace(t *testing.T) {
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	d := f.Deps()
	d.Submitter = raceLost{d.Submitter}
	e := newEnvWith(t, f, d)
	tx := f.MustSign(f.Keys.Alice, 5, f.Keys.Bob.Address(), 1, "")
	resp, p := post(t, e, api.ContentTypeMsgpack, bytes.NewReader(api.EncodeTxBatch([][]byte{tx.Encode(nil)})))
	if resp.StatusCode != 503 || errCode(t, p) != "overloaded" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%d %s Retry-After %q", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
}
