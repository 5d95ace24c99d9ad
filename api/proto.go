package api

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"

	"github.com/go-chi/chi/v5"
)

const maxStatePage = 1000

// ourNode checks the {node} path segment: the prototype's routes answer only
// under this node's own address.
func (s *base) ourNode(w http.ResponseWriter, r *http.Request) bool {
	if p := chi.URLParam(r, "node"); strings.ToLower(p) != s.node {
		writeError(w, errorf(http.StatusNotFound, CodeUnknownNode, "this is node %s, not %q", s.node, truncate(p, 80)))
		return false
	}
	return true
}

// authorized checks the bearer token in constant time. No configured token
// means the route is closed.
func (s *submitRoutes) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return false
	}
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := strings.TrimSpace(h[len(prefix):])
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1
}

// protoSend is POST /{addr}/txn/: the node signs a transfer from its own
// account. It spends the node's coins, hence the token.
func (s *submitRoutes) protoSend(w http.ResponseWriter, r *http.Request) {
	if !s.ourNode(w, r) {
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ccoin"`)
		writeError(w, errorf(http.StatusUnauthorized, CodeUnauthorized, "a valid Authorization: Bearer <token> header is required"))
		return
	}
	body, e := readBody(w, r, s.cfg.MaxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	var req ProtoSendJSON
	if e := decodeStrict(body, &req); e != nil {
		writeError(w, e)
		return
	}
	to, err := parseAddress("sendto_address", req.SendtoAddress)
	if err != nil {
		s.writeErr(w, err, CodeNotFound)
		return
	}
	if len(req.Data) > types.MaxTxData {
		writeError(w, errorf(http.StatusBadRequest, CodeDataTooLarge, "data is %d bytes, the limit is %d", len(req.Data), types.MaxTxData))
		return
	}
	var data []byte
	if req.Data != "" {
		data = []byte(req.Data)
	}
	t, err := s.sub.SignAndSubmit(to, req.Amount, data)
	if err != nil {
		s.writeErr(w, err, CodeNotFound)
		return
	}
	writeJSON(w, http.StatusOK, protoTxToJSON(t))
}

// protoTx is POST /{addr}/txn/{id}/: the transaction if it is in block
// block_number of the canonical chain (or known at all when block_number is
// omitted), else null.
func (s *readRoutes) protoTx(w http.ResponseWriter, r *http.Request) {
	if !s.ourNode(w, r) {
		return
	}
	id, err := parseHash("transaction id", chi.URLParam(r, "id"))
	if err != nil {
		s.writeErr(w, err, CodeUnknownTx)
		return
	}
	body, e := readBody(w, r, s.cfg.MaxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	var req ProtoTxQueryJSON
	if len(strings.TrimSpace(string(body))) > 0 {
		if e := decodeStrict(body, &req); e != nil {
			writeError(w, e)
			return
		}
	}
	if req.BlockNumber == nil {
		ti, err := s.read.Tx(id)
		if err != nil || ti.Tx == nil {
			if err != nil && toError(err, CodeUnknownTx).Status >= 500 {
				s.writeErr(w, err, CodeUnknownTx)
				return
			}
			writeJSON(w, http.StatusOK, nil)
			return
		}
		writeJSON(w, http.StatusOK, protoTxToJSON(ti.Tx))
		return
	}
	b, err := s.read.BlockByNumber(*req.BlockNumber)
	if err != nil || b == nil {
		if err != nil && toError(err, CodeUnknownBlock).Status >= 500 {
			s.writeErr(w, err, CodeUnknownBlock)
			return
		}
		writeJSON(w, http.StatusOK, nil)
		return
	}
	for _, t := range b.Txs {
		if t.ID() == id {
			writeJSON(w, http.StatusOK, protoTxToJSON(t))
			return
		}
	}
	writeJSON(w, http.StatusOK, nil)
}

// protoCount is GET /{addr}/blk/cnt/: the height as a bare integer.
func (s *readRoutes) protoCount(w http.ResponseWriter, r *http.Request) {
	if !s.ourNode(w, r) {
		return
	}
	var n uint64
	if h := s.read.Head(); h != nil {
		n = h.Header.Number
	}
	writeJSON(w, http.StatusOK, n)
}

// protoBlock is GET /{addr}/blk/{n}/: the block in the prototype's shape with
// one page of the account state at that block.
func (s *readRoutes) protoBlock(w http.ResponseWriter, r *http.Request) {
	if !s.ourNode(w, r) {
		return
	}
	ns := chi.URLParam(r, "n")
	n, perr := strconv.ParseUint(ns, 10, 64)
	if perr != nil || n == 0 || ns[0] == '+' {
		writeError(w, errorf(http.StatusBadRequest, CodeBadRequest, "want a block number (1 or more), got %q", truncate(ns, 80)))
		return
	}
	limit, e := queryUint(r, "state_limit", maxStatePage, maxStatePage)
	if e != nil {
		writeError(w, e)
		return
	}
	var after *crypto.Address
	if v := r.URL.Query().Get("state_after"); v != "" {
		a, err := parseAddress("state_after", v)
		if err != nil {
			s.writeErr(w, err, CodeNotFound)
			return
		}
		after = &a
	}
	b, err := s.read.BlockByNumber(n)
	if err == nil && b == nil {
		err = ErrNotFound
	}
	if err != nil {
		s.writeErr(w, err, CodeUnknownBlock)
		return
	}
	accounts, more, err := s.read.AccountsAt(n, after, int(limit))
	if err != nil {
		s.writeErr(w, err, CodeUnknownBlock)
		return
	}
	h := &b.Header
	out := ProtoBlockJSON{
		Number:     h.Number,
		ID:         b.ID().String(),
		HashTxns:   h.TxRoot.String(),
		HashState:  h.StateRoot.String(),
		Body:       make([]ProtoTxJSON, len(b.Txs)),
		Nonce:      h.PowNonce,
		Time:       h.Time,
		Reward:     h.Reward,
		Difficulty: h.Difficulty,
		State:      make(map[string]ProtoAccountJSON, len(accounts)),
	}
	out.Data, out.DataHex = DataToJSON(h.Data)
	if !h.IsGenesis() {
		out.HashParent, out.Coinbase = h.Parent.String(), h.Sealer.String()
	}
	for i, t := range b.Txs {
		out.Body[i] = protoTxToJSON(t)
	}
	var last string
	for i, a := range accounts {
		if uint64(i) >= limit {
			more = true
			break
		}
		addr := a.Address.String()
		out.State[addr] = ProtoAccountJSON{Address: addr, Nonce: a.Nonce, Balance: a.Balance}
		last = addr
	}
	if more {
		out.StateTruncated, out.StateNext = true, last
	}
	writeJSON(w, http.StatusOK, out)
}
