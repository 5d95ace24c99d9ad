package state

import (
	"fmt"

	"ccoin/ccoin/types"
)

// ApplyBlock executes a block's transactions in order and credits the
// reward to the sealer. Signatures must have been verified already. Any
// failing transaction makes the whole block invalid; the error names it.
func ApplyBlock(o *Overlay, b *types.Block, chainID types.Hash) error {
	seen := make(map[types.Hash]struct{}, len(b.Txs))
	for i, tx := range b.Txs {
		id := tx.ID()
		if _, dup := seen[id]; dup {
			return fmt.Errorf("%w: tx %d (%s)", ErrDuplicateTx, i, id)
		}
		seen[id] = struct{}{}
		if err := o.ApplyTx(tx, chainID); err != nil {
			return fmt.Errorf("tx %d (%s): %w", i, id, err)
		}
	}
	return o.Credit(b.Header.Sealer, b.Header.Reward)
}

// BuildTxs applies candidate transactions in order, keeping those that are
// valid and dropping the rest, for a block of at most max transactions
// whose encodings add up to at most maxBytes. It stops at the first
// candidate that would not fit: the rest wait for the next block.
func BuildTxs(o *Overlay, candidates []*types.Transaction, chainID types.Hash, max, maxBytes int) (kept, dropped []*types.Transaction) {
	size := 0
	for _, tx := range candidates {
		if len(kept) == max {
			break
		}
		n := tx.EncodedLen()
		if size+n > maxBytes {
			break
		}
		if err := o.ApplyTx(tx, chainID); err != nil {
			dropped = append(dropped, tx)
			continue
		}
		kept = append(kept, tx)
		size += n
	}
	return kept, dropped
}
