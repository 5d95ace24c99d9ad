package p2p

import (
	"fmt"
	"testing"
	"time"

	"ccoin/ccoin/p2p/memnet"
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
		blk := []byte(name)
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
