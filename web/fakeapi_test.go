package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// fakeAPI serves canned JSON in the shapes of the node API, next to
// Handler(), so the browser tests need no node. Posted transactions are
// decoded into types.Transaction and their signatures checked here, in Go.
type fakeAPI struct {
	t       *testing.T
	chainID string

	mu          sync.Mutex
	height      int
	finalized   int
	noEvents    bool // /events answers 404, so the page must poll
	minimal     bool // /status carries only the required fields
	noIndex     bool // /accounts/{addr}/txs answers 404, as a node without the index
	posted      []*types.Transaction
	postErrs    []error
	txGets      map[string]int
	cannedTx    map[string]any // id -> tx JSON, included in block 7
	cannedBlock int

	events chan string // raw SSE frames pushed to the open /events stream
	done   chan struct{}
}

// Amounts that make the fake refuse a transaction, to check error wording.
const (
	amountInsufficient = 999999 // refused in the results array
	amountNonceGap     = 888888 // refused with a 400 error body
)

var (
	sealerA = strings.Repeat("aa", 20)
	sealerB = strings.Repeat("bb", 20)
)

func fakeBlockID(n int) string {
	sum := sha256.Sum256([]byte("fake block " + strconv.Itoa(n)))
	return "0000" + hex.EncodeToString(sum[2:])
}

func newFakeAPI(t *testing.T, vec vectors) *fakeAPI {
	f := &fakeAPI{
		t:           t,
		chainID:     vec.Transaction.ChainID,
		height:      42,
		finalized:   40,
		txGets:      make(map[string]int),
		cannedTx:    make(map[string]any),
		cannedBlock: 7,
		events:      make(chan string, 16),
		done:        make(chan struct{}),
	}
	vt := vec.Transaction
	f.cannedTx[vt.ID] = map[string]any{
		"id": vt.ID, "chain_id": vt.ChainID, "nonce": vt.Nonce, "from": vt.From, "to": vt.To,
		"amount": vt.Amount, "data": vt.Data, "time": vt.Time,
		"public_key": vec.Key.PublicKeyDERBase64, "signature": vt.SignatureBase64,
	}
	return f
}

// start serves the fake API and the web handler on one origin.
func (f *fakeAPI) start() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", f.status)
	mux.HandleFunc("GET /blocks", f.blocks)
	mux.HandleFunc("GET /blocks/{ref}", f.block)
	mux.HandleFunc("GET /txs/{id}", f.tx)
	mux.HandleFunc("POST /txs", f.postTx)
	mux.HandleFunc("GET /accounts/{addr}", f.account)
	mux.HandleFunc("GET /accounts/{addr}/txs", f.accountTxs)
	mux.HandleFunc("GET /pool", f.pool)
	mux.HandleFunc("GET /peers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"peers": []any{map[string]any{"address": sealerA, "addr": "127.0.0.1:7001"}}})
	})
	mux.HandleFunc("GET /events", f.eventStream)
	web := Handler()
	mux.Handle("/", web)
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	// Runs before srv.Close (cleanups are LIFO): ends open event streams.
	f.t.Cleanup(func() { close(f.done) })
	return srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, code int, kind, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": kind, "message": msg}})
}

func (f *fakeAPI) setHeight(h int) {
	f.mu.Lock()
	f.height = h
	f.mu.Unlock()
}

func (f *fakeAPI) status(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := map[string]any{
		"address": sealerA, "type": "validator", "network_id": 7, "chain_id": f.chainID,
		"height": f.height, "head": fakeBlockID(f.height),
		"finalized_height": f.finalized, "finalized": fakeBlockID(f.finalized),
		"sync": "ready", "peers": 2, "version": "test",
	}
	if !f.minimal {
		s["slot"] = 100 + f.height
		s["leader"] = sealerA
		s["next_leader"] = sealerB
		s["pool_pending"] = len(f.posted)
		s["pool_queued"] = 1
		s["genesis_time"] = 1767225600000
		s["interval_ms"] = 5000
	}
	writeJSON(w, 200, s)
}

// blockJSON builds block n; full adds the transactions (lists carry only the
// count, so the page must cope with both).
func (f *fakeAPI) blockJSON(n int, full bool) map[string]any {
	sealer := sealerA
	if n%2 == 0 {
		sealer = sealerB
	}
	var txs []any
	if n == f.cannedBlock {
		for _, t := range f.cannedTx {
			txs = append(txs, t)
		}
	}
	b := map[string]any{
		"id": fakeBlockID(n), "number": n, "parent": fakeBlockID(n - 1), "slot": 100 + n,
		"time": 1767225600000 + int64(n)*5000, "sealer": sealer,
		"tx_root": strings.Repeat("11", 32), "state_root": strings.Repeat("22", 32),
		"reward": 100, "difficulty": 2, "pow_nonce": 1000 + n, "data": fmt.Sprintf("block %d <b>not html</b>", n),
		"finalized": n <= f.finalized, "tx_count": len(txs),
	}
	if full {
		if txs == nil {
			txs = []any{}
		}
		b["transactions"] = txs
	}
	return b
}

func (f *fakeAPI) blocks(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 || limit > 100 {
		limit = 20
	}
	list := []any{}
	if from, err := strconv.Atoi(r.URL.Query().Get("from")); err == nil && from > 0 {
		for n := from; n <= f.height && len(list) < limit; n++ {
			list = append(list, f.blockJSON(n, false))
		}
	} else {
		for n := f.height; n >= 1 && len(list) < limit; n-- {
			list = append(list, f.blockJSON(n, false))
		}
	}
	writeJSON(w, 200, map[string]any{"blocks": list})
}

func (f *fakeAPI) block(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref := r.PathValue("ref")
	n := -1
	switch {
	case ref == "latest":
		n = f.height
	case ref == "finalized":
		n = f.finalized
	case len(ref) == 64:
		for i := 1; i <= f.height; i++ {
			if fakeBlockID(i) == ref {
				n = i
			}
		}
	default:
		if v, err := strconv.Atoi(ref); err == nil {
			n = v
		}
	}
	if n < 1 || n > f.height {
		apiError(w, 404, "unknown_block", "block not found")
		return
	}
	writeJSON(w, 200, f.blockJSON(n, true))
}

func (f *fakeAPI) tx(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	if t, ok := f.cannedTx[id].(map[string]any); ok {
		out := map[string]any{"status": "finalized", "block": fakeBlockID(f.cannedBlock), "block_number": f.cannedBlock, "confirmations": f.height - f.cannedBlock + 1}
		for k, v := range t {
			out[k] = v
		}
		writeJSON(w, 200, out)
		return
	}
	for _, t := range f.posted {
		if t.ID().String() != id {
			continue
		}
		// Each look moves a posted transaction one step on:
		// pending, then included, then finalized.
		f.txGets[id]++
		out := txJSON(t)
		switch g := f.txGets[id]; {
		case g <= 1:
			out["status"] = "pending"
		case g == 2:
			out["status"], out["block"], out["block_number"], out["confirmations"] = "included", fakeBlockID(f.height), f.height, 1
		default:
			out["status"], out["block"], out["block_number"], out["confirmations"] = "finalized", fakeBlockID(f.height), f.height, 3
		}
		writeJSON(w, 200, out)
		return
	}
	apiError(w, 404, "unknown_tx", "transaction not found")
}

func txJSON(t *types.Transaction) map[string]any {
	return map[string]any{
		"id": t.ID().String(), "chain_id": t.ChainID.String(), "nonce": t.Nonce,
		"from": t.From.String(), "to": t.To.String(), "amount": t.Amount, "data": string(t.Data), "time": t.Time,
		"public_key": t.PublicKey, "signature": t.Signature, // []byte marshals as standard base64
	}
}

// wireTx is the POST /txs body; unknown fields are refused so the test
// notices if the page sends anything beyond the contract.
type wireTx struct {
	ChainID   string `json:"chain_id"`
	Nonce     uint64 `json:"nonce"`
	From      string `json:"from"`
	To        string `json:"to"`
	Amount    uint64 `json:"amount"`
	Data      string `json:"data"`
	Time      uint64 `json:"time"`
	PublicKey []byte `json:"public_key"`
	Signature []byte `json:"signature"`
}

func decodeWireTx(body io.Reader) (*types.Transaction, error) {
	dec := json.NewDecoder(io.LimitReader(body, 64<<10))
	dec.DisallowUnknownFields()
	var w wireTx
	if err := dec.Decode(&w); err != nil {
		return nil, err
	}
	var (
		t   types.Transaction
		err error
	)
	if t.ChainID, err = types.ParseHash(w.ChainID); err != nil {
		return nil, err
	}
	if t.From, err = crypto.ParseAddress(w.From); err != nil {
		return nil, err
	}
	if t.To, err = crypto.ParseAddress(w.To); err != nil {
		return nil, err
	}
	t.Nonce, t.Amount, t.Data, t.Time = w.Nonce, w.Amount, []byte(w.Data), w.Time
	t.PublicKey, t.Signature = w.PublicKey, w.Signature
	return &t, nil
}

func (f *fakeAPI) postTx(w http.ResponseWriter, r *http.Request) {
	t, err := decodeWireTx(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.postErrs = append(f.postErrs, err)
		apiError(w, 400, "bad_json", err.Error())
		return
	}
	if err := t.VerifySignature(nil); err != nil {
		f.postErrs = append(f.postErrs, err)
		apiError(w, 400, "bad_signature", err.Error())
		return
	}
	id := t.ID().String()
	switch t.Amount {
	case amountInsufficient:
		writeJSON(w, 200, map[string]any{"results": []any{map[string]any{"id": id, "accepted": false, "error": map[string]any{"code": "insufficient_funds", "message": "balance too low"}}}})
		return
	case amountNonceGap:
		apiError(w, 400, "nonce_gap", "nonce is ahead of the account")
		return
	}
	f.posted = append(f.posted, t)
	writeJSON(w, 200, map[string]any{"results": []any{map[string]any{"id": id, "accepted": true}}})
}

func (f *fakeAPI) account(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	addr := r.PathValue("addr")
	if _, err := crypto.ParseAddress(addr); err != nil {
		apiError(w, 400, "bad_address", "bad address")
		return
	}
	sent := 0
	for _, t := range f.posted {
		if t.From.String() == addr {
			sent++
		}
	}
	writeJSON(w, 200, map[string]any{"address": addr, "balance": 1000000, "nonce": 0, "next_nonce": 1 + sent})
}

// accountTxs answers from the index by address: the canned transaction,
// for its sender and recipient; noIndex makes it 404 like an older node.
func (f *fakeAPI) accountTxs(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	addr := r.PathValue("addr")
	if f.noIndex {
		apiError(w, 404, "not_found", "no route")
		return
	}
	txs := []any{}
	for _, t := range f.cannedTx {
		m := t.(map[string]any)
		if m["from"] == addr || m["to"] == addr {
			out := map[string]any{"status": "finalized", "block": fakeBlockID(f.cannedBlock), "block_number": f.cannedBlock,
				"index": 0, "confirmations": f.height - f.cannedBlock + 1}
			for k, v := range m {
				out[k] = v
			}
			txs = append(txs, out)
		}
	}
	writeJSON(w, 200, map[string]any{"address": addr, "transactions": txs})
}

func (f *fakeAPI) pool(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	txs := []any{}
	for _, t := range f.posted {
		txs = append(txs, txJSON(t))
	}
	writeJSON(w, 200, map[string]any{"pending": len(txs), "queued": 0, "transactions": txs})
}

func (f *fakeAPI) eventStream(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	off := f.noEvents
	f.mu.Unlock()
	if off {
		apiError(w, 404, "not_found", "no event stream")
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no flusher", 500)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	_, _ = io.WriteString(w, ": hello\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		case frame := <-f.events:
			_, _ = io.WriteString(w, frame)
			fl.Flush()
		}
	}
}

// pushHead makes block n the head and announces it on the event stream.
func (f *fakeAPI) pushHead(n int) {
	f.mu.Lock()
	f.height = n
	b, _ := json.Marshal(map[string]any{"block": f.blockJSON(n, true)})
	f.mu.Unlock()
	f.events <- "event: head\ndata: " + string(b) + "\n\n"
}

func (f *fakeAPI) pushFinalized(n int) {
	f.mu.Lock()
	f.finalized = n
	b, _ := json.Marshal(map[string]any{"block": f.blockJSON(n, true)})
	f.mu.Unlock()
	f.events <- "event: finalized\ndata: " + string(b) + "\n\n"
}

func (f *fakeAPI) postedTxs() ([]*types.Transaction, []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*types.Transaction(nil), f.posted...), append([]error(nil), f.postErrs...)
}
