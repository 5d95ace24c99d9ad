package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// batch is one POST /txs body, rendered before the clock starts.
type batch struct {
	recs []*txRec
	body []byte
}

// runner holds the state of one run.
type runner struct {
	cfg     Config
	clients []*nodeClient
	chainID types.Hash
	slot    time.Duration
	keys    []*crypto.PrivateKey
	work    *workload // Config.Workload's content, or an empty one
	recs    []*txRec
	lanes   []lane
	led     *ledger
	rep     *Report

	backoffs atomic.Int64 // batches a node asked us to send again later
}

// Run performs a whole run: fund, pre-sign, calibrate, measure. When ctx
// ends during the measurement, the report of what was measured so far is
// returned together with ctx's error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg}
	for _, u := range cfg.Nodes {
		r.clients = append(r.clients, &nodeClient{base: trimSlash(u), hc: cfg.HTTPClient})
	}
	r.rep = &Report{Nodes: cfg.Nodes, NetworkNodes: cfg.NetworkNodes, Accounts: cfg.Accounts, Txs: cfg.Txs,
		Rate: cfg.Rate, Batch: cfg.Batch, DurationS: cfg.Duration.Seconds(), Workers: cfg.Workers, Rejected: map[string]int{}}

	st, err := r.clients[0].status(ctx)
	if err != nil {
		return nil, fmt.Errorf("status of %s: %w", cfg.Nodes[0], err)
	}
	if r.chainID, err = types.ParseHash(st.ChainID); err != nil {
		return nil, fmt.Errorf("%w: chain id %q: %v", ErrNode, st.ChainID, err)
	}
	r.slot = time.Duration(st.IntervalMs) * time.Millisecond
	r.rep.IntervalMs = st.IntervalMs
	if r.cfg.DrainIdle == 0 {
		r.cfg.DrainIdle = max(20*r.slot, 10*time.Second)
	}

	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"generating sender keys", r.generateKeys},
		{"funding senders", r.fund},
		{"pre-signing", r.presign},
		{"calibrating verify rate", r.calibrate},
	}
	for _, s := range steps {
		fmt.Fprintf(cfg.Out, "%s...\n", s.name)
		if err := s.f(ctx); err != nil {
			return nil, err
		}
	}
	return r.measure(ctx)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
		failed  atomic.Bool
	)
	for range min(workers, n) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					errOnce.Do(func() { first = err })
					failed.Store(true)
					return
				}
				if err := f(i); err != nil {
					errOnce.Do(func() { first = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

func (r *runner) generateKeys(ctx context.Context) error {
	start := time.Now()
	defer func() { r.rep.KeygenS = time.Since(start).Seconds() }()
	r.work = &workload{}
	if r.cfg.Workload != "" {
		w, err := loadWorkload(r.cfg.Workload)
		if err != nil {
			return err
		}
		r.work = w
	}
	r.work.forChain(r.chainID)
	have := min(len(r.work.keys), r.cfg.Accounts)
	fresh := make([]*crypto.PrivateKey, r.cfg.Accounts-have)
	err := parallel(ctx, len(fresh), r.cfg.Workers, func(i int) error {
		k, err := r.cfg.GenerateKey()
		fresh[i] = k
		return err
	})
	if err != nil {
		return err
	}
	r.work.addKeys(fresh)
	r.keys = r.work.keys[:r.cfg.Accounts]
	if have > 0 {
		fmt.Fprintf(r.cfg.Out, "reused %d sender keys from %s\n", have, r.cfg.Workload)
	}
	return nil
}

// senderNonces returns each sender's nonce on the chain: zero for new
// keys, asked of the first node for keys a workload file brought (an
// earlier run may have spent some of their transfers).
func (r *runner) senderNonces(ctx context.Context) ([]uint64, error) {
	n0 := make([]uint64, len(r.keys))
	if r.cfg.Workload == "" {
		return n0, nil
	}
	err := parallel(ctx, len(r.keys), r.cfg.Workers, func(s int) error {
		a, err := r.clients[0].account(ctx, r.keys[s].Address().String())
		if err != nil {
			return fmt.Errorf("sender %s: %w", r.keys[s].Address(), err)
		}
		n0[s] = max(a.Nonce, a.NextNonce-min(a.NextNonce, 1))
		return nil
	})
	return n0, err
}

// perSender is how many transfers each sender signs.
func (r *runner) perSender() int { return (r.cfg.Txs + r.cfg.Accounts - 1) / r.cfg.Accounts }

// fund pays every sender enough for all its transfers, from the faucet, and
// waits until every node has applied the payments.
func (r *runner) fund(ctx context.Context) error {
	start := time.Now()
	defer func() { r.rep.FundingS = time.Since(start).Seconds() }()
	faucet := r.cfg.Faucet.Address()
	acct, err := r.clients[0].account(ctx, faucet.String())
	if err != nil {
		return fmt.Errorf("%w: faucet account: %v", ErrFunding, err)
	}
	amount := uint64(r.perSender())*r.cfg.MaxAmount + r.cfg.MaxAmount
	if need := amount * uint64(len(r.keys)); acct.Balance < need {
		return fmt.Errorf("%w: faucet %s holds %d, the senders need %d", ErrFunding, faucet, acct.Balance, need)
	}
	first := acct.NextNonce
	if first <= acct.Nonce {
		first = acct.Nonce + 1
	}
	now := uint64(time.Now().UnixMilli())
	txs := make([]*types.Transaction, len(r.keys))
	err = parallel(ctx, len(txs), r.cfg.Workers, func(i int) error {
		t := &types.Transaction{ChainID: r.chainID, Nonce: first + uint64(i), From: faucet,
			To: r.keys[i].Address(), Amount: amount, Time: now}
		txs[i] = t
		return t.Sign(r.cfg.Faucet)
	})
	if err != nil {
		return fmt.Errorf("%w: signing: %v", ErrFunding, err)
	}
	// One node, in nonce order, so the faucet's transfers never queue
	// behind a gap.
	for lo := 0; lo < len(txs); lo += r.cfg.Batch {
		hi := min(lo+r.cfg.Batch, len(txs))
		raws := make([][]byte, 0, hi-lo)
		for _, t := range txs[lo:hi] {
			raws = append(raws, t.Encode(nil))
		}
		resp, err := r.clients[0].submit(ctx, api.EncodeTxBatch(raws))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrFunding, err)
		}
		for i, res := range resp.Results {
			if !res.Accepted && (res.Error == nil || res.Error.Code != api.CodeKnown) {
				code, msg := "unknown", ""
				if res.Error != nil {
					code, msg = res.Error.Code, res.Error.Message
				}
				return fmt.Errorf("%w: funding transfer %d refused: %s: %s", ErrFunding, lo+i, code, msg)
			}
		}
	}
	last := first + uint64(len(txs)) - 1
	ctx, cancel := context.WithTimeout(ctx, r.cfg.FundTimeout)
	defer cancel()
	for {
		done := 0
		for _, c := range r.clients {
			a, err := c.account(ctx, faucet.String())
			if err == nil && a.Nonce >= last {
				done++
			}
		}
		if done == len(r.clients) {
			fmt.Fprintf(r.cfg.Out, "funded %d senders with %d each in %.1fs\n", len(txs), amount, time.Since(start).Seconds())
			return nil
		}
		if !sleep(ctx, 200*time.Millisecond) {
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("%w: funding not applied on all nodes after %s", ErrFunding, r.cfg.FundTimeout)
			}
			return ctx.Err()
		}
	}
}

// lane is one submitter's share of one node's transfers. Every transfer of
// a sender goes through the same lane, in nonce order: submitters sharing a
// sender could deliver a later batch first, and a node refuses nonces too
// far ahead of the pool (nonce_gap), which measures the generator rather
// than the network.
type lane struct {
	node    int
	batches []*batch
}

// presign signs and renders every transfer: transfer i is from sender
// i mod A with nonce i/A+1, to another sender, and goes to node
// (sender mod nodes). Then it cuts each lane's stream into batches.
func (r *runner) presign(ctx context.Context) error {
	a := len(r.keys)
	n := r.cfg.Txs
	n0, err := r.senderNonces(ctx)
	if err != nil {
		return err
	}
	for s := range a {
		r.work.advance(s, n0[s])
	}
	r.recs = make([]*txRec, n)
	objs := make([][]byte, n)
	txs := make([]*types.Transaction, n)
	var signed atomic.Int64
	now := uint64(time.Now().UnixMilli())
	start := time.Now()
	err = parallel(ctx, n, r.cfg.Workers, func(i int) error {
		s := i % a
		nonce := n0[s] + uint64(i/a) + 1
		t := r.work.get(s, nonce)
		if t == nil {
			to := r.cfg.Faucet.Address()
			if a > 1 {
				// Deterministic spread over the other senders.
				to = r.keys[(s+1+int(nonce*7919%uint64(a-1)))%a].Address()
			}
			t = &types.Transaction{ChainID: r.chainID, Nonce: nonce, From: r.keys[s].Address(), To: to,
				Amount: 1 + (nonce*uint64(a)+uint64(s))%r.cfg.MaxAmount, Time: now}
			if err := t.Sign(r.keys[s]); err != nil {
				return err
			}
			signed.Add(1)
		}
		r.recs[i] = &txRec{id: t.ID(), node: s % len(r.clients)}
		objs[i], txs[i] = t.Encode(nil), t
		return nil
	})
	if err == nil && r.cfg.Workload != "" {
		for i, t := range txs { // ascending i is ascending nonce per sender
			r.work.put(i%a, t)
		}
		if err = r.work.save(r.cfg.Workload); err != nil {
			err = fmt.Errorf("%w: save %s: %v", ErrWorkload, r.cfg.Workload, err)
		}
	}
	el := time.Since(start)
	r.rep.SignS, r.rep.SignRate = el.Seconds(), rate(int(signed.Load()), el)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.cfg.Out, "signed %d transfers in %.1fs (%.0f sig/s on %d workers), %d reused from the workload file\n",
		signed.Load(), el.Seconds(), r.rep.SignRate, r.cfg.Workers, n-int(signed.Load()))

	nodes, subs := len(r.clients), max(r.cfg.Submitters, 1)
	r.lanes = make([]lane, nodes*subs)
	for l := range r.lanes {
		r.lanes[l].node = l % nodes
	}
	cur := make([]*batch, len(r.lanes))
	curObjs := make([][][]byte, len(r.lanes))
	flush := func(l int) {
		if cur[l] == nil {
			return
		}
		cur[l].body = api.EncodeTxBatch(curObjs[l])
		r.lanes[l].batches = append(r.lanes[l].batches, cur[l])
		cur[l], curObjs[l] = nil, nil
	}
	for i, rec := range r.recs {
		s := i % a
		l := s%nodes + nodes*((s/nodes)%subs) // so r.lanes[l].node == rec.node
		if cur[l] == nil {
			cur[l] = &batch{}
		}
		cur[l].recs = append(cur[l].recs, rec)
		curObjs[l] = append(curObjs[l], objs[i])
		if len(cur[l].recs) == r.cfg.Batch {
			flush(l)
		}
	}
	for l := range cur {
		flush(l)
	}
	r.led = newLedger(r.recs)
	return nil
}

// calibrate measures how many transaction signatures this machine verifies
// per second on all workers, the way a node does (key cache, decoded id).
func (r *runner) calibrate(ctx context.Context) error {
	k := r.keys[0]
	t := &types.Transaction{ChainID: r.chainID, Nonce: 1, From: k.Address(), To: r.cfg.Faucet.Address(), Amount: 1}
	if err := t.Sign(k); err != nil {
		return err
	}
	enc := t.Encode(nil)
	var total atomic.Int64
	var failed atomic.Bool
	start := time.Now()
	deadline := start.Add(r.cfg.Calibration)
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Go(func() {
			cache := crypto.NewKeyCache(16)
			tx, err := types.DecodeTx(enc)
			if err != nil {
				failed.Store(true)
				return
			}
			pub, err := cache.Parse(tx.PublicKey)
			if err != nil {
				failed.Store(true)
				return
			}
			n := int64(0)
			for ctx.Err() == nil {
				// The RSA check itself, not VerifySignature: the node's
				// cache remembers signatures it verified, so repeating one
				// would measure the cache. The ceiling is about the first
				// check of each transaction, which nothing saves.
				if err := pub.Verify(tx.ID(), tx.Signature); err != nil {
					failed.Store(true)
					return
				}
				n++
				if n%8 == 0 && time.Now().After(deadline) {
					break
				}
			}
			total.Add(n)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed.Load() {
		return errors.New("bench: calibration transaction does not verify")
	}
	r.rep.VerifyRate = rate(int(total.Load()), time.Since(start))
	r.rep.Ceiling = r.rep.VerifyRate / float64(r.cfg.NetworkNodes)
	fmt.Fprintf(r.cfg.Out, "verify rate %.0f/s on %d workers; ceiling %.0f tx/s for %d nodes\n",
		r.rep.VerifyRate, r.cfg.Workers, r.rep.Ceiling, r.cfg.NetworkNodes)
	return nil
}

// measure submits, follows the chain, drains and builds the report.
func (r *runner) measure(ctx context.Context) (*Report, error) {
	trk := newTracker(r.clients[0], r.led, r.cfg.Logger.Named("tracker"), r.cfg.Now, r.cfg.Poll)
	if err := trk.start(ctx); err != nil {
		return nil, err
	}
	tctx, stopTracker := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Go(func() { trk.run(tctx) })
	defer func() { stopTracker(); bg.Wait() }()

	start := r.cfg.Now()
	progressDone := make(chan struct{})
	bg.Go(func() { r.progress(tctx, trk, start, progressDone) })

	r.submitAll(ctx)
	submitEnd := r.cfg.Now()
	r.drain(ctx)
	close(progressDone)
	stopTracker()
	bg.Wait()
	r.finish(submitEnd)
	return r.rep, ctx.Err()
}

// submitAll sends every batch, stopping new ones when the duration is over.
func (r *runner) submitAll(ctx context.Context) {
	deadline := r.cfg.Now().Add(r.cfg.Duration)
	var bkt *bucket
	if r.cfg.Rate > 0 {
		bkt = newBucket(r.cfg.Rate, r.cfg.Batch, r.cfg.Now)
	}
	var wg sync.WaitGroup
	for _, ln := range r.lanes {
		wg.Go(func() {
			for _, b := range ln.batches {
				if ctx.Err() != nil || !r.cfg.Now().Before(deadline) {
					return
				}
				if bkt != nil && !bkt.take(ctx, len(b.recs)) {
					return
				}
				if !r.cfg.Now().Before(deadline) {
					return
				}
				// A node that answers overloaded or busy asks us to come
				// back after Retry-After: the lane waits and sends the same
				// batch again, as a well-behaved client does, while the
				// run lasts.
				for {
					wait, again := r.send(ctx, ln.node, b)
					if !again {
						break
					}
					r.backoffs.Add(1)
					if !r.cfg.Now().Add(wait).Before(deadline) || !sleep(ctx, wait) {
						r.refuse(b, "overloaded")
						return
					}
				}
			}
		})
	}
	wg.Wait()
	r.rep.Backoffs = int(r.backoffs.Load())
}

// refuse records a batch the node refused as a whole.
func (r *runner) refuse(b *batch, code string) {
	for _, rec := range b.recs {
		r.led.outcome(rec, code)
	}
}

// send submits one batch and records each transfer's outcome. When the
// node refuses the whole batch for now (503 overloaded or busy) nothing is
// recorded: it returns the node's Retry-After and again = true.
func (r *runner) send(ctx context.Context, node int, b *batch) (wait time.Duration, again bool) {
	r.led.sent(b.recs, r.cfg.Now())
	resp, err := r.clients[node].submit(ctx, b.body)
	if err == nil && len(resp.Results) != len(b.recs) {
		err = &apiError{Code: "bad_response", Message: fmt.Sprintf("%d results for %d transactions", len(resp.Results), len(b.recs))}
	}
	if err != nil {
		code := "transport"
		var ae *apiError
		switch {
		case errors.As(err, &ae):
			code = ae.Code
		case ctx.Err() != nil:
			code = "cancelled"
		}
		if ae != nil && ae.Status == http.StatusServiceUnavailable && (ae.Code == api.CodeOverloaded || ae.Code == api.CodeBusy) {
			return max(ae.RetryAfter, time.Second), true
		}
		r.cfg.Logger.Debug("batch failed", "node", r.cfg.Nodes[node], "code", code, "error", err)
		r.refuse(b, code)
		return 0, false
	}
	for i, res := range resp.Results {
		code := ""
		if !res.Accepted {
			code = "unknown"
			if res.Error != nil && res.Error.Code != "" {
				code = res.Error.Code
			}
		}
		r.led.outcome(b.recs[i], code)
	}
	return 0, false
}

// drain waits for the accepted transfers to be included and finalized,
// giving up after DrainTimeout or DrainIdle without progress.
func (r *runner) drain(ctx context.Context) {
	deadline := time.Now().Add(r.cfg.DrainTimeout)
	last := r.led.counts()
	lastChange := time.Now()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		c := r.led.counts()
		if c.included >= c.accepted && c.finalized >= c.included {
			return
		}
		if c.included != last.included || c.finalized != last.finalized {
			last, lastChange = c, time.Now()
		} else if time.Since(lastChange) > r.cfg.DrainIdle {
			r.cfg.Logger.Warn("no progress, stopping the wait", "included", c.included, "finalized", c.finalized, "accepted", c.accepted)
			return
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

func (r *runner) progress(ctx context.Context, trk *tracker, start time.Time, done <-chan struct{}) {
	tick := time.NewTicker(r.cfg.Progress)
	defer tick.Stop()
	prev := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
		}
		c := r.led.counts()
		fetched, head := trk.position()
		fmt.Fprintf(r.cfg.Out, "[%5.1fs] sent %d accepted %d rejected %d included %d (+%.0f tx/s) finalized %d; block %d/%d final %d\n",
			r.cfg.Now().Sub(start).Seconds(), c.submitted, c.accepted, c.rejected, c.included,
			float64(c.included-prev)/r.cfg.Progress.Seconds(), c.finalized, fetched, head, c.finHeight)
		prev = c.included
	}
}

// finish fills the report from the ledger.
func (r *runner) finish(submitEnd time.Time) {
	l := r.led
	incl, fin := l.latencies()
	l.mu.Lock()
	rep := r.rep
	rep.Submitted, rep.Accepted, rep.Included, rep.Finalized = l.submitted, l.accepted, l.included, l.finalized
	for k, v := range l.rejected {
		rep.Rejected[k] = v
	}
	rep.Unsent = len(r.recs) - l.submitted
	first := l.firstSent
	lastIncl, lastFin := l.lastIncl, l.lastFin
	l.mu.Unlock()
	if !first.IsZero() {
		sub := submitEnd.Sub(first)
		rep.SubmitS, rep.SubmitRate, rep.AcceptRate = sub.Seconds(), rate(rep.Submitted, sub), rate(rep.Accepted, sub)
		if !lastIncl.IsZero() {
			w := lastIncl.Sub(first)
			rep.IncludedS, rep.IncludedRate = w.Seconds(), rate(rep.Included, w)
		}
		if !lastFin.IsZero() {
			w := lastFin.Sub(first)
			rep.FinalizedS, rep.FinalizedRate = w.Seconds(), rate(rep.Finalized, w)
		}
	}
	if rep.Ceiling > 0 {
		rep.CeilingFraction = rep.IncludedRate / rep.Ceiling
		rep.FinalizedFraction = rep.FinalizedRate / rep.Ceiling
	}
	rep.Inclusion = Summarize(incl, r.slot)
	rep.Finality = Summarize(fin, r.slot)
}
