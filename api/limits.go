package api

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Defaults for the limits in Config.
const (
	DefaultMaxSubmits      = 8      // concurrent POST /txs requests (ccoin bench uses 4 per node)
	DefaultVerifyRate      = 5000   // signature checks per second per client IP
	DefaultVerifyBurst     = 10_000 // = MaxBatchTxs, so any valid batch can pass
	DefaultMaxStreamsPerIP = 32     // /events streams per client IP (the node allows 1,024 in all)
	DefaultMaxConns        = 2048   // open HTTP connections, all clients together

	maxLimiterKeys = 10_000 // per-IP tables; beyond this, newcomers share one bucket
)

// clientKey is the key one client's limits are kept under: its IP, or for
// IPv6 its /64 (one host commonly owns a whole /64). loopback reports a
// client on the node's own machine.
func clientKey(remoteAddr string) (key string, loopback bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "other", false
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String(), ip.IsLoopback()
	}
	p, _ := ip.Prefix(64)
	return p.String(), ip.IsLoopback()
}

// retryAfter sets Retry-After to d rounded up to whole seconds (at least 1).
func retryAfter(w http.ResponseWriter, d time.Duration) {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	w.Header().Set("Retry-After", strconv.FormatInt(s, 10))
}

// budget is a table of token buckets, one per client key: what each client
// may make the node verify. A request takes all the tokens it needs at once
// or none, and gives back what it did not use. The table is bounded: when it
// is full, buckets that have refilled (which carry no information) are
// dropped, and clients that still do not fit share one overflow bucket.
type budget struct {
	mu        sync.Mutex
	rate      float64 // tokens per second
	burst     float64
	now       func() time.Time
	buckets   map[string]*bucket
	overflow  bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newBudget(rate float64, burst int, now func() time.Time) *budget {
	return &budget{rate: rate, burst: float64(burst), now: now, buckets: make(map[string]*bucket),
		overflow: bucket{tokens: float64(burst)}}
}

func (b *budget) refill(k *bucket, now time.Time) {
	if k.last.IsZero() {
		k.last = now
	}
	if dt := now.Sub(k.last).Seconds(); dt > 0 {
		k.tokens = min(b.burst, k.tokens+dt*b.rate)
		k.last = now
	}
}

func (b *budget) bucket(key string, now time.Time) *bucket {
	k := b.buckets[key]
	if k != nil {
		return k
	}
	if len(b.buckets) >= maxLimiterKeys && now.Sub(b.lastSweep) >= time.Second {
		b.lastSweep = now
		for key, k := range b.buckets {
			if b.refill(k, now); k.tokens >= b.burst {
				delete(b.buckets, key)
			}
		}
	}
	if len(b.buckets) >= maxLimiterKeys {
		return &b.overflow
	}
	k = &bucket{tokens: b.burst, last: now}
	b.buckets[key] = k
	return k
}

// take takes n tokens for key. When there are not enough it takes none and
// says how long until there will be.
func (b *budget) take(key string, n int) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k := b.bucket(key, now)
	b.refill(k, now)
	need := float64(n)
	if need > b.burst {
		need = b.burst // a request bigger than the burst waits for a full bucket
	}
	if k.tokens >= need {
		k.tokens -= float64(n)
		return true, 0
	}
	return false, time.Duration((need - k.tokens) / b.rate * float64(time.Second))
}

// give returns n unused tokens to key.
func (b *budget) give(key string, n int) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if k := b.buckets[key]; k != nil {
		k.tokens = min(b.burst, k.tokens+float64(n))
	} else {
		b.overflow.tokens = min(b.burst, b.overflow.tokens+float64(n))
	}
}

// counter bounds how many of something each client key holds at once.
type counter struct {
	mu  sync.Mutex
	max int
	n   map[string]int
}

func newCounter(max int) *counter { return &counter{max: max, n: make(map[string]int)} }

// acquire takes one slot for key; release gives it back.
func (c *counter) acquire(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] >= c.max {
		return false
	}
	c.n[key]++
	return true
}

func (c *counter) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] <= 1 {
		delete(c.n, key)
	} else {
		c.n[key]--
	}
}

// limitListener accepts at most max connections at once; further clients
// wait in the kernel's backlog until one closes (as
// golang.org/x/net/netutil.LimitListener, here with the standard library
// only). Per-request and per-client limits mean nothing if connections
// themselves are free.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, max), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
