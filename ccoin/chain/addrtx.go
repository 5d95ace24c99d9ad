package chain

import (
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/rawdb"
	"ccoin/ccoin/types"
)

// MaxAddressTxs bounds one AddressTxs answer.
const MaxAddressTxs = 100

// DefaultAddressIndexBlocks is how many of the newest canonical blocks the
// index by address covers unless configured: about 28 hours of one-second
// slots. Each new block drops the entries of the block that far below it.
const DefaultAddressIndexBlocks = 100_000

// AddressTx locates a canonical transaction that an address sent or
// received.
type AddressTx struct {
	Number uint64 // block number
	Index  int    // position in the block
	TxID   types.Hash
}

// AddressTxs lists the canonical transactions from or to a, newest first:
// at most limit (capped at MaxAddressTxs), and only those in blocks below
// before when before > 0 (to page back). The index is written with each
// block, in the same batch, and undone by a reorg; it covers the newest
// AddressIndexBlocks canonical blocks, not blocks imported before it
// existed nor a snapshot's base.
func (c *Chain) AddressTxs(a crypto.Address, before uint64, limit int) ([]AddressTx, error) {
	limit = max(0, min(limit, MaxAddressTxs))
	var out []AddressTx
	if limit == 0 {
		return out, nil
	}
	err := rawdb.ReadAddressTxs(c.db, a, before, func(number uint64, index int, txid types.Hash) bool {
		out = append(out, AddressTx{Number: number, Index: index, TxID: txid})
		return len(out) < limit
	})
	if err != nil {
		return nil, c.corrupt("read address index", err)
	}
	return out, nil
}

// pruneAddrTx drops, in batch, the index entries of the canonical block
// that falls out of the window when block number becomes canonical. It is
// best effort: a block it cannot read (below a snapshot's base) has none.
// A reorg does not bring back what an abandoned branch pruned, so after one
// the window's oldest few blocks may lack entries.
func (c *Chain) pruneAddrTx(batch kv.Batch, number uint64) {
	w := c.cfg.AddressIndexBlocks
	if number <= w {
		return
	}
	old := number - w
	id, err := c.CanonicalID(old)
	if err != nil {
		return
	}
	b, err := c.Block(id)
	if err != nil {
		c.log.Debug("address index: cannot read the block leaving the window", "number", old, "error", err)
		return
	}
	for i, tx := range b.Txs {
		deleteAddrTx(batch, old, i, tx)
	}
}
