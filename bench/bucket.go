package bench

import (
	"context"
	"sync"
	"time"
)

// bucket is a token bucket that lends: take subtracts at once and the
// caller sleeps off any deficit, so concurrent takers queue up fairly and
// the long-run rate never exceeds rate.
type bucket struct {
	rate  float64 // tokens per second
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) bool
}

func newBucket(rate float64, burst int, now func() time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now(), now: now, sleep: sleep}
}

// reserve takes n tokens and returns how long the caller must wait before
// using them.
func (b *bucket) reserve(n int) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// take waits until n tokens are available; false when ctx ended first.
func (b *bucket) take(ctx context.Context, n int) bool {
	if d := b.reserve(n); d > 0 {
		return b.sleep(ctx, d)
	}
	return ctx.Err() == nil
}
