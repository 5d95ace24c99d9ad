package apitest

import (
	"ccoin/api"
	"ccoin/ccoin/crypto"
)

// AccountTxs implements api.AccountTxsReader by scanning the fake chain.
func (f *Fake) AccountTxs(a crypto.Address, before uint64, limit int) ([]api.TxInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.TxInfo
	for i := len(f.chain) - 1; i >= 0 && len(out) < limit; i-- {
		b := f.chain[i]
		n := b.Header.Number
		if before > 0 && n >= before {
			continue
		}
		for j := len(b.Txs) - 1; j >= 0 && len(out) < limit; j-- {
			t := b.Txs[j]
			if t.From != a && t.To != a {
				continue
			}
			id := b.ID()
			status := api.TxIncluded
			if n <= f.finalized {
				status = api.TxFinalized
			}
			out = append(out, api.TxInfo{Tx: t, Status: status, BlockID: &id, BlockNumber: n, Index: j,
				Confirmations: uint64(len(f.chain)) - n + 1})
		}
	}
	return out, nil
}

var _ api.AccountTxsReader = (*Fake)(nil)
