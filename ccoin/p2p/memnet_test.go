package p2p

import (
	"context"
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p/memnet"
	"ccoin/ccoin/p2p/wire"
)

// Three nodes over the in-memory transport, with delay and loss on every
// link: gossip flows; a node cut off both ways loses its links (no FIN
// crosses a cut; idle timeouts decide) and misses gossip; after healing it
// reconnects and hears new blocks; a one-way cut drops the link it
// affects while gossip still arrives by the remaining path.
func TestMemnetPartitionsAndHeal(t *testing.T) {
	mn := memnet.New(7)
	names := []string{"a", "b", "c"}
	for _, x := range names {
		for _, y := range names {
			if x != y {
				mn.SetLink(x, y, memnet.Link{Delay: 5 * time.Millisecond, Loss: 0.05, RTO: 20 * time.Millisecond})
			}
		}
	}
	nodes := make([]*testNode, len(names))
	for i, name := range names {
		var boot []string
		for j, other := range names {
			if j < i {
				boot = append(boot, other+":7000")
			}
		}
		nodes[i] = startNode(t, i, func(c *Config) {
			c.Transport = mn.Host(name)
			c.ListenAddr = name + ":7000"
			c.BootstrapPeers = boot
			c.PingInterval = 100 * time.Millisecond
			c.IdleTimeout = 700 * time.Millisecond
			c.PriorityRedial = 200 * time.Millisecond
			c.HandshakeTimeout = 2 * time.Second
		})
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	meshed := func() bool {
		return a.hasPeer(b) && a.hasPeer(c) && b.hasPeer(c) && b.hasPeer(a) && c.hasPeer(a) && c.hasPeer(b)
	}
	waitFor(t, "full mesh", meshed)
	if p := a.Peers()[0]; p.RemoteAddr == "" || contains(p.RemoteAddr, "127.0.0.1") {
		t.Fatalf("not over memnet: %+v", p)
	}
	gossip := func(from *testNode, name string) []byte {
		blk := testBlock(name, 2)
		from.BroadcastBlock(blk)
		return blk
	}
	blk := gossip(a, "block 1")
	waitFor(t, "block 1 everywhere", func() bool { return b.h.hasBlock(blk) && c.h.hasBlock(blk) })

	mn.Partition([]string{"c"}, []string{"a", "b"})
	waitFor(t, "c cut off", func() bool { return !c.hasPeer(a) && !c.hasPeer(b) && !a.hasPeer(c) && !b.hasPeer(c) })
	blk = gossip(a, "block 2")
	waitFor(t, "block 2 at b", func() bool { return b.h.hasBlock(blk) })
	time.Sleep(200 * time.Millisecond)
	if c.h.hasBlock(blk) {
		t.Fatal("a block crossed a two-way partition")
	}
	mn.Heal()
	waitFor(t, "mesh after heal", meshed)
	blk = gossip(a, "block 3")
	waitFor(t, "block 3 at c", func() bool { return c.h.hasBlock(blk) })

	mn.Cut("a", "b") // one way: b stops hearing a
	waitFor(t, "a-b link dropped", func() bool { return !a.hasPeer(b) && !b.hasPeer(a) })
	for i := range 3 {
		blk = gossip(a, fmt.Sprintf("block 4.%d", i))
		waitFor(t, "block via c", func() bool { return b.h.hasBlock(blk) })
	}
	mn.Heal()
	waitFor(t, "mesh after the one-way cut heals", meshed)
}

// dialMem completes TLS and HEY from a memnet host as key; it returns the
// TLS connection and the answer header ("" if refused).
func dialMem(t *testing.T, host *memnet.Host, addr string, key *crypto.PrivateKey) (*tls.Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := host.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tc := tls.Client(conn, clientTLS(t, key))
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		return tc, ""
	}
	h, body, _ := wire.Encode(testHello(key, testNetworkID, testChainID, ""))
	if wire.WriteFrame(tc, h, body) != nil {
		return tc, ""
	}
	hdr, _, err := wire.ReadFrame(tc, wire.DefaultMaxFrame)
	if err != nil {
		return tc, ""
	}
	tc.SetDeadline(time.Time{})
	return tc, hdr
}

// A misbehaving peer is banned by its proven address and by its IP (here
// a memnet host, which is not loopback): a fresh connection from the same
// host with a fresh key is refused before TLS, while another host, and
// the same key from it, are refused only for the address.
func TestBanCoversProvenAddressAndIP(t *testing.T) {
	mn := memnet.New(3)
	d := startNode(t, 1, func(c *Config) { c.Transport = mn.Host("d"); c.ListenAddr = "d:7000" })
	evil, fresh := testKey(t, 2), testKey(t, 3)
	tc, ack := dialMem(t, mn.Host("x"), d.Addr(), evil)
	if ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	h, body, _ := wire.Encode(&wire.Block{Block: []byte("bad block")})
	wire.WriteFrame(tc, h, body)
	waitFor(t, "ban", func() bool { return d.isBanned(addrBanKey(evil.Address())) && d.isBanned(ipBanKey("x")) })
	if _, ack := dialMem(t, mn.Host("x"), d.Addr(), fresh); ack != "" {
		t.Fatalf("a fresh key from the banned host got %q", ack)
	}
	if _, ack := dialMem(t, mn.Host("y"), d.Addr(), evil); ack != "" {
		t.Fatalf("the banned key from another host got %q", ack)
	}
	if _, ack := dialMem(t, mn.Host("y"), d.Addr(), fresh); ack != wire.HdrHelloAck {
		t.Fatalf("an unrelated peer got %q", ack)
	}
}
