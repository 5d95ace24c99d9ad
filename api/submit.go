package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ccoin/ccoin/rulekind"
	"ccoin/ccoin/types"
)

// submitTxs is POST /txs: one transaction object or an array of them. Only
// a body that is not JSON at all (or too big, or too many items) fails as a
// whole; each item gets its own result, so one bad transaction never sinks a
// batch, except that checking stops at the first bad signature: the items
// after it are answered "skipped" without any work.
//
// What a client can make the node spend is bounded at each step: the body
// must be declared JSON (a cross-origin page can post text/plain without a
// preflight, never application/json); only MaxSubmits requests run at once;
// items are counted while the body streams in, so an over-long batch is
// refused before the rest is read; each client IP has a budget of signature
// checks per second; and a request whose deadline passed stops its work.
//
// The body is JSON, or (Content-Type application/x-msgpack) a MessagePack
// array of bin values, each the canonical encoding of one signed
// transaction (DESIGN's strict encoding, so the bytes the node gossips and
// stores are the bytes it was sent), with no JSON or hex on the way (see
// decodeMsgpackBatch).
func (s *submitRoutes) submitTxs(w http.ResponseWriter, r *http.Request) {
	decode, e := submitDecoder(r)
	if e != nil {
		writeError(w, e)
		return
	}
	select {
	case s.submits <- struct{}{}:
		defer func() { <-s.submits }()
	default:
		retryAfter(w, 0)
		writeError(w, errorf(http.StatusServiceUnavailable, CodeBusy, "%d transaction submissions are in progress; retry shortly", s.cfg.MaxSubmits))
		return
	}
	// Overload is refused before the body is read: what the client sends
	// would only join a backlog the next blocks cannot clear.
	if wait, over := s.sub.Overloaded(); over {
		writeOverloaded(w, wait)
		return
	}
	ctx := r.Context()
	limit := int64(MaxBatchBody)
	if s.cfg.MaxBody > limit {
		limit = s.cfg.MaxBody
	}
	// Each item is parsed as soon as it is read, and its bytes dropped.
	var (
		results []SubmitResultJSON
		txs     []*types.Transaction
		slots   []int // result index of each tx still in the running
	)
	chainID := s.chainID()
	e = decode(ctx, http.MaxBytesReader(w, r.Body, limit), limit, func(t *types.Transaction, res SubmitResultJSON) {
		if t != nil && t.ChainID.String() != chainID {
			// Cheap, and a wrong chain id also makes the signature fail:
			// say what is really wrong, with no RSA work.
			res = SubmitResultJSON{ID: t.ID().String(), Error: &ErrorBody{Code: CodeWrongChain,
				Message: fmt.Sprintf("chain id %s, this node is on %s", t.ChainID, chainID)}}
			t = nil
		}
		if t != nil {
			txs = append(txs, t)
			slots = append(slots, len(results))
		}
		results = append(results, res)
	})
	if e != nil {
		writeError(w, e)
		return
	}
	if results == nil {
		results = []SubmitResultJSON{}
	}

	if len(txs) > 0 {
		client, loopback := clientKey(r.RemoteAddr)
		limited := !loopback || s.cfg.LimitLoopback
		skip, need := copies(txs)
		if limited {
			if ok, wait := s.verify.take(client, need); !ok {
				retryAfter(w, wait)
				writeError(w, errorf(http.StatusTooManyRequests, CodeRateLimited,
					"this batch needs %d signature checks; a client may cause %.0f per second (%d at once); retry after %ss",
					need, s.cfg.VerifyRate, s.cfg.VerifyBurst, w.Header().Get("Retry-After")))
				return
			}
		}
		bad, badErr, checked := s.verifyInOrder(ctx, txs, skip)
		if limited {
			s.verify.give(client, need-checked)
		}
		if ctx.Err() != nil {
			return // the timeout middleware has answered
		}
		if bad < len(txs) {
			e := toError(badErr, CodeBadRequest)
			results[slots[bad]].Accepted = false
			results[slots[bad]].Error = &ErrorBody{Code: e.Code, Message: e.Message}
			for k := bad + 1; k < len(txs); k++ {
				results[slots[k]].Accepted = false
				results[slots[k]].Error = &ErrorBody{Code: CodeSkipped,
					Message: fmt.Sprintf("not checked: item %d of this batch has a bad signature", slots[bad])}
			}
			txs, slots = txs[:bad], slots[:bad]
		}
	}

	if len(txs) > 0 {
		errs := s.sub.SubmitVerifiedTxs(txs)
		// The pool filled between the check above and this batch (another
		// batch took the last room): nothing of it was taken, so answer as
		// for an overloaded node, and the client resends it whole.
		if len(errs) == len(txs) && !slices.ContainsFunc(errs, func(err error) bool { return rulekind.Of(err) != rulekind.Overloaded }) {
			wait, _ := s.sub.Overloaded()
			writeOverloaded(w, wait)
			return
		}
		for k, i := range slots {
			var err error
			if k < len(errs) {
				err = errs[k]
			}
			if err != nil {
				e := toError(err, CodeBadRequest)
				if e.Status >= 500 {
					s.log.Error("submitting transaction", "id", results[i].ID, "error", err)
				}
				results[i].Accepted = false
				results[i].Error = &ErrorBody{Code: e.Code, Message: e.Message}
			}
		}
	}
	writeJSON(w, http.StatusOK, SubmitResponseJSON{Results: results})
}

// requireJSON refuses a body not declared application/json (parameters such
// as charset are allowed).
// writeOverloaded answers 503 overloaded, asking the client to come back
// after wait.
func writeOverloaded(w http.ResponseWriter, wait time.Duration) {
	retryAfter(w, wait)
	writeError(w, errorf(http.StatusServiceUnavailable, CodeOverloaded,
		"more transactions wait than the next blocks can include; retry after %ss", w.Header().Get("Retry-After")))
}

// batchDecoder reads a POST /txs body and hands each item over, decoded
// (t) or refused (t nil, res saying why).
type batchDecoder func(ctx context.Context, body io.Reader, limit int64, item func(t *types.Transaction, res SubmitResultJSON)) *Error

// submitDecoder picks the body's decoder from its declared type.
func submitDecoder(r *http.Request) (batchDecoder, *Error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mt == "application/json":
		return decodeJSONBatch, nil
	case mt == ContentTypeMsgpack || mt == "application/msgpack":
		return decodeMsgpackBatch, nil
	}
	return nil, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
		"Content-Type must be application/json or application/x-msgpack, got %q", truncate(ct, 80))
}

// decodeJSONBatch is decodeBatch with each item parsed into a transaction.
func decodeJSONBatch(ctx context.Context, body io.Reader, limit int64, item func(*types.Transaction, SubmitResultJSON)) *Error {
	return decodeBatch(ctx, body, limit, func(raw json.RawMessage) { item(parseItem(raw)) })
}

// decodeMsgpackBatch reads a MessagePack array (fixarray, array 16 or
// array 32) of bin values (bin 8, 16 or 32), each one canonical signed
// transaction. The count is refused above MaxBatchTxs before any item is
// read and each item above maxItemBytes before it is read, so a client
// cannot make the node allocate more than it sends. An item that is not a
// canonical transaction is refused alone, like a bad JSON item.
func decodeMsgpackBatch(ctx context.Context, body io.Reader, limit int64, item func(*types.Transaction, SubmitResultJSON)) *Error {
	br := bufio.NewReader(ctxReader{ctx, body})
	n, err := msgpackLen(br, 0x90, 0xdc, 0xdd)
	if err != nil {
		return msgpackError(ctx, err, limit, "want a MessagePack array of bin values")
	}
	if n > MaxBatchTxs {
		return errorf(http.StatusBadRequest, CodeBadRequest, "more than %d transactions in one batch", MaxBatchTxs)
	}
	for i := range n {
		size, err := msgpackLen(br, 0, 0xc4, 0xc5, 0xc6)
		if err != nil {
			return msgpackError(ctx, err, limit, fmt.Sprintf("item %d: want a bin value", i))
		}
		if size > maxItemBytes {
			return bodyError(ctx, errItemTooLarge, limit)
		}
		raw := make([]byte, size)
		if _, err := io.ReadFull(br, raw); err != nil {
			return msgpackError(ctx, err, limit, fmt.Sprintf("item %d: body ends inside it", i))
		}
		t, err := types.DecodeTx(raw)
		if err != nil {
			e := toError(err, CodeBadRequest)
			item(nil, SubmitResultJSON{Error: &ErrorBody{Code: e.Code, Message: e.Message}})
			continue
		}
		item(t, SubmitResultJSON{ID: t.ID().String(), Accepted: true})
	}
	if _, err := br.ReadByte(); err != io.EOF {
		if err != nil {
			return msgpackError(ctx, err, limit, "after the array")
		}
		return errorf(http.StatusBadRequest, CodeBadRequest, "body must hold exactly one MessagePack array")
	}
	return nil
}

// ContentTypeMsgpack declares a POST /txs body of canonical transactions.
const ContentTypeMsgpack = "application/x-msgpack"

// EncodeTxBatch frames canonical signed transactions (types.Transaction
// Encode) as the MessagePack body POST /txs takes: an array of bin values.
func EncodeTxBatch(raws [][]byte) []byte {
	n := 5
	for _, r := range raws {
		n += 5 + len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, 0xdd, byte(len(raws)>>24), byte(len(raws)>>16), byte(len(raws)>>8), byte(len(raws)))
	for _, r := range raws {
		b = append(b, 0xc6, byte(len(r)>>24), byte(len(r)>>16), byte(len(r)>>8), byte(len(r)))
		b = append(b, r...)
	}
	return b
}

// errMsgpackType: a header byte of another MessagePack type than wanted.
var errMsgpackType = errors.New("unexpected MessagePack type")

// msgpackLen reads a MessagePack array or bin header and returns its
// length. fix is the fixarray base (0 when there is no fix form); lens are
// the type bytes followed by a 1-, 2- and 4-byte length (bin 8, 16, 32), or
// by a 2- and 4-byte one (array 16, 32).
func msgpackLen(br *bufio.Reader, fix byte, lens ...byte) (int, error) {
	b, err := br.ReadByte()
	if err != nil {
		return 0, err
	}
	if fix != 0 && b&0xf0 == fix {
		return int(b & 0x0f), nil
	}
	width := 0
	for i, t := range lens {
		if b == t {
			width = 1 << (i + 3 - len(lens)) // the last type has a 4-byte length
		}
	}
	if width == 0 {
		return 0, fmt.Errorf("%w 0x%02x", errMsgpackType, b)
	}
	var buf [4]byte
	if _, err := io.ReadFull(br, buf[4-width:]); err != nil {
		return 0, err
	}
	return int(uint32(buf[0])<<24 | uint32(buf[1])<<16 | uint32(buf[2])<<8 | uint32(buf[3])), nil
}

func msgpackError(ctx context.Context, err error, limit int64, what string) *Error {
	if e := bodyError(ctx, err, limit); e != nil {
		return e
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, CodeBadRequest, "MessagePack body: %s: it ends early", what)
	}
	return errorf(http.StatusBadRequest, CodeBadRequest, "MessagePack body: %s: %v", what, err)
}

// parseItem turns one batch item into a transaction, or into the result
// that refuses it.
func parseItem(raw json.RawMessage) (*types.Transaction, SubmitResultJSON) {
	var j TxJSON
	if t := strings.TrimLeft(string(raw[:min(len(raw), 64)]), " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, SubmitResultJSON{Error: &ErrorBody{Code: CodeBadJSON, Message: "want a transaction object"}}
	}
	if e := decodeStrict(raw, &j); e != nil {
		return nil, SubmitResultJSON{Error: &ErrorBody{Code: e.Code, Message: e.Message}}
	}
	t, err := TxFromJSON(j)
	if err != nil {
		e := toError(err, CodeBadRequest)
		res := SubmitResultJSON{Error: &ErrorBody{Code: e.Code, Message: e.Message}}
		if isHex64(j.ID) {
			res.ID = strings.ToLower(j.ID)
		}
		return nil, res
	}
	return t, SubmitResultJSON{ID: t.ID().String(), Accepted: true}
}

// maxItemBytes bounds one item of a batch, white space before it included.
// A transaction is under 8 KiB of JSON even with its 1 KiB of data written
// as \u escapes; without a bound, one 8 MiB string item would be buffered
// and copied whole.
const maxItemBytes = 64 << 10

var errItemTooLarge = errors.New("item too large")

// decodeBatch reads a transaction object or an array of them as the body
// streams in, handing each item's bytes to item. It counts items as it goes
// and refuses the batch as soon as there are more than MaxBatchTxs, or an
// item is over maxItemBytes, without reading the rest; it stops when ctx
// ends.
func decodeBatch(ctx context.Context, body io.Reader, limit int64, item func(json.RawMessage)) *Error {
	br := bufio.NewReader(ctxReader{ctx, body})
	first, err := firstByte(br)
	if err != nil {
		return readError(ctx, err, limit)
	}
	lr := &itemReader{r: br}
	dec := json.NewDecoder(lr)
	// next allows the decoder maxItemBytes past what it has consumed.
	next := func() { lr.max = dec.InputOffset() + maxItemBytes }
	next()
	switch first {
	case '{':
		var one json.RawMessage
		if err := dec.Decode(&one); err != nil {
			return readError(ctx, err, limit)
		}
		item(one)
		next()
		return expectEOF(ctx, dec, limit)
	case '[':
		if _, err := dec.Token(); err != nil {
			return readError(ctx, err, limit)
		}
		n := 0
		for next(); dec.More(); next() {
			if n == MaxBatchTxs {
				return errorf(http.StatusBadRequest, CodeBadRequest, "more than %d transactions in one batch", MaxBatchTxs)
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return readError(ctx, err, limit)
			}
			n++
			item(raw)
		}
		if _, err := dec.Token(); err != nil { // the closing ]
			return readError(ctx, err, limit)
		}
		next()
		return expectEOF(ctx, dec, limit)
	default:
		return errorf(http.StatusBadRequest, CodeBadJSON, "want a transaction object or an array of them")
	}
}

// itemReader lets the decoder read up to max bytes in all.
type itemReader struct {
	r      io.Reader
	n, max int64
}

func (l *itemReader) Read(p []byte) (int, error) {
	room := l.max - l.n
	if room <= 0 {
		return 0, errItemTooLarge
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// firstByte peeks at the first byte that is not JSON white space.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
		default:
			return b[0], nil
		}
	}
}

func expectEOF(ctx context.Context, dec *json.Decoder, limit int64) *Error {
	_, err := dec.Token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return readError(ctx, err, limit)
	}
	return errorf(http.StatusBadRequest, CodeBadJSON, "body must hold exactly one JSON value")
}

// readError classifies a failure to read or decode the body.
func readError(ctx context.Context, err error, limit int64) *Error {
	if e := bodyError(ctx, err, limit); e != nil {
		return e
	}
	return errorf(http.StatusBadRequest, CodeBadJSON, "%s", jsonErrorMessage(err))
}

// bodyError names a read that failed for the body's size or the request's
// end, whatever the body's encoding; nil for an error of the content.
func bodyError(ctx context.Context, err error, limit int64) *Error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body exceeds %d bytes", limit)
	case errors.Is(err, errItemTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "an item of the body is over %d bytes", maxItemBytes)
	case ctx.Err() != nil:
		return errorf(http.StatusRequestTimeout, CodeTimeout, "request ended before the body was read")
	}
	return nil
}

// ctxReader fails reads once ctx ends, so a timed-out request stops reading
// its body (the timeout middleware also wakes a read blocked on the network).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// verifyInOrder checks signatures in batch order on all cores and stops at
// the first bad one. It returns that index (len(txs) if none), its error,
// and how many checks were made. A check already running when a bad
// signature turns up finishes, so a few past it may be checked; none of
// them counts. A copy of an earlier item (same id, key and signature) is
// not checked again (skip, from copies): its verdict is the earlier one's,
// and the pool answers it known. It also stops when ctx ends.
func (s *submitRoutes) verifyInOrder(ctx context.Context, txs []*types.Transaction, skip []bool) (bad int, badErr error, checked int) {
	var (
		next   atomic.Int64
		first  atomic.Int64 // lowest bad index so far
		count  atomic.Int64
		mu     sync.Mutex
		errs   = map[int]error{}
		wg     sync.WaitGroup
		worker = func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(txs) || int64(k) > first.Load() || ctx.Err() != nil {
					return
				}
				if skip[k] {
					continue
				}
				count.Add(1)
				if err := txs[k].VerifySignature(s.keys); err != nil {
					mu.Lock()
					errs[k] = err
					mu.Unlock()
					for {
						f := first.Load()
						if int64(k) >= f || first.CompareAndSwap(f, int64(k)) {
							break
						}
					}
				}
			}
		}
	)
	first.Store(int64(len(txs)))
	for range min(runtime.GOMAXPROCS(0), len(txs)) {
		wg.Go(worker)
	}
	wg.Wait()
	bad = int(first.Load())
	return bad, errs[bad], int(count.Load())
}

// chainID is the node's chain id, read once: it never changes.
func (s *submitRoutes) chainID() string {
	s.chainOnce.Do(func() { s.chain = s.status.Status().ChainID })
	return s.chain
}

// copies marks each transaction that repeats an earlier one of the batch
// (same id, key and signature) and counts the others, the checks needed.
func copies(txs []*types.Transaction) (skip []bool, distinct int) {
	type sig struct {
		id       types.Hash
		key, sig string
	}
	seen := make(map[sig]bool, len(txs))
	skip = make([]bool, len(txs))
	for k, t := range txs {
		x := sig{t.ID(), string(t.PublicKey), string(t.Signature)}
		skip[k] = seen[x]
		seen[x] = true
	}
	return skip, len(seen)
}
