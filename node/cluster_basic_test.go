package node

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// txWatch follows submitted transactions until every given node has them
// on its canonical chain and then finalized, and records how long that took.
type txWatch struct {
	c     *cluster
	nodes []*tnode

	mu   sync.Mutex
	txs  map[types.Hash]*watched
	stop chan struct{}
	wg   sync.WaitGroup
}

type watched struct {
	sent      time.Time
	sentSlot  uint64
	blockSlot uint64
	included  time.Duration // 0 until on every node's canonical chain
	finalized time.Duration // 0 until final on every node
}

func (c *cluster) watchTxs(nodes ...*tnode) *txWatch {
	w := &txWatch{c: c, nodes: nodes, txs: map[types.Hash]*watched{}, stop: make(chan struct{})}
	w.wg.Go(func() {
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			w.poll()
		}
	})
	c.t.Cleanup(w.close)
	return w
}

func (w *txWatch) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
		w.wg.Wait()
	}
}

func (w *txWatch) add(id types.Hash, sent time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	slot := w.c.g.TimeMs
	slot = (uint64(sent.UnixMilli()) - slot) / w.c.g.IntervalMs
	w.txs[id] = &watched{sent: sent, sentSlot: slot}
}

func (w *txWatch) poll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for id, x := range w.txs {
		if x.finalized > 0 {
			continue
		}
		onAll, finalAll := true, true
		var number, slot uint64
		for _, tn := range w.nodes {
			ok := tn.with(func(n *Node) {
				bid, _, err := n.Chain().TxLocation(id)
				if err != nil {
					onAll, finalAll = false, false
					return
				}
				h, err := n.Chain().Header(bid)
				if err != nil {
					onAll, finalAll = false, false
					return
				}
				number, slot = h.Number, h.Slot
				if f, _ := n.Chain().Finalized(); f.Number < h.Number {
					finalAll = false
				}
			})
			if !ok {
				onAll, finalAll = false, false
			}
		}
		if onAll && x.included == 0 {
			x.included, x.blockSlot = now.Sub(x.sent), slot
			_ = number
		}
		if onAll && finalAll {
			x.finalized = now.Sub(x.sent)
		}
	}
}

func (w *txWatch) allFinal() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.txs {
		if x.finalized == 0 {
			return false
		}
	}
	return true
}

// report logs p50/max of inclusion and finality latency in slots.
func (w *txWatch) report(t testing.TB) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var inc, fin, slots []float64
	for _, x := range w.txs {
		inc = append(inc, w.c.slots(x.included))
		fin = append(fin, w.c.slots(x.finalized))
		slots = append(slots, float64(x.blockSlot-x.sentSlot))
	}
	t.Logf("%d transfers: submission -> on every node's chain: p50 %.1f, max %.1f slots (block slot - submission slot: p50 %.0f, max %.0f); -> finalized on every node: p50 %.1f, max %.1f slots (slot = %v)",
		len(w.txs), percentile(inc, 0.5), percentile(inc, 1), percentile(slots, 0.5), percentile(slots, 1),
		percentile(fin, 0.5), percentile(fin, 1), w.c.interval())
}

// Three validators and a basic node: one chain everywhere, about one block
// per slot, transfers submitted anywhere included and finalized everywhere.
func TestClusterThreeValidatorsAndBasicNode(t *testing.T) {
	c := newTCPCluster(t, defaultSpec(t)) // the real transport, end to end
	vals := c.validators(validatorKeys(t))
	basic := c.add("D", TypeBasic, outsiderKey(t))
	all := append(vals, basic)
	for _, n := range all {
		n.start()
	}
	mon := c.monitor()
	waitPeers(t, all...)
	waitFor(t, 20*time.Second, "every node ready and producing", func() bool {
		for _, n := range all {
			if n.N().SyncState() != StateReady || n.height() < 3 {
				return false
			}
		}
		return true
	})

	// Window over which all nodes are up.
	h0, _ := vals[0].head()
	start := time.Now()
	watch := c.watchTxs(all...)
	users := userKeys(t)
	nonces := map[crypto.Address]uint64{}
	sent := 0
	for slot := 0; slot < 15; slot++ {
		for i := 0; i < 2; i++ {
			from := users[(slot*2+i)%len(users)]
			to := users[(slot*2+i+1)%len(users)].Address()
			nonces[from.Address()]++
			tx := c.transfer(from, to, nonces[from.Address()], uint64(10+slot))
			target := all[(slot*2+i)%len(all)]
			now := time.Now()
			if err := target.N().SubmitTxs([]*types.Transaction{tx})[0]; err != nil {
				t.Fatalf("submit to %s: %v", target.name, err)
			}
			watch.add(tx.ID(), now)
			sent++
		}
		time.Sleep(c.interval())
	}
	waitFor(t, 30*time.Second, fmt.Sprintf("%d transfers finalized on every node", sent), watch.allFinal)
	watch.close()
	elapsed := time.Since(start)
	h1, _ := vals[0].head()

	blocks := h1.Number - h0.Number
	slots := h1.Slot - h0.Slot
	perSlot := float64(blocks) / float64(max(slots, 1))
	t.Logf("all up for %v (%.0f slots): %d blocks over %d slots = %.2f blocks per slot", elapsed.Round(time.Millisecond),
		c.slots(elapsed), blocks, slots, perSlot)
	if slots < 15 {
		t.Errorf("only %d slots passed", slots)
	}
	// About 1; the margin absorbs the fork-choice losses of blocks delayed by
	// a loaded machine (-race, 2 cores, other tests' fsyncs).
	if perSlot < 0.7 {
		t.Errorf("%.2f blocks per slot while every validator is up, want about 1", perSlot)
	}
	watch.report(t)

	waitConverged(t, 10*time.Second, h1.Number, all...)
	if d := diverge(all); d != "" {
		t.Fatalf("chains differ: %s", d)
	}
	// The state agrees everywhere and adds up.
	for _, n := range all {
		checkSupply(t, n.N())
	}
	fin := min(vals[0].finalized(), basic.finalized())
	blk, err := basic.N().Chain().BlockByNumber(fin)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		want, err := vals[0].N().Chain().AccountAt(blk.Header.StateRoot, u.Address())
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range all[1:] {
			got, err := n.N().Chain().AccountAt(blk.Header.StateRoot, u.Address())
			if err != nil || got != want {
				t.Errorf("%s: account %s at finalized %d = %+v, %v; %s has %+v", n.name, u.Address(), fin, got, err, vals[0].name, want)
			}
		}
		acc, _ := basic.N().Chain().Account(u.Address())
		if acc.Nonce != nonces[u.Address()] {
			t.Errorf("user %s nonce %d at head, sent %d transfers", u.Address(), acc.Nonce, nonces[u.Address()])
		}
	}
	// Every validator sealed while all were up.
	bySealer := map[crypto.Address]int{}
	for _, b := range canonicalBlocks(t, basic.N(), h0.Number+1) {
		bySealer[b.Header.Sealer]++
	}
	for _, v := range vals {
		if bySealer[v.key.Address()] == 0 {
			t.Errorf("validator %s sealed no block in the window", v.name)
		}
	}
	mon.check(t)
}

// A node on another genesis (other network id, or same id but another
// allocation and so another chain id) never becomes a peer.
func TestClusterRefusesOtherGenesis(t *testing.T) {
	// TCP: three clusters whose nodes dial each other share no memnet.
	c := newTCPCluster(t, defaultSpec(t))
	a := c.add("A", TypeValidator, validatorKeys(t)[0])
	a.start()

	otherID := defaultSpec(t)
	otherID.NetworkID = 999
	otherAlloc := defaultSpec(t)
	otherAlloc.Balance++
	c2 := newTCPCluster(t, otherID)
	x := c2.add("X", TypeBasic, outsiderKey(t))
	c3 := newTCPCluster(t, otherAlloc)
	y := c3.add("Y", TypeBasic, userKeys(t)[1])
	if c3.g.File.NetworkID != c.g.File.NetworkID || c3.g.ChainID == c.g.ChainID {
		t.Fatal("test setup: Y should share the network id but not the chain id")
	}
	for _, n := range []*tnode{x, y} {
		n.boot = []string{a.addr()}
		n.start()
		a.N().Network().AddPeers(n.addr()) // and let A dial them too
	}
	// A same-genesis node connects within the same window: the control.
	z := c.add("Z", TypeBasic, userKeys(t)[0])
	z.boot = []string{a.addr()}
	z.start()

	strangers := map[crypto.Address]string{x.key.Address(): "X (other network id)", y.key.Address(): "Y (other alloc)"}
	deadline := time.Now().Add(4 * time.Second)
	sawZ := false
	for time.Now().Before(deadline) {
		for _, p := range a.N().Network().Peers() {
			if who, bad := strangers[p.NodeAddress]; bad {
				t.Fatalf("A accepted %s as a peer", who)
			}
			if p.NodeAddress == z.key.Address() {
				sawZ = true
			}
		}
		for _, n := range []*tnode{x, y} {
			if ps := n.N().Network().Peers(); len(ps) > 0 {
				t.Fatalf("%s has peers %v", n.name, ps)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sawZ {
		t.Fatal("control: a node on the same genesis did not connect in the window")
	}
	for _, n := range []*tnode{x, y} {
		if h := n.height(); h != 1 {
			t.Errorf("%s imported blocks of another network: height %d", n.name, h)
		}
		if n.N().SyncState() != StateReady {
			// Alone after its boot timeout, it considers itself synced.
			t.Logf("%s sync state %s", n.name, n.N().SyncState())
		}
	}
}
