package consensus

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// fakeClock lets a test step the sealer from one timer to the next.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	at      time.Time
	fire    chan time.Time
	waiting chan struct{}
}

func newFakeClock(ms uint64) *fakeClock {
	return &fakeClock{now: time.UnixMilli(int64(ms)), waiting: make(chan struct{}, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	ch := make(chan time.Time, 1)
	c.at, c.fire = c.now.Add(d), ch
	c.mu.Unlock()
	c.waiting <- struct{}{}
	return ch
}

// step waits until the sealer sleeps, moves the clock to its wake-up time
// plus extra, and wakes it. It returns the slot the clock is in.
func (c *fakeClock) step(t *testing.T, s Schedule, extra time.Duration) uint64 {
	t.Helper()
	select {
	case <-c.waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("sealer did not go to sleep")
	}
	c.mu.Lock()
	c.now = c.at.Add(extra)
	now, fire := c.now, c.fire
	c.mu.Unlock()
	fire <- now
	return s.SlotAt(uint64(now.UnixMilli()))
}

type fakeChain struct {
	mu         sync.Mutex
	t          *testing.T
	e          *Engine
	blocks     []*types.Block // blocks[0] is genesis
	failImport bool
	builds     int
	// afterBuild runs after the n-th BuildBlock (from 1), as an import
	// that commits while the sealer builds.
	afterBuild func(n int)
}

func (c *fakeChain) Head() (*types.Header, types.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.blocks[len(c.blocks)-1]
	h := b.Header
	return &h, b.ID()
}

func (c *fakeChain) BuildBlock(parent types.Hash, h types.Header, txs []*types.Transaction) (*types.Block, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if head := c.blocks[len(c.blocks)-1]; head.ID() != parent {
		return nil, errors.New("unknown parent")
	}
	// Like the real builder, drop invalid transactions (here: amount 0).
	var kept []*types.Transaction
	for _, tx := range txs {
		if tx.Amount != 0 {
			kept = append(kept, tx)
		}
	}
	b := &types.Block{Header: h, Txs: kept}
	b.Header.TxRoot = types.TxRoot(b.TxIDs())
	b.Header.StateRoot = types.Hash{byte(h.Number)}
	c.builds++
	if c.afterBuild != nil {
		c.afterBuild(c.builds)
	}
	return b, nil
}

func (c *fakeChain) ImportOwn(b *types.Block) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failImport {
		return errors.New("disk full")
	}
	parent := c.blocks[len(c.blocks)-1]
	// What we seal must pass the rules every other node applies.
	if err := c.e.VerifyHeader(&parent.Header, b, b.Header.Time); err != nil {
		c.t.Errorf("sealed an invalid block: %v", err)
		return err
	}
	c.blocks = append(c.blocks, b)
	return nil
}

type fakePool struct {
	mu  sync.Mutex
	txs []*types.Transaction
}

func (p *fakePool) Pending(max int) []*types.Transaction {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.txs[:min(max, len(p.txs))])
}

func (p *fakePool) PendingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.txs)
}

type fakeNet struct {
	mu     sync.Mutex
	blocks []*types.Block
	t      *testing.T
}

func (n *fakeNet) BroadcastBlock(raw []byte) {
	b, err := types.DecodeBlock(raw)
	if err != nil {
		n.t.Errorf("broadcast undecodable block: %v", err)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.blocks = append(n.blocks, b)
}

func (n *fakeNet) slots() []uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var s []uint64
	for _, b := range n.blocks {
		s = append(s, b.Header.Slot)
	}
	return s
}

type sealerRig struct {
	e      *Engine
	clock  *fakeClock
	chain  *fakeChain
	pool   *fakePool
	net    *fakeNet
	guard  *SlotGuard
	path   string
	ready  bool
	mu     sync.Mutex
	mon    *ClockMonitor
	sealed []uint64
	budget int // TxBudget's answer
}

func newRig(t *testing.T, g *genesis.Genesis, ntx int) *sealerRig {
	e := NewEngine(g, nil)
	r := &sealerRig{
		e:     e,
		clock: newFakeClock(e.Schedule().SlotStart(0) + 30),
		chain: &fakeChain{t: t, e: e, blocks: []*types.Block{g.Block}},
		pool:  &fakePool{txs: testTxs(ntx)},
		net:   &fakeNet{t: t},
		path:  filepath.Join(t.TempDir(), "slot-guard"),
		ready: true,
		mon:   NewClockMonitor(g.IntervalMs, len(g.Miners)),
	}
	r.openGuard(t)
	return r
}

func (r *sealerRig) openGuard(t *testing.T) {
	g, err := OpenSlotGuard(r.path)
	if err != nil {
		t.Fatal(err)
	}
	r.guard = g
	t.Cleanup(func() { g.Close() })
}

func (r *sealerRig) isReady() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready
}

// run starts a sealer for key and returns a function that stops it.
func (r *sealerRig) run(t *testing.T, key *crypto.PrivateKey) (stop func()) {
	s, err := NewSealer(SealerConfig{
		Engine: r.e, Key: key, Guard: r.guard, Chain: r.chain, Pool: r.pool, Net: r.net,
		Ready: r.isReady, Clock: r.mon, Now: r.clock.Now, After: r.clock.After, TxBudget: func() int { return r.budget },
		Logger: hclog.New(&hclog.LoggerOptions{Name: "sealer", Level: hclog.Debug, Output: testWriter{t}}),
		OnSealed: func(b *types.Block) {
			r.mu.Lock()
			r.sealed = append(r.sealed, b.Header.Slot)
			r.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		// Drain a pending sleep notification so the clock can be reused.
		select {
		case <-r.clock.waiting:
		default:
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// stepSlots advances through n slot starts and returns the slots visited.
func (r *sealerRig) stepSlots(t *testing.T, n int) []uint64 {
	var visited []uint64
	for range n {
		visited = append(visited, r.clock.step(t, r.e.Schedule(), 3*time.Millisecond))
	}
	// Wait until the last slot is fully handled (the sealer sleeps again).
	select {
	case <-r.clock.waiting:
		r.clock.waiting <- struct{}{}
	case <-time.After(10 * time.Second):
		t.Fatal("sealer did not finish its slot")
	}
	return visited
}

func TestSealerOwnSlots(t *testing.T) {
	k := testKeys(t)
	cases := []struct {
		name      string
		mod       func(f *genesis.File)
		ntx       int
		zeroTxs   int // invalid transactions the builder drops
		budget    int // TxBudget
		wantSlots []uint64
		wantTxs   []int
	}{
		{name: "seals its own slots", ntx: 3, wantSlots: []uint64{1, 4, 7}, wantTxs: []int{3, 3, 3}},
		{name: "max_bound caps txs", ntx: 8, wantSlots: []uint64{1, 4, 7}, wantTxs: []int{5, 5, 5}},
		{name: "tx budget caps txs", ntx: 8, budget: 2, wantSlots: []uint64{1, 4, 7}, wantTxs: []int{2, 2, 2}},
		{name: "tx budget above max_bound", ntx: 8, budget: 7, wantSlots: []uint64{1, 4, 7}, wantTxs: []int{5, 5, 5}},
		{name: "below min_bound skips", ntx: 2, mod: func(f *genesis.File) { f.BlockMining.MinBound = 3 }},
		{name: "at min_bound seals", ntx: 3, mod: func(f *genesis.File) { f.BlockMining.MinBound = 3 },
			wantSlots: []uint64{1, 4, 7}, wantTxs: []int{3, 3, 3}},
		{name: "empty pool without allow_empty", mod: func(f *genesis.File) { f.BlockMining.MinBound = 0 }},
		{name: "empty pool with allow_empty", mod: func(f *genesis.File) { f.BlockMining.AllowEmpty = true },
			wantSlots: []uint64{1, 4, 7}, wantTxs: []int{0, 0, 0}},
		{name: "allow_empty below min_bound", ntx: 1, mod: func(f *genesis.File) {
			f.BlockMining.AllowEmpty = true
			f.BlockMining.MinBound = 3
		}, wantSlots: []uint64{1, 4, 7}, wantTxs: []int{1, 1, 1}},
		{name: "builder drops invalid txs below min_bound", ntx: 0, zeroTxs: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, testGenesis(t, c.mod), c.ntx)
			r.budget = c.budget
			for range c.zeroTxs {
				r.pool.txs = append(r.pool.txs, &types.Transaction{Nonce: 99})
			}
			stop := r.run(t, k[1])
			visited := r.stepSlots(t, 9)
			stop()
			if !slices.Equal(visited, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
				t.Fatalf("visited slots %v", visited)
			}
			got := r.net.slots()
			if !slices.Equal(got, c.wantSlots) {
				t.Fatalf("broadcast slots %v, want %v", got, c.wantSlots)
			}
			if !slices.Equal(r.sealed, c.wantSlots) {
				t.Fatalf("OnSealed slots %v", r.sealed)
			}
			for i, b := range r.net.blocks {
				if len(b.Txs) != c.wantTxs[i] || b.Header.Sealer != k[1].Address() || b.Header.Number != uint64(i+2) {
					t.Fatalf("block %d: %d txs, sealer %s, number %d", i, len(b.Txs), b.Header.Sealer, b.Header.Number)
				}
			}
			if n := len(c.wantSlots); n > 0 && r.guard.Last() != c.wantSlots[n-1] {
				t.Fatalf("guard last %d", r.guard.Last())
			}
		})
	}
}

// A peer's block that commits while the sealer builds (the build waited
// for its import) becomes the parent: a block on the old head would only
// compete with it for the height.
func TestSealerBuildsOnAHeadThatMovedMeanwhile(t *testing.T) {
	k := testKeys(t)
	r := newRig(t, testGenesis(t, nil), 3)
	r.chain.afterBuild = func(n int) {
		if n != 2 { // the build for slot 4
			return
		}
		head := r.chain.blocks[len(r.chain.blocks)-1]
		h := head.Header
		h.Number, h.Slot, h.Parent, h.Sealer = h.Number+1, 3, head.ID(), k[0].Address()
		r.chain.blocks = append(r.chain.blocks, &types.Block{Header: h})
	}
	stop := r.run(t, k[1]) // leader of 1, 4, 7
	r.stepSlots(t, 5)
	stop()
	if got := r.net.slots(); !slices.Equal(got, []uint64{1, 4}) {
		t.Fatalf("sealed slots %v, want [1 4]", got)
	}
	if b := r.net.blocks[1]; b.Header.Number != 4 || b.Header.Parent != r.chain.blocks[2].ID() {
		t.Fatalf("slot 4's block is number %d on %s, want 4 on the block imported meanwhile", b.Header.Number, b.Header.Parent)
	}
}

func TestSealerSkips(t *testing.T) {
	k := testKeys(t)
	g := testGenesis(t, nil)

	t.Run("not ready", func(t *testing.T) {
		r := newRig(t, g, 2)
		r.ready = false
		stop := r.run(t, k[0]) // leader of 3, 6, 9
		r.stepSlots(t, 4)
		r.mu.Lock()
		r.ready = true
		r.mu.Unlock()
		r.stepSlots(t, 3)
		stop()
		if got := r.net.slots(); !slices.Equal(got, []uint64{6}) {
			t.Fatalf("sealed %v, want [6]", got)
		}
	})
	t.Run("clock behind", func(t *testing.T) {
		r := newRig(t, g, 2)
		for i := range 4 { // both other miners' blocks stamped 60 ms in our future; 60 > 100/4
			r.mon.Observe(crypto.Address{byte(1 + i%2)}, 1000+60, 1000)
		}
		stop := r.run(t, k[0])
		r.stepSlots(t, 4)
		// Those samples age out (20 slots) and one of them is on time: the
		// clock may well be fine.
		later := time.Now().Add(time.Duration(g.IntervalMs*(freshSlots+1)) * time.Millisecond)
		r.mon.SetNow(func() time.Time { return later })
		for range 3 {
			r.mon.Observe(crypto.Address{2}, 1000, 1005)
		}
		r.stepSlots(t, 3)
		stop()
		if got := r.net.slots(); !slices.Equal(got, []uint64{6}) {
			t.Fatalf("sealed %v, want [6]", got)
		}
	})
	t.Run("one other miner offline, one with a fast clock: still seals", func(t *testing.T) {
		r := newRig(t, g, 2)
		for range 5 { // 28% of a slot fast, as 280 ms of a 1 s slot
			r.mon.Observe(crypto.Address{2}, 1000+28, 1000)
		}
		stop := r.run(t, k[0])
		r.stepSlots(t, 4)
		stop()
		if got := r.net.slots(); !slices.Equal(got, []uint64{3}) {
			t.Fatalf("sealed %v, want [3]", got)
		}
	})
	t.Run("clock ahead or blocks late: still seals", func(t *testing.T) {
		r := newRig(t, g, 2)
		for range 3 {
			r.mon.Observe(crypto.Address{1}, 1000, 1000+4000) // 4 s late, as under overload
		}
		stop := r.run(t, k[0])
		r.stepSlots(t, 4)
		stop()
		if got := r.net.slots(); !slices.Equal(got, []uint64{3}) {
			t.Fatalf("sealed %v, want [3]", got)
		}
	})
	// The block goes out before the sealer's own commit (peers need not
	// wait for it); a failed commit must not make the sealer try the slot
	// again with another block.
	t.Run("import failure after broadcast keeps the slot", func(t *testing.T) {
		r := newRig(t, g, 2)
		r.chain.failImport = true
		stop := r.run(t, k[0])
		r.stepSlots(t, 4)
		stop()
		if got := r.net.slots(); !slices.Equal(got, []uint64{3}) {
			t.Fatalf("broadcast %v, want slot 3 once", got)
		}
		if r.guard.Last() != 3 {
			t.Fatalf("the attempted slot must stay claimed, guard %d", r.guard.Last())
		}
	})
	t.Run("missed slots are not sealed late", func(t *testing.T) {
		r := newRig(t, g, 2)
		stop := r.run(t, k[0])
		// Jump from slot 1 straight into slot 7: slots 3 and 6 are gone.
		r.clock.step(t, r.e.Schedule(), 0)
		r.clock.step(t, r.e.Schedule(), 5*testInterval*time.Millisecond+10*time.Millisecond)
		r.stepSlots(t, 2)
		stop()
		if got := r.net.slots(); !slices.Equal(got, []uint64{9}) {
			t.Fatalf("sealed %v, want [9]", got)
		}
	})
}

func TestSealerRestartNeverResigns(t *testing.T) {
	k := testKeys(t)
	r := newRig(t, testGenesis(t, nil), 2)
	stop := r.run(t, k[2]) // leader of 2, 5, 8
	r.stepSlots(t, 5)
	stop()
	if got := r.net.slots(); !slices.Equal(got, []uint64{2, 5}) {
		t.Fatalf("first run sealed %v", got)
	}
	// Crash-restart with the same guard file, while the chain lost both
	// blocks (e.g. they were not yet durable) and the clock went back to slot 1:
	// slots 2 and 5 come round again and must not be signed a second time.
	r.guard.Close()
	r.openGuard(t)
	r.chain.blocks = r.chain.blocks[:1]
	r.clock.mu.Lock()
	r.clock.now = time.UnixMilli(int64(r.e.Schedule().SlotStart(1) + 10))
	r.clock.mu.Unlock()
	stop = r.run(t, k[2])
	r.stepSlots(t, 8)
	stop()
	if got := r.net.slots(); !slices.Equal(got, []uint64{2, 5, 8}) {
		t.Fatalf("after restart sealed %v, want [2 5 8]", got)
	}
}

func TestNewSealerRefusesNonMiner(t *testing.T) {
	k := testKeys(t)
	r := newRig(t, testGenesis(t, nil), 0)
	_, err := NewSealer(SealerConfig{Engine: r.e, Key: k[3], Guard: r.guard, Chain: r.chain, Pool: r.pool, Net: r.net})
	if !errors.Is(err, ErrNotMiner) {
		t.Fatalf("got %v", err)
	}
	if _, err := NewSealer(SealerConfig{Engine: r.e, Key: k[0]}); err == nil {
		t.Fatal("missing dependencies accepted")
	}
}
