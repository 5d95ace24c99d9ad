package cryptotest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"ccoin/ccoin/crypto"
)

var (
	mu   sync.Mutex
	pool []*crypto.PrivateKey
)

// Keys returns n distinct keys. Within one test binary they are always the
// same keys in the same order, so Keys(tb, 3) is a prefix of Keys(tb, 5).
func Keys(tb testing.TB, n int) []*crypto.PrivateKey {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if missing := n - len(pool); missing > 0 {
		fresh := make([]*crypto.PrivateKey, missing)
		errs := make([]error, missing)
		var wg sync.WaitGroup
		for i := range fresh {
			wg.Go(func() { fresh[i], errs[i] = crypto.GenerateKey() })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			tb.Fatal(err)
		}
		pool = append(pool, fresh...)
	}
	return slices.Clone(pool[:n])
}
