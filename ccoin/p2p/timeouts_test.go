package p2p

import (
	"net"
	"strings"
	"testing"
	"time"

	"ccoin/ccoin/p2p/wire"
)

func TestTimeoutsAndKeepAlive(t *testing.T) {
	fast := func(c *Config) {
		c.PingInterval = 50 * time.Millisecond
		c.IdleTimeout = 400 * time.Millisecond
		c.HandshakeTimeout = 400 * time.Millisecond
	}
	a := startNode(t, 0, fast)
	b := startNode(t, 1, fast)
	link(t, b, a)

	// A client that never sends HEY is cut off by the handshake timeout.
	silent := dialPlain(t, a.Addr())
	silent.waitClosed(t)
	// So does one that completes TLS and then never sends HEY.
	quiet, err := dialTLS(t, a.Addr(), testKey(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	quiet.waitClosed(t)

	// A handshaken client that then stays silent is dropped as idle.
	rp, ack := dialRaw(t, a.Addr(), testKey(t, 2), testHello(testKey(t, 2), testNetworkID, testChainID, "127.0.0.1:41001"))
	if ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	rp.waitClosed(t)
	waitFor(t, "idle reason", func() bool { return contains(a.logs.String(), "idle timeout") })

	// Pings keep honest peers connected well past the idle timeout.
	time.Sleep(time.Second)
	if !a.hasPeer(b) || !b.hasPeer(a) {
		t.Fatal("keep-alive failed")
	}
}

func TestEvents(t *testing.T) {
	a := startNode(t, 0, nil)
	b := startNode(t, 1, nil)
	link(t, b, a)
	next := func() PeerEvent {
		select {
		case ev := <-a.Events():
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return PeerEvent{}
	}
	if ev := next(); ev.Type != EventConnected || ev.Peer.ID != b.ID() {
		t.Fatalf("event %+v", ev)
	}
	a.Ban(b.ID(), "test ban")
	if ev := next(); ev.Type != EventDisconnected || ev.Reason != "banned: test ban" {
		t.Fatalf("event %v %q", ev.Type, ev.Reason)
	}
}

// A bootstrap peer that was unreachable for a while is redialled within
// PriorityRedial of coming back (an uncapped backoff would wait 8 s or more).
func TestPriorityRedial(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // down until b listens here
	a := startNode(t, 0, func(c *Config) {
		c.BootstrapPeers = []string{addr}
		c.PriorityRedial = 300 * time.Millisecond
	})
	// After four failures the uncapped backoff is 8 s or more.
	waitFor(t, "four failed dials", func() bool { return strings.Count(a.logs.String(), "dial failed") >= 4 })
	b := startNode(t, 1, func(c *Config) { c.ListenAddr = addr })
	start := time.Now()
	waitFor(t, "redial", func() bool { return a.hasPeer(b) })
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("bootstrap peer redialled %v after it came back", d)
	}
}
