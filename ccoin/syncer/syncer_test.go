package syncer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/types"
)

var t0 = time.Unix(1_700_000_000, 0)

// fakePeer is one peer of fakeNet: a chain of blocks 2..height (1 is
// genesis), which it serves unless failBlocks.
type fakePeer struct {
	height     uint64
	finalized  uint64
	failBlocks bool
	manifest   []byte
	heads      int // RequestHead calls
}

// fakeNet is a Network and a SnapshotNetwork over fakePeers.
type fakeNet struct {
	mu     sync.Mutex
	peers  map[uint64]*fakePeer
	order  []uint64
	bans   map[uint64][]string
	events chan p2p.PeerEvent
}

func newFakeNet() *fakeNet {
	return &fakeNet{peers: map[uint64]*fakePeer{}, bans: map[uint64][]string{}, events: make(chan p2p.PeerEvent, 4)}
}

func (n *fakeNet) add(id uint64, p *fakePeer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.peers[id] = p
	n.order = append(n.order, id)
}

func (n *fakeNet) peer(id uint64) *fakePeer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peers[id]
}

// headCalls is how often id was asked for its head.
func (n *fakeNet) headCalls(id uint64) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peers[id].heads
}

func (n *fakeNet) setHeight(id, h uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.peers[id].height = h
}

func (n *fakeNet) banned(id uint64) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.bans[id])
}

func (n *fakeNet) Peers() []p2p.PeerInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []p2p.PeerInfo
	for _, id := range n.order {
		out = append(out, p2p.PeerInfo{ID: id})
	}
	return out
}

func (n *fakeNet) Ban(id uint64, reason string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.bans[id] = append(n.bans[id], reason)
}

func (n *fakeNet) Events() <-chan p2p.PeerEvent { return n.events }

func (n *fakeNet) RequestHead(_ context.Context, id uint64) (uint64, [32]byte, uint64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peers[id]
	p.heads++
	return p.height, [32]byte{}, p.finalized, nil
}

func (n *fakeNet) RequestBlocks(_ context.Context, id uint64, from uint64, count int) ([][]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peers[id]
	if p.failBlocks {
		return nil, errors.New("timed out")
	}
	var out [][]byte
	for h := from; h <= p.height && len(out) < count; h++ {
		b := &types.Block{Header: types.Header{Version: types.HeaderVersion, Number: h}}
		out = append(out, b.Encode(nil))
	}
	return out, nil
}

func (n *fakeNet) RequestSnapshot(_ context.Context, id uint64) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peers[id].manifest, nil
}

func (n *fakeNet) RequestChunk(context.Context, uint64, uint64, uint64) ([]byte, error) {
	return nil, errors.New("no chunks here")
}

// fakeChain is a Chain that Import extends one block at a time.
type fakeChain struct {
	mu          sync.Mutex
	head, final uint64
}

func (c *fakeChain) Head() (*types.Header, types.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &types.Header{Number: c.head}, types.Hash{}
}

func (c *fakeChain) Finalized() (*types.Header, types.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &types.Header{Number: c.final}, types.Hash{}
}

func (c *fakeChain) height() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head
}

func (c *fakeChain) importBlock(b *types.Block, _ []byte) (p2p.Verdict, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch n := b.Header.Number; {
	case n <= c.head:
		return p2p.Known, nil
	case n == c.head+1:
		c.head = n
		return p2p.Accepted, nil
	default:
		return p2p.MissingParent, errors.New("unknown parent")
	}
}

// states records the OnState calls, collapsing repeats.
type states struct {
	mu  sync.Mutex
	seq []string
}

func (s *states) on(st string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seq) == 0 || s.seq[len(s.seq)-1] != st {
		s.seq = append(s.seq, st)
	}
}

func (s *states) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seq)
}

type rig struct {
	s     *Syncer
	net   *fakeNet
	chain *fakeChain
	clk   *clock.Fake
	st    *states
	conns chan struct{}
}

func newRig(t *testing.T, net *fakeNet) *rig {
	t.Helper()
	r := &rig{net: net, chain: &fakeChain{head: 1, final: 1}, clk: clock.NewFake(t0), st: &states{}, conns: make(chan struct{}, 8)}
	var err error
	r.s, err = New(Config{
		Net: net, Chain: r.chain, Import: r.chain.importBlock, OnState: r.st.on,
		OnConnect:    func() { r.conns <- struct{}{} },
		BootWait:     3 * time.Second,
		SlotInterval: time.Second,
		Clock:        r.clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// run starts the syncer until the test ends.
func (r *rig) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// eventually polls cond (in real time: the syncer's goroutine needs to run).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitTimers waits until a goroutine waits on the fake clock.
func waitTimers(t *testing.T, c *clock.Fake) {
	t.Helper()
	eventually(t, "a timer", func() bool { return c.Timers() > 0 })
}

// A node alone (the first validator of a new network) stays in boot for
// the whole boot wait, then finds no peer ahead and is ready.
func TestBootAloneReadyAfterBootWait(t *testing.T) {
	r := newRig(t, newFakeNet())
	r.run(t)
	for elapsed := time.Duration(0); elapsed < 3*time.Second; elapsed += bootPoll {
		waitTimers(t, r.clk)
		if st := r.s.State(); st != StateBoot {
			t.Fatalf("state %s after %v of a 3s boot wait", st, elapsed)
		}
		r.clk.Advance(bootPoll)
	}
	eventually(t, "ready", r.s.Ready)
	if got := r.st.get(); !slices.Equal(got, []string{StateBoot, StateReady}) {
		t.Fatalf("states %v", got)
	}
}

// A peer ahead makes the node sync (in batches) and then be ready; a block
// with an unknown parent from that peer wakes it to fetch the rest at once,
// with no tick of the clock.
func TestPeerAheadSyncsThenReady(t *testing.T) {
	net := newFakeNet()
	net.add(7, &fakePeer{height: 2*syncBatch + 10})
	r := newRig(t, net)
	r.run(t)
	eventually(t, "ready", r.s.Ready)
	if h := r.chain.height(); h != 2*syncBatch+10 {
		t.Fatalf("height %d, want %d", h, 2*syncBatch+10)
	}
	if got := r.st.get(); !slices.Equal(got, []string{StateBoot, StateSyncing, StateReady}) {
		t.Fatalf("states %v", got)
	}

	net.setHeight(7, 2*syncBatch+40)
	net.events <- p2p.PeerEvent{Type: p2p.EventMissingParent, Peer: p2p.PeerInfo{ID: 7}}
	eventually(t, "the new blocks", func() bool { return r.chain.height() == 2*syncBatch+40 })
	net.events <- p2p.PeerEvent{Type: p2p.EventConnected, Peer: p2p.PeerInfo{ID: 7}}
	select {
	case <-r.conns:
	case <-time.After(10 * time.Second):
		t.Fatal("OnConnect not called for a connected peer")
	}
	if b := net.banned(7); len(b) > 0 {
		t.Fatalf("honest peer banned: %v", b)
	}
}

// A peer whose block request fails is skipped (not banned) for ten slots,
// at least 5 s: the node syncs from the next best peer meanwhile.
func TestFailedPeerSkippedForAWhile(t *testing.T) {
	net := newFakeNet()
	net.add(1, &fakePeer{height: 100, failBlocks: true})
	net.add(2, &fakePeer{height: 50})
	r := newRig(t, net)
	r.run(t)
	eventually(t, "ready", r.s.Ready)
	if h := r.chain.height(); h != 50 {
		t.Fatalf("height %d, want 50 (from the second peer)", h)
	}
	if net.headCalls(1) != 1 {
		t.Fatalf("failed peer asked %d times in the first round", net.headCalls(1))
	}
	// Rounds on each tick (1 s) skip the failed peer until 10 s have passed.
	for sec := 1; sec <= 10; sec++ {
		rounds := net.headCalls(2)
		waitTimers(t, r.clk)
		r.clk.Advance(time.Second)
		eventually(t, "a round", func() bool { return net.headCalls(2) > rounds })
		want := 1
		if sec == 10 {
			want = 2
		}
		if got := net.headCalls(1); got != want {
			t.Fatalf("after %ds the failed peer was asked %d times, want %d", sec, got, want)
		}
	}
	if b := net.banned(1); len(b) > 0 {
		t.Fatalf("a peer that timed out was banned: %v", b)
	}
}

// Without a snapshot that verifies, FastSync bans the peer whose manifest
// is garbage, keeps looking for its wait, then gives up without importing.
func TestFastSyncGivesUpAfterWait(t *testing.T) {
	net := newFakeNet()
	net.add(3, &fakePeer{manifest: []byte("not a manifest")})
	clk := clock.NewFake(t0)
	done := make(chan error, 1)
	go func() {
		done <- FastSync(context.Background(), FastConfig{
			Net: net, Genesis: &genesis.Genesis{}, Wait: 5 * time.Second, Clock: clk,
			Import: func(*snapshot.Manifest, Chunks) error { return errors.New("nothing verified was offered") },
		})
	}()
	for sec := 0; sec <= 5; sec++ {
		waitTimers(t, clk)
		select {
		case err := <-done:
			t.Fatalf("gave up after %ds of a 5s wait: %v", sec, err)
		default:
		}
		clk.Advance(offerRetry)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("FastSync did not give up after its wait")
	}
	if b := net.banned(3); len(b) == 0 {
		t.Fatal("the peer serving a garbage manifest was not banned")
	}
}

// The pacer holds a peer's next chunk until its bytes so far fit the rate.
func TestPacerWaitsOnTheClock(t *testing.T) {
	clk := clock.NewFake(t0)
	p := &pacer{clk: clk, start: t0, bytes: 2 * snapshotPeerRate}
	done := make(chan error, 1)
	go func() { done <- p.wait(context.Background()) }()
	waitTimers(t, clk)
	clk.Advance(2*time.Second - time.Millisecond)
	select {
	case <-done:
		t.Fatal("pacer let a chunk through early")
	default:
	}
	clk.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
