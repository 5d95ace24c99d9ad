package api

import (
	"net/http"
	"strconv"

	"ccoin/ccoin/types"

	"github.com/go-chi/chi/v5"
)

const (
	defaultBlocksLimit = 20
	maxBlocksLimit     = 100
	defaultPoolLimit   = 100
	maxPoolLimit       = 1000
)

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *readRoutes) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.read.Ready() {
		writeError(w, errorf(http.StatusServiceUnavailable, CodeNotReady, "node is not synced yet"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// genesis serves the network's genesis file byte for byte, as initc stored
// it: a light client (the browser wallet) builds the chain id, the miners
// and the quorum from it, after its user has compared its SHA-256 with the
// one they were given.
func (s *readRoutes) genesis(w http.ResponseWriter, _ *http.Request) {
	raw, err := s.read.GenesisFile()
	if err != nil {
		s.writeErr(w, err, CodeNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
}

func (s *readRoutes) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, statusToJSON(s.read.Status()))
}

// withTxs reads ?txs=true|false (default true).
func withTxs(r *http.Request) (bool, *Error) {
	switch v := r.URL.Query().Get("txs"); v {
	case "", "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, errorf(http.StatusBadRequest, CodeBadRequest, "txs: want true or false, got %q", truncate(v, 40))
	}
}

// queryUint reads an optional positive integer query parameter.
func queryUint(r *http.Request, name string, def, max uint64) (uint64, *Error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 || v[0] == '+' || (max > 0 && n > max) {
		if max > 0 {
			return 0, errorf(http.StatusBadRequest, CodeBadRequest, "%s: want an integer from 1 to %d, got %q", name, max, truncate(v, 40))
		}
		return 0, errorf(http.StatusBadRequest, CodeBadRequest, "%s: want a positive integer, got %q", name, truncate(v, 40))
	}
	return n, nil
}

// blockStanding is what rendering a block needs besides the block: whether
// it is on the canonical chain, and the final block.
type blockStanding interface {
	IsCanonical(id types.Hash) bool
	Finalized() *types.Block
}

// blockJSON renders a block with its standing on the chain.
func blockJSON(st blockStanding, b *types.Block, txs bool) BlockJSON {
	id := b.ID()
	canonical := st.IsCanonical(id)
	finalized := false
	if f := st.Finalized(); canonical && f != nil && b.Header.Number <= f.Header.Number {
		finalized = true
	}
	return BlockToJSON(b, txs, finalized, canonical)
}

func (s *readRoutes) writeBlock(w http.ResponseWriter, r *http.Request, b *types.Block, err error) {
	txs, e := withTxs(r)
	if e != nil {
		writeError(w, e)
		return
	}
	if err == nil && b == nil {
		err = ErrNotFound
	}
	if err != nil {
		s.writeErr(w, err, CodeUnknownBlock)
		return
	}
	writeJSON(w, http.StatusOK, blockJSON(s.read, b, txs))
}

// writeErr answers a backend error, logging the ones that are not the
// client's doing.
func (s *base) writeErr(w http.ResponseWriter, err error, notFound string) {
	e := toError(err, notFound)
	if e.Code == CodeInternal { // a 503 (overloaded, proof unavailable) is the node's state, not a failure
		s.log.Error("backend failure", "error", err)
	}
	writeError(w, e)
}

func (s *readRoutes) blockLatest(w http.ResponseWriter, r *http.Request) {
	s.writeBlock(w, r, s.read.Head(), nil)
}

func (s *readRoutes) blockFinalized(w http.ResponseWriter, r *http.Request) {
	s.writeBlock(w, r, s.read.Finalized(), nil)
}

func (s *readRoutes) block(w http.ResponseWriter, r *http.Request) {
	n, id, isID, err := parseBlockRef(chi.URLParam(r, "ref"))
	if err != nil {
		s.writeErr(w, err, CodeUnknownBlock)
		return
	}
	b, err := s.lookupBlock(n, id, isID)
	s.writeBlock(w, r, b, err)
}

// lookupBlock finds the block a parsed {ref} names: a canonical block by
// number, or any stored block by id.
func (s *readRoutes) lookupBlock(n uint64, id types.Hash, isID bool) (*types.Block, error) {
	if isID {
		return s.read.BlockByID(id)
	}
	return s.read.BlockByNumber(n)
}

// blockTxIDs is GET /blocks/{ref}/txids: a block's transaction ids without
// the transactions, so that following the chain for inclusion does not cost
// the node full-block JSON.
func (s *readRoutes) blockTxIDs(w http.ResponseWriter, r *http.Request) {
	n, id, isID, err := parseBlockRef(chi.URLParam(r, "ref"))
	var b *types.Block
	if err == nil {
		b, err = s.lookupBlock(n, id, isID)
	}
	if err == nil && b == nil {
		err = ErrNotFound
	}
	if err != nil {
		s.writeErr(w, err, CodeUnknownBlock)
		return
	}
	writeJSON(w, http.StatusOK, BlockTxIDsToJSON(b, s.read.IsCanonical(b.ID())))
}

// blocks lists up to limit canonical blocks: ascending from ?from=, or the
// newest first when from is omitted.
func (s *readRoutes) blocks(w http.ResponseWriter, r *http.Request) {
	txs, e := withTxs(r)
	if e != nil {
		writeError(w, e)
		return
	}
	limit, e := queryUint(r, "limit", defaultBlocksLimit, maxBlocksLimit)
	if e != nil {
		writeError(w, e)
		return
	}
	from, e := queryUint(r, "from", 0, 0)
	if e != nil {
		writeError(w, e)
		return
	}
	head := s.read.Head()
	out := BlocksJSON{Blocks: []BlockJSON{}}
	if head == nil {
		writeJSON(w, http.StatusOK, out)
		return
	}
	height := head.Header.Number
	var numbers []uint64
	if from == 0 {
		for n := height; n >= 1 && uint64(len(numbers)) < limit; n-- {
			numbers = append(numbers, n)
		}
	} else {
		for n := from; n <= height && uint64(len(numbers)) < limit; n++ {
			numbers = append(numbers, n)
		}
	}
	for _, n := range numbers {
		b, err := s.read.BlockByNumber(n)
		if err != nil {
			// The head moved under us (a reorg); stop at what we have.
			if toError(err, CodeUnknownBlock).Status == http.StatusNotFound {
				break
			}
			s.writeErr(w, err, CodeUnknownBlock)
			return
		}
		out.Blocks = append(out.Blocks, blockJSON(s.read, b, txs))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *readRoutes) tx(w http.ResponseWriter, r *http.Request) {
	id, err := parseHash("transaction id", chi.URLParam(r, "id"))
	if err != nil {
		s.writeErr(w, err, CodeUnknownTx)
		return
	}
	ti, err := s.read.Tx(id)
	if err == nil && ti.Tx == nil {
		err = ErrNotFound
	}
	if err != nil {
		s.writeErr(w, err, CodeUnknownTx)
		return
	}
	writeJSON(w, http.StatusOK, txStatusToJSON(ti))
}

func (s *readRoutes) account(w http.ResponseWriter, r *http.Request) {
	a, err := parseAddress("address", chi.URLParam(r, "address"))
	if err != nil {
		s.writeErr(w, err, CodeNotFound)
		return
	}
	if proof, e := wantProof(r); e != nil || proof {
		if e != nil {
			writeError(w, e)
		} else {
			s.accountProof(w, a)
		}
		return
	}
	info, err := s.read.Account(a)
	if err != nil {
		s.writeErr(w, err, CodeNotFound)
		return
	}
	info.Address = a
	writeJSON(w, http.StatusOK, accountToJSON(info))
}

func (s *readRoutes) pool(w http.ResponseWriter, r *http.Request) {
	limit, e := queryUint(r, "limit", defaultPoolLimit, maxPoolLimit)
	if e != nil {
		writeError(w, e)
		return
	}
	txs, pending, queued := s.read.Pool(int(limit))
	out := PoolJSON{Pending: pending, Queued: queued, Transactions: make([]TxJSON, 0, len(txs))}
	for i, t := range txs {
		if uint64(i) >= limit {
			break
		}
		out.Transactions = append(out.Transactions, TxToJSON(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *readRoutes) peers(w http.ResponseWriter, _ *http.Request) {
	ps := s.read.Peers()
	out := PeersJSON{Peers: make([]PeerJSON, len(ps))}
	for i, p := range ps {
		out.Peers[i] = peerToJSON(p)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *readRoutes) evidence(w http.ResponseWriter, _ *http.Request) {
	ev := s.read.Evidence()
	out := EvidenceListJSON{Evidence: make([]EvidenceJSON, len(ev)), VoteOffences: voteOffencesJSON(s.read.VoteOffences())}
	for i, e := range ev {
		out.Evidence[i] = EvidenceJSON{Sealer: e.Sealer, Slot: e.Slot, A: HeaderToJSON(&e.A), B: HeaderToJSON(&e.B)}
	}
	writeJSON(w, http.StatusOK, out)
}

func isHex64(s string) bool {
	_, err := types.ParseHash(s)
	return err == nil
}
