//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// maxRecoverySlots is how long the network may take to agree again after a
// fault is healed.
const maxRecoverySlots = 10

// maxSealerSlots is how long every validator may take to seal again after
// a heal: its turn comes every third slot, so this allows several turns.
const maxSealerSlots = 15

// fault is one injection: do breaks something and returns once it is healed.
type fault struct {
	name string
	do   func(tn *testnet)
}

// result is one row of the report.
type result struct {
	fault      string
	slots      int
	sealSlots  int
	accepted   int
	included   int
	lost       int
	maxMemMiB  float64
	invariants string
}

func TestFaultInjection(t *testing.T) {
	requireDocker(t)
	tn := startTestnet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	obs := newObserver(tn)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { obs.run(ctx) })

	// Fund a few accounts from the faucet so the load has several senders.
	senders := []*crypto.PrivateKey{tn.faucet}
	var to []crypto.Address
	for range 4 {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		senders = append(senders, k)
		to = append(to, k.Address())
	}
	for _, n := range tn.nodes {
		a, err := crypto.ParseAddress(n.address)
		if err != nil {
			t.Fatal(err)
		}
		to = append(to, a)
	}
	tn.fund(ctx, senders[1:], 1_000_000_000)
	t.Logf("funded %d accounts; starting the load", len(senders)-1)

	ld := newLoad(ctx, tn, senders, to)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	wg.Go(func() { ld.run(loadCtx, 200*time.Millisecond) })

	slot := tn.interval
	faults := []fault{
		{"baseline (no fault)", func(tn *testnet) { time.Sleep(10 * slot) }},
		{"SIGKILL + restart validator node2", func(tn *testnet) {
			n := tn.nodes[1]
			n.setDown(true)
			tn.dockerOn(n, "kill", "-s", "KILL")
			time.Sleep(3 * slot)
			tn.dockerOn(n, "start")
			n.setDown(false)
		}},
		{"pause validator node3 10s", func(tn *testnet) {
			n := tn.nodes[2]
			n.setDown(true)
			tn.dockerOn(n, "pause")
			time.Sleep(10 * time.Second)
			tn.dockerOn(n, "unpause")
			n.setDown(false)
		}},
		{"disconnect validator node1 20s", func(tn *testnet) {
			n := tn.nodes[0]
			n.setDown(true)
			tn.must("docker", "network", "disconnect", tn.network, n.container)
			time.Sleep(20 * time.Second)
			tn.must("docker", "network", "connect", "--alias", n.name, tn.network, n.container)
			n.setDown(false)
		}},
		{"restart every node", func(tn *testnet) {
			args := []string{"docker", "restart", "-t", "20"}
			for _, n := range tn.nodes {
				n.setDown(true)
				args = append(args, n.container)
			}
			tn.must(args...)
			for _, n := range tn.nodes {
				n.setDown(false)
			}
		}},
		{"disconnect basic node4 20s", func(tn *testnet) {
			n := tn.nodes[3]
			n.setDown(true)
			tn.must("docker", "network", "disconnect", tn.network, n.container)
			time.Sleep(20 * time.Second)
			tn.must("docker", "network", "connect", "--alias", n.name, tn.network, n.container)
			n.setDown(false)
		}},
	}

	var rows []result
	var checkedFrom uint64 = 1
	for _, f := range faults {
		t.Logf("fault: %s", f.name)
		f.do(tn)
		healed := time.Now()
		healSlot := tn.currentSlot(ctx)
		target := tn.highestHead(ctx)
		took, err := tn.waitRecovered(ctx, 60*slot, target)
		slots := int(math.Ceil(float64(took) / float64(slot)))
		row := result{fault: f.name, slots: slots}
		var broken []string
		if err != nil {
			broken = append(broken, fmt.Sprintf("no recovery: %v", err))
		} else if slots > maxRecoverySlots {
			broken = append(broken, fmt.Sprintf("recovery took %d slots (limit %d)", slots, maxRecoverySlots))
		}
		// Liveness: every validator seals again soon after the heal (its
		// leader turn comes every third slot).
		_, err = tn.waitSealers(ctx, healSlot, max(time.Second, time.Duration(maxSealerSlots)*slot-time.Since(healed)))
		row.sealSlots = int(math.Ceil(float64(time.Since(healed)) / float64(slot)))
		if err != nil {
			broken = append(broken, "liveness: "+err.Error())
		}
		// Let the load run a little on the healed network before checking.
		time.Sleep(max(0, 4*slot-time.Since(healed)))
		broken = append(broken, tn.checkAll(ctx, obs, ld, &checkedFrom, &row, false)...)
		if len(broken) == 0 {
			row.invariants = "held"
		} else {
			row.invariants = "BROKEN"
			for _, b := range broken {
				t.Errorf("%s: %s", f.name, b)
			}
		}
		rows = append(rows, row)
	}

	// Drain: stop the load, keep resubmitting what is open, and expect
	// every accepted transaction in a finalized block.
	stopLoad()
	deadline := time.Now().Add(45 * slot)
	for time.Now().Before(deadline) && len(ld.openTxs()) > 0 {
		ld.step(ctx, false)
		ld.scanFinalized(ctx)
		ld.recheck(ctx)
		time.Sleep(slot)
	}
	row := result{fault: "final (load stopped)"}
	broken := tn.checkAll(ctx, obs, ld, &checkedFrom, &row, true)
	if len(broken) == 0 {
		row.invariants = "held"
	} else {
		row.invariants = "BROKEN"
		for _, b := range broken {
			t.Errorf("final: %s", b)
		}
	}
	rows = append(rows, row)
	st := ld.stats()
	var tab strings.Builder
	fmt.Fprintf(&tab, "\n%-36s %9s %12s %9s %9s %5s %8s  %s\n", "fault", "recovery", "all sealing", "accepted", "finalized", "lost", "mem MiB", "invariants")
	for _, r := range rows {
		rec, seal := fmt.Sprintf("%d slots", r.slots), fmt.Sprintf("%d slots", r.sealSlots)
		if r.fault == "final (load stopped)" {
			rec, seal = "-", "-"
		}
		fmt.Fprintf(&tab, "%-36s %9s %12s %9d %9d %5d %8.0f  %s\n", r.fault, rec, seal, r.accepted, r.included, r.lost, r.maxMemMiB, r.invariants)
	}
	fmt.Fprintf(&tab, "transactions signed %d, accepted %d, finalized %d, resubmitted after vanishing %d; refused: %v\n",
		st.submitted, st.accepted, st.included, st.lost, st.refused)
	obs.mu.Lock()
	fmt.Fprintf(&tab, "finalized heights watched %d, finalized events read %d\n", len(obs.finalized), obs.events)
	obs.mu.Unlock()
	t.Log(tab.String())
}

// fund sends amount from the faucet to each key and waits until all are
// finalized.
func (tn *testnet) fund(ctx context.Context, keys []*crypto.PrivateKey, amount uint64) {
	t := tn.t
	var txs []*types.Transaction
	for i, k := range keys {
		tx := &types.Transaction{ChainID: tn.chainID, Nonce: uint64(i + 1), From: tn.faucet.Address(), To: k.Address(),
			Amount: amount, Time: uint64(time.Now().UnixMilli())}
		if err := tx.Sign(tn.faucet); err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	l := &load{tn: tn}
	batch := make([]*sentTx, len(txs))
	for i, tx := range txs {
		batch[i] = &sentTx{tx: tx, id: tx.ID().String()}
	}
	res, err := l.submit(ctx, tn.nodes[0], batch)
	if err != nil {
		t.Fatalf("fund: %v", err)
	}
	for i, r := range res {
		if !r.Accepted {
			t.Fatalf("fund: transaction %d refused: %+v", i, r.Error)
		}
	}
	deadline := time.Now().Add(30 * tn.interval)
	for _, st := range batch {
		for {
			var tx struct {
				Status string `json:"status"`
			}
			if err := tn.get(ctx, tn.nodes[0].url+"/txs/"+st.id, &tx); err == nil && tx.Status == "finalized" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("fund: %s not finalized in 30 slots", st.id)
			}
			time.Sleep(tn.interval / 2)
		}
	}
}

// highestHead is the greatest height any node reports.
func (tn *testnet) highestHead(ctx context.Context) uint64 {
	var h uint64
	for _, n := range tn.nodes {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if s, err := tn.status(cctx, n); err == nil {
			h = max(h, s.Height)
		}
		cancel()
	}
	return h
}

// checkAll runs every invariant; it fills the row's counters and returns
// what broke. final demands that no accepted transaction is still open.
func (tn *testnet) checkAll(ctx context.Context, obs *observer, ld *load, checkedFrom *uint64, row *result, final bool) []string {
	var broken []string
	low, err := tn.checkAgreement(ctx, *checkedFrom)
	if err != nil {
		broken = append(broken, "agreement: "+err.Error())
	} else {
		*checkedFrom = max(*checkedFrom, low)
	}
	broken = append(broken, obs.takeViolations()...)
	if err := tn.checkEvidence(ctx); err != nil {
		broken = append(broken, "equivocation: "+err.Error())
	}

	// Exactly once: walk the whole finalized chain of one node and count
	// every transaction id.
	ld.scanFinalized(ctx)
	n := tn.nodes[0]
	s, err := tn.status(ctx, n)
	if err != nil {
		return append(broken, "status: "+err.Error())
	}
	bs, err := tn.blocks(ctx, n, 1, s.FinalizedHeight, true)
	if err != nil {
		return append(broken, "chain walk: "+err.Error())
	}
	seen := map[string]uint64{}
	for _, b := range bs {
		for _, tx := range b.Transactions {
			if prev, ok := seen[tx.ID]; ok {
				broken = append(broken, fmt.Sprintf("transaction %s applied twice: blocks %d and %d", tx.ID, prev, b.Number))
			}
			seen[tx.ID] = b.Number
		}
	}
	st := ld.stats()
	broken = append(broken, st.dup...)
	row.accepted, row.lost = st.accepted, st.lost
	ld.mu.Lock()
	included := 0
	var missing []string
	for id, tx := range ld.txs {
		if _, ok := seen[id]; ok {
			included++
			continue
		}
		if final {
			missing = append(missing, fmt.Sprintf("%s (nonce %d of %s, resubmitted %d×)", id, tx.tx.Nonce, tx.tx.From, tx.resubmits))
		}
	}
	ld.mu.Unlock()
	row.included = included
	if len(missing) > 0 {
		sort.Strings(missing)
		broken = append(broken, fmt.Sprintf("%d accepted transactions never finalized, e.g. %s", len(missing), missing[0]))
	}

	// Supply at the lowest finalized height, on a different node each time.
	h := s.FinalizedHeight
	for _, m := range tn.nodes {
		if ms, err := tn.status(ctx, m); err == nil {
			h = min(h, ms.FinalizedHeight)
		}
	}
	obs.mu.Lock()
	sn := tn.nodes[len(obs.finalized)%len(tn.nodes)]
	obs.mu.Unlock()
	if _, err := tn.checkSupply(ctx, sn, h); err != nil {
		broken = append(broken, "supply: "+err.Error())
	}

	mem, err := tn.memory()
	if err != nil {
		broken = append(broken, "docker stats: "+err.Error())
	}
	for name, b := range mem {
		row.maxMemMiB = max(row.maxMemMiB, b/(1<<20))
		if b > memLimit {
			broken = append(broken, fmt.Sprintf("%s uses %.0f MiB (limit %d MiB)", name, b/(1<<20), memLimit>>20))
		}
	}
	return broken
}
