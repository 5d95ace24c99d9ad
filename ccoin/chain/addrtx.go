package chain

import (
	"encoding/binary"
	"fmt"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
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
	var below []byte // the key suffix to stop before: number(8) ‖ index(4)
	if before > 0 {
		below = addrTxKey(a, before, 0)[len(addrTxPrefix(a)):]
	}
	it := kv.ReverseIterator(c.db, addrTxPrefix(a), below)
	defer it.Release()
	var out []AddressTx
	for len(out) < limit && it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != 33 || len(v) != 32 {
			return nil, c.corrupt("read address index", fmt.Errorf("entry of %d+%d bytes", len(k), len(v)))
		}
		t := AddressTx{Number: binary.BigEndian.Uint64(k[21:]), Index: int(binary.BigEndian.Uint32(k[29:]))}
		copy(t.TxID[:], v)
		out = append(out, t)
	}
	if err := it.Error(); err != nil {
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
