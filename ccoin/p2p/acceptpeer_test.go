package p2p

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
)

// AcceptPeer refuses peers in both directions without banning them, and
// DisconnectPeer drops a live peer; clearing the policy lets them reconnect.
func TestAcceptPeerAndDisconnect(t *testing.T) {
	var blocked atomic.Value // crypto.Address to refuse; zero = none
	blocked.Store(crypto.Address{})
	policy := func(p PeerInfo) error {
		if p.NodeAddress == blocked.Load().(crypto.Address) {
			return errors.New("cut off")
		}
		return nil
	}
	a := startNode(t, 0, func(c *Config) { c.AcceptPeer = policy })
	b := startNode(t, 1, func(c *Config) { c.AcceptPeer = policy })
	link(t, a, b)

	blocked.Store(testKey(t, 1).Address())
	if !a.DisconnectPeer(b.ID(), "test partition") {
		t.Fatal("DisconnectPeer: b was not a peer of a")
	}
	waitFor(t, "disconnect", func() bool { return !a.hasPeer(b) && !b.hasPeer(a) })
	// Both dial directions are refused while the policy holds.
	a.AddPeers(b.Addr())
	b.AddPeers(a.Addr())
	time.Sleep(1500 * time.Millisecond)
	if a.hasPeer(b) || b.hasPeer(a) {
		t.Fatal("a refused peer was connected")
	}
	if a.isBanned(addrBanKey(testKey(t, 1).Address())) || a.isBanned(ipBanKey("127.0.0.1")) {
		t.Fatal("a policy refusal banned the peer")
	}
	blocked.Store(crypto.Address{})
	deadline := time.Now().Add(20 * time.Second)
	for !(a.hasPeer(b) && b.hasPeer(a)) {
		if time.Now().After(deadline) {
			t.Fatal("peers did not reconnect after the policy was lifted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
