package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"ccoin/api"
	"ccoin/api/apitest"
	"ccoin/ccoin/types"
)

// acceptAll measures the API's own cost of a batch, not the pool's.
// acceptAll is a pool that takes every transaction, so the benchmark
// measures the API's work rather than the fake's rules.
type acceptAll struct{ *apitest.Fake }

func (acceptAll) SubmitVerifiedTxs(txs []*types.Transaction) []error { return make([]error, len(txs)) }

func benchServer(b *testing.B) (*apitest.Fake, http.Handler) {
	f, err := apitest.NewFake()
	if err != nil {
		b.Fatal(err)
	}
	d := f.Deps()
	d.Submitter = acceptAll{f}
	srv, err := api.New(api.Config{NodeAddress: f.Keys.Node.Address()}, d)
	if err != nil {
		b.Fatal(err)
	}
	return f, srv.Handler()
}

func BenchmarkGetBlock(b *testing.B) {
	_, h := benchServer(b)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/blocks/2", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkSubmitBatch100(b *testing.B) {
	f, h := benchServer(b)
	tx := api.TxToJSON(f.Canonical(2).Txs[0])
	batch := make([]api.TxJSON, 100)
	for i := range batch {
		batch[i] = tx
	}
	body := mustJSON(b, batch)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/txs", bytes.NewReader(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
