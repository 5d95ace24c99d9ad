package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/types"
)

// fakeChain is a tiny in-memory node behind any number of API servers: it
// checks and pools submitted transactions, seals a block of everything
// pooled on each tick, finalizes two blocks behind the head, and streams
// head and finalized events.
type fakeChain struct {
	t       *testing.T
	chainID types.Hash
	faucet  string

	mu          sync.Mutex
	nonces      map[string]uint64
	pool        []api.TxJSON
	seen        map[string]bool
	blocks      []blockTxs // blocks[i] is number i+1
	fork        int        // bumped by reorg, so that replacing blocks have new ids
	noTxIDs     bool       // answer GET /blocks/{n}/txids as a node that predates it
	txidReads   int        // blocks served by GET /blocks/{n}/txids
	fullReads   int        // blocks served by GET /blocks/{n}, full JSON
	finalized   uint64
	subs        map[chan string]struct{}
	rejectNonce uint64 // a sender transfer with this nonce gets pool_full
	rejectAll   string // every transaction gets this code
	overloaded  int    // this many more POST /txs (after funding) are answered 503 overloaded
	perServer   map[string]int
	sentTo      map[string]string // tx id -> server that received it
	dupSends    int
}

func newFakeChain(t *testing.T, faucet crypto.Address) *fakeChain {
	return &fakeChain{t: t, chainID: types.Hash{1, 2, 3}, faucet: faucet.String(), nonces: map[string]uint64{},
		seen: map[string]bool{}, subs: map[chan string]struct{}{}, perServer: map[string]int{}, sentTo: map[string]string{}}
}

// server starts one API server over the chain.
func (f *fakeChain) server(name string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		head := ""
		if len(f.blocks) > 0 {
			head = f.blocks[len(f.blocks)-1].ID
		}
		writeJSONT(w, 200, api.StatusJSON{ChainID: f.chainID.String(), Height: uint64(len(f.blocks)), Head: head,
			FinalizedHeight: f.finalized, IntervalMs: 40, Sync: "ready"})
	})
	mux.HandleFunc("GET /accounts/{a}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		a := r.PathValue("a")
		bal := uint64(0)
		if a == f.faucet {
			bal = 1 << 50
		}
		writeJSONT(w, 200, api.AccountJSON{Address: a, Balance: bal, Nonce: f.nonces[a], NextNonce: f.nonces[a] + 1})
	})
	mux.HandleFunc("GET /blocks/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		f.mu.Lock()
		defer f.mu.Unlock()
		if n < 1 || n > len(f.blocks) {
			writeJSONT(w, 404, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeUnknownBlock, Message: "no"}})
			return
		}
		f.fullReads++
		b := f.blocks[n-1]
		txs := make([]map[string]string, len(b.TxIDs))
		for i, id := range b.TxIDs {
			txs[i] = map[string]string{"id": id}
		}
		writeJSONT(w, 200, map[string]any{"id": b.ID, "number": b.Number, "parent": b.Parent,
			"canonical": true, "tx_count": len(txs), "transactions": txs})
	})
	mux.HandleFunc("GET /blocks/{n}/txids", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.noTxIDs { // what the node's router answers for a route it lacks
			writeJSONT(w, 404, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeNotFound, Message: "no route"}})
			return
		}
		if n < 1 || n > len(f.blocks) {
			writeJSONT(w, 404, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeUnknownBlock, Message: "no"}})
			return
		}
		f.txidReads++
		writeJSONT(w, 200, f.blocks[n-1])
	})
	mux.HandleFunc("POST /txs", func(w http.ResponseWriter, r *http.Request) {
		var in []api.TxJSON
		if r.Header.Get("Content-Type") != api.ContentTypeMsgpack {
			// The bench sends canonical transactions, never JSON.
			writeJSONT(w, 415, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeUnsupportedMedia, Message: "want msgpack"}})
			return
		}
		f.mu.Lock()
		refuse := f.overloaded > 0 && len(f.seen) > 0 // funding goes through
		if refuse {
			f.overloaded--
		}
		f.mu.Unlock()
		if refuse {
			w.Header().Set("Retry-After", "1")
			writeJSONT(w, 503, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeOverloaded, Message: "busy blocks"}})
			return
		}
		var raws [][]byte
		if err := msgpack.NewDecoder(r.Body).Decode(&raws); err != nil {
			writeJSONT(w, 400, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeBadRequest, Message: err.Error()}})
			return
		}
		for _, raw := range raws {
			t, err := types.DecodeTx(raw)
			if err != nil {
				writeJSONT(w, 400, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeBadRequest, Message: err.Error()}})
				return
			}
			in = append(in, api.TxToJSON(t))
		}
		out := api.SubmitResponseJSON{Results: make([]api.SubmitResultJSON, len(in))}
		for i, j := range in {
			out.Results[i] = f.submit(name, j)
		}
		writeJSONT(w, 200, out)
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		ch := make(chan string, 64)
		f.mu.Lock()
		f.subs[ch] = struct{}{}
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.subs, ch)
			f.mu.Unlock()
		}()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fmt.Fprint(w, ": connected\n\n")
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case msg := <-ch:
				fmt.Fprint(w, msg)
				w.(http.Flusher).Flush()
			}
		}
	})
	s := httptest.NewServer(mux)
	f.t.Cleanup(s.Close)
	return s
}

func writeJSONT(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeChain) submit(server string, j api.TxJSON) api.SubmitResultJSON {
	t, err := api.TxFromJSON(j)
	if err != nil {
		return api.SubmitResultJSON{Error: &api.ErrorBody{Code: api.CodeBadRequest, Message: err.Error()}}
	}
	id := t.ID().String()
	if err := t.VerifySignature(nil); err != nil {
		return api.SubmitResultJSON{ID: id, Error: &api.ErrorBody{Code: api.CodeBadSignature, Message: err.Error()}}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.ChainID != f.chainID {
		return api.SubmitResultJSON{ID: id, Error: &api.ErrorBody{Code: api.CodeWrongChain, Message: "chain"}}
	}
	if prev, ok := f.sentTo[id]; ok && prev != server {
		f.dupSends++
	}
	f.sentTo[id] = server
	f.perServer[server]++
	switch {
	case f.rejectAll != "":
		return api.SubmitResultJSON{ID: id, Error: &api.ErrorBody{Code: f.rejectAll, Message: "refused"}}
	case f.seen[id]:
		return api.SubmitResultJSON{ID: id, Error: &api.ErrorBody{Code: api.CodeKnown, Message: "known"}}
	case j.From != f.faucet && j.Nonce == f.rejectNonce:
		return api.SubmitResultJSON{ID: id, Error: &api.ErrorBody{Code: api.CodePoolFull, Message: "full"}}
	}
	f.seen[id] = true
	f.pool = append(f.pool, api.TxToJSON(t))
	return api.SubmitResultJSON{ID: id, Accepted: true}
}

// seal makes one block of the pool and moves finality two blocks behind.
func (f *fakeChain) seal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.pool))
	for _, tx := range f.pool {
		ids = append(ids, tx.ID)
		f.nonces[tx.From] = max(f.nonces[tx.From], tx.Nonce)
	}
	f.pool = nil
	n := f.appendLocked(ids)
	f.emit(api.EventHead, n)
	if n > 2 {
		f.finalized = n - 2
		f.emit(api.EventFinalized, f.finalized)
	}
}

// appendLocked adds a block holding ids on top of the chain.
func (f *fakeChain) appendLocked(ids []string) uint64 {
	n := uint64(len(f.blocks) + 1)
	parent := ""
	if n > 1 {
		parent = f.blocks[n-2].ID
	}
	f.blocks = append(f.blocks, blockTxs{ID: fmt.Sprintf("%08x%056x", f.fork, n), Number: n, Parent: parent, Canonical: true, TxIDs: ids})
	return n
}

// reorg replaces the chain from block number from on with blocks holding
// the given ids (one block per list), as a fork that won would, and streams
// the reorg and the new head.
func (f *fakeChain) reorg(from uint64, blocks ...[]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocks = f.blocks[:from-1]
	f.fork++
	for _, ids := range blocks {
		f.appendLocked(ids)
	}
	n := uint64(len(f.blocks))
	f.emit(api.EventReorg, n)
	f.emit(api.EventHead, n)
}

func (f *fakeChain) emit(kind string, n uint64) {
	data, _ := json.Marshal(map[string]any{"kind": kind, "block": map[string]any{"id": f.blocks[n-1].ID, "number": n}})
	msg := "event: " + kind + "\ndata: " + string(data) + "\n\n"
	for ch := range f.subs {
		select {
		case ch <- msg:
		default: // like the node: a slow subscriber loses events
		}
	}
}

// run seals every period until stop is closed.
func (f *fakeChain) run(period time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(period)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				f.seal()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// keys returns 7 test keys, generated once per test binary (RSA generation
// is slow, more so under -race).
func keys(t *testing.T) []*crypto.PrivateKey { return cryptotest.Keys(t, 7) }

// keySource hands out keys[1:] in turn (keys[0] is the faucet).
func keySource(ks []*crypto.PrivateKey) func() (*crypto.PrivateKey, error) {
	var mu sync.Mutex
	i := 0
	return func() (*crypto.PrivateKey, error) {
		mu.Lock()
		defer mu.Unlock()
		k := ks[1+i%(len(ks)-1)]
		i++
		return k, nil
	}
}

// lockedBuilder collects progress output from several goroutines.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newStatusOnly is a node that answers status and accounts like the chain
// but refuses every batch with 503 not_ready.
func newStatusOnly(t *testing.T, f *fakeChain) *httptest.Server {
	inner := f.server("status-only")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /txs", func(w http.ResponseWriter, r *http.Request) {
		writeJSONT(w, 503, api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeNotReady, Message: "syncing"}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}
