package node

import (
	"fmt"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// AccountTxs serves GET /accounts/{address}/txs from the chain's index by
// address.
func (b *apiReader) AccountTxs(a crypto.Address, before uint64, limit int) ([]api.TxInfo, error) {
	c := b.chain
	refs, err := c.AddressTxs(a, before, limit)
	if err != nil {
		return nil, err
	}
	head, _ := c.Head()
	final, _ := c.Finalized()
	out := make([]api.TxInfo, 0, len(refs))
	var blk *types.Block
	for _, r := range refs {
		if blk == nil || blk.Header.Number != r.Number {
			if blk, err = c.BlockByNumber(r.Number); err != nil {
				return nil, fmt.Errorf("address index points at block %d: %w", r.Number, err)
			}
		}
		// A head moving between the index read and this one can leave an
		// entry behind; skip it rather than show another transaction.
		if r.Index >= len(blk.Txs) || blk.Txs[r.Index].ID() != r.TxID {
			continue
		}
		id := blk.ID()
		info := api.TxInfo{Tx: blk.Txs[r.Index], Status: api.TxIncluded, BlockID: &id, BlockNumber: r.Number, Index: r.Index}
		if head.Number >= r.Number {
			info.Confirmations = head.Number - r.Number + 1
		}
		if r.Number <= final.Number {
			info.Status = api.TxFinalized
		}
		out = append(out, info)
	}
	return out, nil
}
