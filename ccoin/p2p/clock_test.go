package p2p

import (
	"net"
	"testing"
	"time"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/p2p/memnet"
	"ccoin/ccoin/p2p/wire"
)

// With a fake clock, bans, idle peers and stalled handshakes end when the
// clock says so, not after real time: a ban holds for an hour of fake time
// and lifts the moment it has passed, a silent peer is dropped exactly at
// IdleTimeout, and a client that never starts TLS is cut off at
// HandshakeTimeout. No step waits for real time to pass.
func TestFakeClockBansIdleAndHandshake(t *testing.T) {
	fc := clock.NewFake(time.Unix(1_700_000_000, 0))
	mn := memnet.New(1)
	d := startNode(t, 1, func(c *Config) {
		c.Transport = mn.Host("d")
		c.ListenAddr = "d:7000"
		c.Clock = fc
		c.BanDuration = time.Hour
		c.IdleTimeout = 10 * time.Minute // far beyond the OS-clock backstop this test needs
		c.PingInterval = time.Hour       // no keep-alive traffic of our own
		c.HandshakeTimeout = 10 * time.Minute
	})
	waitFor(t, "the dialer's ticker", func() bool { return fc.Timers() == 1 })
	const base = 1
	// settle waits (in real time) until the node has started n more timers
	// on the fake clock, so that an Advance finds them.
	settle := func(what string, n int) {
		t.Helper()
		waitFor(t, what, func() bool { return fc.Timers() == base+n })
	}

	// Ban: an invalid block gets host x and the key banned for an hour.
	evil, fresh := testKey(t, 2), testKey(t, 3)
	tc, ack := dialMem(t, mn.Host("x"), d.Addr(), evil)
	if ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	h, body, _ := wire.Encode(&wire.Block{Block: []byte("bad block")})
	wire.WriteFrame(tc, h, body)
	waitFor(t, "ban", func() bool { return d.isBanned(ipBanKey("x")) && len(d.Peers()) == 0 })
	settle("the banned peer's timers stopped", 0)
	fc.Advance(time.Hour - time.Second)
	if _, ack := dialMem(t, mn.Host("x"), d.Addr(), fresh); ack != "" {
		t.Fatalf("a banned host got %q a second before the ban ends", ack)
	}
	settle("the refused handshake's timer stopped", 0)
	fc.Advance(time.Second + time.Millisecond)
	if d.isBanned(ipBanKey("x")) || d.isBanned(addrBanKey(evil.Address())) {
		t.Fatal("ban outlived BanDuration")
	}

	// Idle: a handshaken peer that never sends is dropped at IdleTimeout.
	silent, ack := dialMem(t, mn.Host("x"), d.Addr(), fresh)
	if ack != wire.HdrHelloAck {
		t.Fatalf("after the ban: handshake answer %q", ack)
	}
	_ = silent
	// The peer's ping, tx-flush and PEX tickers and its idle watch.
	// Its reader must be waiting for a frame (the idle time counts from
	// then, on the fake clock) and its four timers running. The handshake's
	// timer goroutine stops its timer a moment after the peer starts, so a
	// count of four could include it while the idle watch had not begun:
	// the watch then started after the first Advance and the test timed out
	// (about 1 run in 15 under -race, also at the start of this session).
	waitFor(t, "the peer's reader", func() bool {
		ps := d.allPeers()
		return len(ps) == 1 && ps[0].readSince.Load() != 0
	})
	time.Sleep(50 * time.Millisecond)
	settle("the peer's timers", 4)
	fc.Advance(10*time.Minute - time.Second)
	time.Sleep(50 * time.Millisecond) // a wrong early drop would show by now
	if len(d.Peers()) != 1 {
		t.Fatal("peer dropped before IdleTimeout")
	}
	fc.Advance(time.Second)
	waitFor(t, "idle drop", func() bool { return len(d.Peers()) == 0 && contains(d.logs.String(), "idle timeout") })

	// Handshake: a client that connects and sends nothing is cut off.
	settle("the idle peer's timers stopped", 0)
	conn, err := mn.Host("y").Dial(t.Context(), d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	settle("the handshake timer", 1)
	closed := make(chan error, 1)
	go func() {
		_, err := conn.Read(make([]byte, 1))
		closed <- err
	}()
	fc.Advance(10 * time.Minute)
	select {
	case err := <-closed:
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("read: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stalled handshake not cut off at HandshakeTimeout")
	}
	waitFor(t, "timeout logged", func() bool { return contains(d.logs.String(), "handshake failed: timed out") })
}
