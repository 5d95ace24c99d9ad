package discovery

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// limiter is a table of token buckets keyed by client address (or address
// range). The table is bounded: when it is full, idle buckets (those that
// have refilled completely, which is the same as having none) are dropped,
// and clients that still do not fit share one overflow bucket. A flood from
// many addresses thus throttles only newcomers, never the whole table.
type limiter struct {
	mu        sync.Mutex
	rate      float64 // tokens per second
	burst     float64
	max       int
	buckets   map[string]*bucket
	overflow  bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst, max int) *limiter {
	return &limiter{
		rate:     rate,
		burst:    float64(burst),
		max:      max,
		buckets:  make(map[string]*bucket),
		overflow: bucket{tokens: float64(burst)},
	}
}

// refill brings b up to now and reports its tokens.
func (l *limiter) refill(b *bucket, now time.Time) float64 {
	if b.last.IsZero() {
		b.last = now
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens += dt * l.rate
		if b.tokens > l.burst {
			b.tokens = l.burst
		}
		b.last = now
	}
	return b.tokens
}

// allow takes one token for key, reporting false when none is left.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max && now.Sub(l.lastSweep) >= time.Second {
			l.sweepLocked(now)
		}
		if len(l.buckets) < l.max {
			b = &bucket{tokens: l.burst, last: now}
			l.buckets[key] = b
		} else {
			b = &l.overflow
		}
	}
	if l.refill(b, now) < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweepLocked drops buckets that have refilled; they carry no information.
func (l *limiter) sweepLocked(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if l.refill(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
}

func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKeys derives the rate-limit keys of a remote address: the host
// itself for IPv4 and its /64 for IPv6 (one IPv6 host owns a whole /64), and
// the surrounding range (/24 for IPv4, /48 for IPv6) so that a flood spread
// over one range is throttled as a whole.
func clientKeys(remoteAddr string) (ipKey, rangeKey string) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		// Not an IP (a unix socket, a test transport): one shared key.
		return "other", "other"
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		r, _ := ip.Prefix(24)
		return ip.String(), r.String()
	}
	p64, _ := ip.Prefix(64)
	p48, _ := ip.Prefix(48)
	return p64.String(), p48.String()
}
