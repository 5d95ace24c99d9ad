package state

import (
	"fmt"
	"runtime"
	"sync"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// VerifyTxs checks the signatures of txs in parallel, skipping those for
// which skip returns true (already verified by the pool). It returns the
// index and error of the first bad one, or -1.
func VerifyTxs(txs []*types.Transaction, keys *crypto.KeyCache, skip func(*types.Transaction) bool) (int, error) {
	workers := runtime.GOMAXPROCS(0)
	if len(txs) < 8 || workers == 1 {
		for i, tx := range txs {
			if skip != nil && skip(tx) {
				continue
			}
			if err := tx.VerifySignature(keys); err != nil {
				return i, fmt.Errorf("%w: tx %s: %w", ErrBadSignature, tx.ID(), err)
			}
		}
		return -1, nil
	}
	errs := make([]error, len(txs))
	var (
		wg   sync.WaitGroup
		next = make(chan int, len(txs))
	)
	for i := range txs {
		next <- i
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for i := range next {
				tx := txs[i]
				if skip != nil && skip(tx) {
					continue
				}
				errs[i] = tx.VerifySignature(keys)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return i, fmt.Errorf("%w: tx %s: %w", ErrBadSignature, txs[i].ID(), err)
		}
	}
	return -1, nil
}
