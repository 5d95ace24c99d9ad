package p2p

import "sync"

// sendBudget is the node-wide bound on bytes queued as answers to peers'
// requests. Takers wait for room instead of failing, so a peer that asks
// and never reads only stalls its own reader.
type sendBudget struct {
	mu    sync.Mutex
	limit int64
	used  int64
	peak  int64         // highest used, for tests and logs
	freed chan struct{} // closed and replaced when bytes are released
}

func newSendBudget(limit int) *sendBudget {
	return &sendBudget{limit: int64(limit), freed: make(chan struct{})}
}

// tryTake takes n bytes if they fit; otherwise it returns a channel
// closed when bytes are next released.
func (b *sendBudget) tryTake(n int64) (bool, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used > 0 && b.used+n > b.limit {
		return false, b.freed
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return true, nil
}

func (b *sendBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

func (b *sendBudget) stats() (used, peak, limit int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak, b.limit
}

// take takes n bytes whether or not they fit (a correction to a taken
// estimate, never a new claim).
func (b *sendBudget) take(n int64) {
	b.mu.Lock()
	b.used += n
	b.peak = max(b.peak, b.used)
	b.mu.Unlock()
}
