package p2p

import (
	"crypto/tls"
	"fmt"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/p2p/memnet"
	"ccoin/ccoin/p2p/wire"
)

// backlogTxs makes n distinct transactions of size bytes.
func backlogTxs(tag string, n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		tx := make([]byte, size)
		copy(tx, fmt.Sprintf("%s-%d-", tag, i))
		out[i] = tx
	}
	return out
}

// onlyPeer is the node's one peer (nil if none).
func onlyPeer(n *testNode) *peer {
	ps := n.allPeers()
	if len(ps) != 1 {
		return nil
	}
	return ps[0]
}

// txBacklog is what a peer's backlog holds: its cost and length.
func (p *peer) txBacklog() (cost, count int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txBytes, len(p.txq)
}

// txReader reads a raw peer's connection in the background once started,
// remembering every transaction that arrives.
type txReader struct {
	mu   sync.Mutex
	got  map[string]bool
	read chan struct{}
	err  error
}

func readTxs(conn *tls.Conn) *txReader {
	r := &txReader{got: map[string]bool{}, read: make(chan struct{})}
	go func() {
		<-r.read
		for {
			h, body, err := wire.ReadFrame(conn, wire.DefaultMaxFrame)
			if err != nil {
				r.mu.Lock()
				r.err = err
				r.mu.Unlock()
				return
			}
			if h != wire.HdrTxs {
				continue
			}
			m, err := wire.Decode(h, body)
			if err != nil {
				continue
			}
			r.mu.Lock()
			for _, tx := range m.(*wire.Txs).Txs {
				r.got[string(tx)] = true
			}
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *txReader) start() { close(r.read) }

func (r *txReader) count() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got), r.err
}

// A validator that stops reading is not dropped for the transactions it
// falls behind on: its backlog stops at TxBacklog, Backlogged turns true
// (it is the node's only peer), and once it reads again the backlog
// drains, Backlogged turns false, and the transactions that did not fit
// were left unknown to it, so offering them again (the node's regossip)
// delivers every one.
func TestTxBacklogBoundedPeerKept(t *testing.T) {
	const backlog = 256 << 10
	mn := memnet.New(1)
	v := testKey(t, 2)
	d := startNode(t, 1, func(c *Config) {
		c.Transport = mn.Host("d")
		c.ListenAddr = "d:7000"
		c.TxBacklog = backlog
		c.Validators = append(c.Validators, v.Address())
	})
	tc, ack := dialMem(t, mn.Host("v"), d.Addr(), v)
	if ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	r := readTxs(tc)
	waitFor(t, "peer registered", func() bool { return onlyPeer(d) != nil })
	p := onlyPeer(d)
	if d.Backlogged() {
		t.Fatal("backlogged with nothing queued")
	}

	// 8 MiB: far more than memnet's window, the writer's buffer and a
	// batch in flight, so the backlog fills and the rest is left out.
	txs := backlogTxs("a", 8192, 1024)
	for i := 0; i < len(txs); i += 512 {
		d.BroadcastTxs(txs[i : i+512])
		if cost, _ := p.txBacklog(); cost > backlog {
			t.Fatalf("backlog %d bytes over its bound %d", cost, backlog)
		}
	}
	waitFor(t, "backlogged", d.Backlogged)
	if cost, n := p.txBacklog(); cost > backlog || n == 0 {
		t.Fatalf("backlog %d txs, %d bytes; bound %d", n, cost, backlog)
	}
	if !d.hasPeerID(p.info.ID) || p.isClosed() {
		t.Fatalf("backlogged peer dropped:\n%s", d.logs.String())
	}

	r.start()
	waitFor(t, "backlog drained", func() bool { return !d.Backlogged() })
	// Offer everything again, as the regossip does, until all arrived:
	// what did not fit the first time was not marked known.
	waitFor(t, "every transaction delivered", func() bool {
		n, err := r.count()
		if err != nil {
			t.Fatalf("peer connection: %v", err)
		}
		if n < len(txs) {
			d.BroadcastTxs(txs)
		}
		return n == len(txs)
	})
	if p.isClosed() || contains(d.logs.String(), "dropping") {
		t.Fatalf("peer dropped:\n%s", d.logs.String())
	}
}

// An inbound stranger that stops reading gets an eighth of TxBacklog, and
// does not make the node backlogged: it is free to make, and gossip flows
// through the node's other peers.
func TestStrangerBacklogDoesNotBlockClients(t *testing.T) {
	const backlog = 512 << 10
	mn := memnet.New(1)
	d := startNode(t, 1, func(c *Config) {
		c.Transport = mn.Host("d")
		c.ListenAddr = "d:7000"
		c.TxBacklog = backlog
	})
	_, ack := dialMem(t, mn.Host("s"), d.Addr(), testKey(t, 2))
	if ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	waitFor(t, "peer registered", func() bool { return onlyPeer(d) != nil })
	p := onlyPeer(d)
	if !p.stranger {
		t.Fatal("an inbound non-validator is not a stranger")
	}
	txs := backlogTxs("s", 4096, 1024)
	for i := 0; i < len(txs); i += 256 {
		d.BroadcastTxs(txs[i : i+256])
	}
	waitFor(t, "stranger's backlog full", func() bool {
		cost, _ := p.txBacklog()
		return cost > backlog/8-2048
	})
	if cost, _ := p.txBacklog(); cost > backlog/8 || d.strangerTxs.Load() != int64(cost) {
		t.Fatalf("stranger backlog %d bytes (network counts %d); bound %d", cost, d.strangerTxs.Load(), backlog/8)
	}
	if d.Backlogged() {
		t.Fatal("a stranger's backlog made the node backlogged")
	}
	if p.isClosed() {
		t.Fatal("stranger dropped for its backlog")
	}
	// Closing it gives its share back.
	p.close("test")
	waitFor(t, "share released", func() bool { return d.strangerTxs.Load() == 0 })
}

// A peer that reads slowly but steadily through a long transaction
// backlog is kept, however long the writer has been busy with it; one
// whose writes then make no progress for IdleTimeout is dropped. The
// clock is fake, so only the writer's progress decides.
func TestSlowPeerKeptWhileItReads(t *testing.T) {
	const idle = time.Minute
	fc := clock.NewFake(time.Unix(1_700_000_000, 0))
	mn := memnet.New(1)
	v := testKey(t, 2)
	d := startNode(t, 1, func(c *Config) {
		c.Transport = mn.Host("d")
		c.ListenAddr = "d:7000"
		c.Clock = fc
		c.IdleTimeout = idle // also the socket backstop, in real time: far beyond this test
		c.PingInterval = time.Hour
		c.TxBacklog = 8 << 20
		c.Validators = append(c.Validators, v.Address())
	})
	tc, ack := dialMem(t, mn.Host("v"), d.Addr(), v)
	if ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	waitFor(t, "peer registered", func() bool { return onlyPeer(d) != nil })
	p := onlyPeer(d)
	// alive sends a frame, so only the writer's side is in question, and
	// waits until the reader has taken it at the clock's present time.
	alive := func() {
		t.Helper()
		h, body, _ := wire.Encode(&wire.Pong{Nonce: 1})
		if err := wire.WriteFrame(tc, h, body); err != nil {
			t.Fatal(err)
		}
		now := fc.Now().UnixNano()
		waitFor(t, "pong read", func() bool { return p.readSince.Load() == now })
	}
	// readSome takes n bytes off the connection.
	readSome := func(n int) {
		t.Helper()
		buf := make([]byte, 32<<10)
		for n > 0 {
			k, err := tc.Read(buf[:min(n, len(buf))])
			if err != nil {
				t.Fatalf("peer connection: %v", err)
			}
			n -= k
		}
	}
	// advance moves the clock and waits until watchIdle has looked (its
	// timer is waiting again) or the peer is gone.
	advance := func(dt time.Duration) {
		t.Helper()
		before := fc.Timers()
		fc.Advance(dt)
		waitFor(t, "watchIdle looked", func() bool { return p.isClosed() || fc.Timers() == before })
	}

	// 6 MiB, written in one go of the writer: several times what the link
	// holds.
	txs := backlogTxs("slow", 6144, 1024)
	for i := 0; i < len(txs); i += 1024 {
		d.BroadcastTxs(txs[i : i+1024])
	}
	waitFor(t, "writer blocked", func() bool { return p.writeSince.Load() != 0 })
	start := p.writeSince.Load()

	alive()
	fc.Advance(idle * 2 / 3)
	readSome(1 << 20)
	waitFor(t, "write progress", func() bool { return p.writeSince.Load() > start })
	alive()
	advance(idle * 2 / 3) // 4/3 IdleTimeout since the writer began
	if p.isClosed() {
		t.Fatalf("a peer that reads was dropped:\n%s", d.logs.String())
	}

	// Now it stops reading: IdleTimeout after its last progress, it goes.
	// (The writer may have begun its present write at any of the times
	// above, after a batch ended: allow IdleTimeout from the latest.)
	for step := 0; !p.isClosed(); step++ {
		if step == 3 {
			t.Fatal("a peer whose writes made no progress for IdleTimeout was kept")
		}
		alive()
		advance(idle / 2)
	}
	if !contains(d.logs.String(), "dropping stalled peer") {
		t.Fatalf("not dropped for its writes:\n%s", d.logs.String())
	}
}

func (n *testNode) hasPeerID(id uint64) bool {
	for _, p := range n.Peers() {
		if p.ID == id {
			return true
		}
	}
	return false
}
