package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"ccoin/ccoin/crypto"
)

// AccountTxsReader is what GET /accounts/{address}/txs needs: a node that
// keeps an index of transactions by address. Without it (Deps.AccountTxs
// nil) that route answers 404 not_found.
type AccountTxsReader interface {
	// AccountTxs lists the canonical transactions from or to a, newest
	// first, at most limit, only in blocks below before when before > 0.
	AccountTxs(a crypto.Address, before uint64, limit int) ([]TxInfo, error)
}

const (
	defaultAccountTxsLimit = 20
	maxAccountTxsLimit     = 100
)

// AccountTxsJSON is GET /accounts/{address}/txs.
type AccountTxsJSON struct {
	Address      string         `json:"address"`
	Transactions []TxStatusJSON `json:"transactions"`
}

func (s *readRoutes) accountTxsRoute(w http.ResponseWriter, r *http.Request) {
	a, err := parseAddress("address", chi.URLParam(r, "address"))
	if err != nil {
		s.writeErr(w, err, CodeNotFound)
		return
	}
	limit, e := queryUint(r, "limit", defaultAccountTxsLimit, maxAccountTxsLimit)
	if e != nil {
		writeError(w, e)
		return
	}
	before, e := queryUint(r, "before", 0, 0)
	if e != nil {
		writeError(w, e)
		return
	}
	b := s.accountTxs
	if b == nil {
		writeError(w, errorf(http.StatusNotFound, CodeNotFound, "this node keeps no index by address"))
		return
	}
	infos, err := b.AccountTxs(a, before, int(limit))
	if err != nil {
		s.writeErr(w, err, CodeNotFound)
		return
	}
	out := AccountTxsJSON{Address: a.String(), Transactions: make([]TxStatusJSON, 0, len(infos))}
	for _, ti := range infos {
		if ti.Tx != nil {
			out.Transactions = append(out.Transactions, txStatusToJSON(ti))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
