package node

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// bank is a transfer workload: each user submits only to its home node,
// with nonces it tracks itself, and every accepted transaction is recorded.
type bank struct {
	c     *cluster
	home  map[crypto.Address]*tnode
	users []*crypto.PrivateKey

	mu       sync.Mutex
	nonce    map[crypto.Address]uint64
	accepted map[types.Hash]*types.Transaction
	refused  []string
	round    int
}

func newBank(c *cluster, users []*crypto.PrivateKey, nodes []*tnode) *bank {
	bk := &bank{c: c, home: map[crypto.Address]*tnode{}, users: users, nonce: map[crypto.Address]uint64{},
		accepted: map[types.Hash]*types.Transaction{}}
	for i, u := range users {
		bk.home[u.Address()] = nodes[i%len(nodes)]
	}
	return bk
}

// tick submits one transfer per node, from users taking turns.
func (bk *bank) tick() {
	bk.mu.Lock()
	defer bk.mu.Unlock()
	bk.round++
	perNode := map[*tnode][]*crypto.PrivateKey{}
	var order []*tnode
	for _, u := range bk.users {
		n := bk.home[u.Address()]
		if perNode[n] == nil {
			order = append(order, n)
		}
		perNode[n] = append(perNode[n], u)
	}
	for _, n := range order {
		us := perNode[n]
		u := us[bk.round%len(us)]
		to := bk.users[(bk.round+1)%len(bk.users)].Address()
		if to == u.Address() {
			to = bk.users[(bk.round+2)%len(bk.users)].Address()
		}
		nonce := bk.nonce[u.Address()] + 1
		tx := bk.c.transfer(u, to, nonce, uint64(1+bk.round%5))
		node := n.node()
		if node == nil {
			continue
		}
		if err := node.SubmitTxs([]*types.Transaction{tx})[0]; err != nil {
			bk.refused = append(bk.refused, fmt.Sprintf("%s nonce %d at %s: %v", u.Address(), nonce, n.name, err))
			continue
		}
		bk.nonce[u.Address()] = nonce
		bk.accepted[tx.ID()] = tx
	}
}

// run ticks every period until stop is closed.
func (bk *bank) run(period time.Duration, stop <-chan struct{}, wg *sync.WaitGroup) {
	wg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				bk.tick()
			}
		}
	})
}

// checkExactlyOnce waits until every accepted transfer is on every node's
// canonical chain, then checks each appears exactly once and the senders'
// nonces match what was accepted.
func (bk *bank) checkExactlyOnce(t *testing.T, nodes []*tnode, timeout time.Duration) {
	t.Helper()
	bk.mu.Lock()
	defer bk.mu.Unlock()
	var missing int
	waitFor(t, timeout, "every accepted transfer included on every node", func() bool {
		missing = 0
		for id := range bk.accepted {
			for _, n := range nodes {
				if _, _, err := n.N().Chain().TxLocation(id); err != nil {
					missing++
				}
			}
		}
		return missing == 0
	})
	waitConverged(t, 20*time.Second, 1, nodes...)
	count := map[types.Hash]int{}
	for _, blk := range canonicalBlocks(t, nodes[0].N(), 2) {
		for _, tx := range blk.Txs {
			count[tx.ID()]++
		}
	}
	for id := range bk.accepted {
		if count[id] != 1 {
			t.Errorf("accepted transfer %s included %d times", short(id), count[id])
		}
	}
	for id, k := range count {
		if bk.accepted[id] == nil {
			t.Errorf("transfer %s on chain (%d times) was never accepted by any node", short(id), k)
		}
	}
	for _, u := range bk.users {
		for _, n := range nodes {
			acc, err := n.N().Chain().Account(u.Address())
			if err != nil || acc.Nonce != bk.nonce[u.Address()] {
				t.Errorf("%s: user %s nonce %d (%v), accepted up to %d", n.name, u.Address(), acc.Nonce, err, bk.nonce[u.Address()])
			}
		}
	}
	for _, r := range bk.refused {
		t.Errorf("a node refused a valid transfer: %s", r)
	}
	t.Logf("%d transfers accepted over %d rounds, each included exactly once", len(bk.accepted), bk.round)
}

// Partition {A} | {B, C} under a steady trickle of transfers to all sides,
// then heal: one chain, no finalized block ever reverted, every accepted
// transfer included exactly once, supply intact.
func TestClusterPartitionAndHeal(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	vals := startValidators(t, c)
	a, b, cc := vals[0], vals[1], vals[2]
	mon := c.monitor()
	bk := newBank(c, userKeys(t), vals)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	bk.run(c.interval()/2, stop, &wg)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	time.Sleep(5 * c.interval())
	c.partition([]*tnode{a}, []*tnode{b, cc})
	waitFor(t, 10*time.Second, "A cut off", func() bool {
		return len(a.N().Network().Peers()) == 0 && len(b.N().Network().Peers()) == 1 && len(cc.N().Network().Peers()) == 1
	})
	aFin0, bFin0 := a.finalized(), b.finalized()
	cutAt := time.Now()
	for time.Since(cutAt) < 15*c.interval() {
		if len(a.N().Network().Peers()) != 0 {
			t.Fatal("A got a peer during the partition")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ah, aid := a.head()
	bh, bid := b.head()
	t.Logf("after %.0f slots apart: A head %d (finalized %d -> %d), B head %d (finalized %d -> %d)",
		c.slots(time.Since(cutAt)), ah.Number, aFin0, a.finalized(), bh.Number, bFin0, b.finalized())
	if aid == bid {
		t.Error("A and B have the same head after a partition of 15 slots")
	}
	if a.finalized() > aFin0+1 {
		t.Errorf("A alone finalized %d -> %d", aFin0, a.finalized())
	}
	if b.finalized() < bFin0+5 {
		t.Errorf("the majority side finalized only %d -> %d", bFin0, b.finalized())
	}

	c.heal()
	healAt := time.Now()
	waitConverged(t, 40*time.Second, bh.Number+2, vals...)
	t.Logf("converged %v after healing", time.Since(healAt).Round(time.Millisecond))
	time.Sleep(4 * c.interval())
	close(stop)
	wg.Wait()

	bk.checkExactlyOnce(t, vals, 40*time.Second)
	waitFor(t, 10*time.Second, "pools drained", func() bool {
		for _, n := range vals {
			if st := n.N().Pool().Stats(); st.Pending+st.Queued != 0 {
				return false
			}
		}
		return true
	})
	for _, n := range vals {
		checkSupply(t, n.N())
	}
	mon.check(t)
}

// One sender, one nonce, two different transfers submitted to two nodes at
// the same moment: exactly one is ever included.
func TestClusterSameNonceTwoNodes(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	vals := startValidators(t, c)
	mon := c.monitor()
	users := userKeys(t)
	type pair struct {
		from   *crypto.PrivateKey
		nonce  uint64
		tx1    *types.Transaction
		tx2    *types.Transaction
		n1, n2 *tnode
	}
	var pairs []pair
	for round := 0; round < 2; round++ {
		var batch []pair
		for i, u := range users {
			acc, err := vals[0].N().Chain().Account(u.Address())
			if err != nil {
				t.Fatal(err)
			}
			nonce := acc.Nonce + 1
			p := pair{from: u, nonce: nonce,
				tx1: c.transfer(u, users[(i+1)%len(users)].Address(), nonce, 7),
				tx2: c.transfer(u, users[(i+2)%len(users)].Address(), nonce, 9),
				n1:  vals[i%3], n2: vals[(i+1)%3]}
			batch = append(batch, p)
		}
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for _, p := range batch {
			wg.Go(func() { <-gate; p.n1.N().SubmitTxs([]*types.Transaction{p.tx1}) })
			wg.Go(func() { <-gate; p.n2.N().SubmitTxs([]*types.Transaction{p.tx2}) })
		}
		close(gate)
		wg.Wait()
		waitFor(t, 20*time.Second, "every sender's nonce to advance on every node", func() bool {
			for _, p := range batch {
				for _, n := range vals {
					acc, _ := n.N().Chain().Account(p.from.Address())
					if acc.Nonce < p.nonce {
						return false
					}
				}
			}
			return true
		})
		pairs = append(pairs, batch...)
	}
	// Give a losing transfer every chance to sneak in later.
	time.Sleep(6 * c.interval())
	waitConverged(t, 20*time.Second, 1, vals...)
	first, second := 0, 0
	for _, p := range pairs {
		in1, in2 := 0, 0
		for _, blk := range canonicalBlocks(t, vals[0].N(), 2) {
			for _, tx := range blk.Txs {
				switch tx.ID() {
				case p.tx1.ID():
					in1++
				case p.tx2.ID():
					in2++
				}
			}
		}
		if in1+in2 != 1 {
			t.Errorf("sender %s nonce %d: first included %d times, second %d times; want exactly one once",
				p.from.Address(), p.nonce, in1, in2)
		}
		first += in1
		second += in2
		for _, n := range vals {
			if n.N().Pool().Has(p.tx1.ID()) || n.N().Pool().Has(p.tx2.ID()) {
				t.Errorf("%s still pools a transfer of a spent nonce", n.name)
			}
		}
	}
	// Two rounds: every sender spent exactly two nonces.
	for _, u := range users {
		for _, n := range vals {
			if acc, _ := n.N().Chain().Account(u.Address()); acc.Nonce != 2 {
				t.Errorf("%s: sender %s nonce %d after two conflicting rounds, want 2", n.name, u.Address(), acc.Nonce)
			}
		}
	}
	t.Logf("%d conflicting pairs: the transfer sent to the first node won %d, the other %d", len(pairs), first, second)
	for _, n := range vals {
		checkSupply(t, n.N())
	}
	mon.check(t)
}
