//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// observer watches finality on every node, by polling /status and by
// following /events, and remembers every finalized (height, id) it saw:
// a second id for a height means a finalized block was replaced. It also
// checks that no node's height or finalized height ever goes backwards.
type observer struct {
	tn *testnet

	mu         sync.Mutex
	finalized  map[uint64]string
	seenBy     map[uint64]string
	lastHeight map[string]uint64
	lastFinal  map[string]uint64
	events     int
	violations []string
}

func newObserver(tn *testnet) *observer {
	return &observer{tn: tn, finalized: map[uint64]string{}, seenBy: map[uint64]string{},
		lastHeight: map[string]uint64{}, lastFinal: map[string]uint64{}}
}

func (o *observer) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, n := range o.tn.nodes {
		wg.Go(func() { o.poll(ctx, n) })
		wg.Go(func() { o.follow(ctx, n) })
	}
	wg.Wait()
}

func (o *observer) fail(format string, args ...any) {
	o.violations = append(o.violations, fmt.Sprintf(format, args...))
}

func (o *observer) record(n *node, src string, height uint64, id string) {
	if height == 0 || id == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.finalized[height]; ok && old != id {
		o.fail("finalized block replaced at height %d: %s (from %s) then %s (%s via %s)", height, old, o.seenBy[height], id, n.name, src)
		return
	}
	if _, ok := o.finalized[height]; !ok {
		o.finalized[height], o.seenBy[height] = id, n.name+" "+src
	}
}

func (o *observer) poll(ctx context.Context, n *node) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := o.tn.status(cctx, n)
		cancel()
		if err != nil {
			continue
		}
		o.record(n, "status", s.FinalizedHeight, s.Finalized)
		o.mu.Lock()
		if s.Height < o.lastHeight[n.name] {
			o.fail("%s: height went back from %d to %d", n.name, o.lastHeight[n.name], s.Height)
		}
		if s.FinalizedHeight < o.lastFinal[n.name] {
			o.fail("%s: finalized height went back from %d to %d", n.name, o.lastFinal[n.name], s.FinalizedHeight)
		}
		o.lastHeight[n.name] = max(o.lastHeight[n.name], s.Height)
		o.lastFinal[n.name] = max(o.lastFinal[n.name], s.FinalizedHeight)
		o.mu.Unlock()
	}
}

// follow reads the node's event stream, reconnecting while the node is
// down, and records every finalized event.
func (o *observer) follow(ctx context.Context, n *node) {
	for ctx.Err() == nil {
		o.stream(ctx, n)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (o *observer) stream(ctx context.Context, n *node) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.url+"/events", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	// A paused or cut-off node sends nothing, not even keep-alives: drop
	// the stream after 20 s of silence so the next one starts clean.
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	var event string
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Second):
			return
		case line, ok = <-lines:
			if !ok {
				return
			}
		}
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:") && event == "finalized":
			var ev struct {
				Kind  string `json:"kind"`
				Block *struct {
					ID     string `json:"id"`
					Number uint64 `json:"number"`
				} `json:"block"`
			}
			if json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "data:"))), &ev) == nil && ev.Block != nil {
				o.mu.Lock()
				o.events++
				o.mu.Unlock()
				o.record(n, "event", ev.Block.Number, ev.Block.ID)
			}
		case line == "":
			event = ""
		}
	}
}

func (o *observer) takeViolations() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	v := o.violations
	o.violations = nil
	return v
}

// waitRecovered polls until every node is ready, at or above target (the
// highest head seen when 0), and all agree on the block at target. It
// returns how long that took.
func (tn *testnet) waitRecovered(ctx context.Context, limit time.Duration, target uint64) (time.Duration, error) {
	start := time.Now()
	if target == 0 {
		for _, n := range tn.nodes {
			if s, err := tn.status(ctx, n); err == nil {
				target = max(target, s.Height)
			}
		}
	}
	target = max(target, 2)
	var last string
	for time.Since(start) < limit {
		if ok, why := tn.converged(ctx, target); ok {
			return time.Since(start), nil
		} else {
			last = why
		}
		time.Sleep(250 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("not recovered after %v: %s", limit, last)
}

func (tn *testnet) converged(ctx context.Context, target uint64) (bool, string) {
	var id string
	for _, n := range tn.nodes {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if !tn.ready(cctx, n) {
			return false, n.name + " not ready"
		}
		var b blockRef
		if err := tn.get(cctx, fmt.Sprintf("%s/blocks/%d?txs=false", n.url, target), &b); err != nil {
			return false, fmt.Sprintf("%s: block %d: %v", n.name, target, err)
		}
		if id == "" {
			id = b.ID
		} else if b.ID != id {
			return false, fmt.Sprintf("%s has %s at %d, another node %s", n.name, b.ID, target, id)
		}
	}
	return true, ""
}

// checkAgreement compares every node's canonical block ids from height
// `from` up to the lowest head. A mismatch is retried once after two slots,
// since a head may legitimately be replaced while the listing runs; the
// result is the lowest finalized height, below which later checks need not
// look again.
func (tn *testnet) checkAgreement(ctx context.Context, from uint64) (uint64, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var low uint64
		if low, err = tn.agreeOnce(ctx, from); err == nil {
			return low, nil
		}
		time.Sleep(2 * tn.interval)
	}
	return 0, err
}

func (tn *testnet) agreeOnce(ctx context.Context, from uint64) (uint64, error) {
	lowHead, lowFinal := uint64(1<<63), uint64(1<<63)
	for _, n := range tn.nodes {
		s, err := tn.status(ctx, n)
		if err != nil {
			return 0, fmt.Errorf("%s: status: %w", n.name, err)
		}
		lowHead, lowFinal = min(lowHead, s.Height), min(lowFinal, s.FinalizedHeight)
	}
	from = max(from, 1)
	var ref []blockRef
	for i, n := range tn.nodes {
		bs, err := tn.blocks(ctx, n, from, lowHead, false)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			ref = bs
			continue
		}
		for j := range bs {
			if bs[j].ID != ref[j].ID {
				return 0, fmt.Errorf("nodes disagree at height %d: %s has %s, %s has %s (lowest head %d, lowest finalized %d)",
					bs[j].Number, tn.nodes[0].name, ref[j].ID, n.name, bs[j].ID, lowHead, lowFinal)
			}
		}
	}
	return lowFinal, nil
}

// checkSupply walks the whole state at block n on one node: the balances
// must sum to the genesis allocation plus one reward per sealed block, and
// none may be negative.
func (tn *testnet) checkSupply(ctx context.Context, n *node, height uint64) (int, error) {
	total, accounts := new(big.Int), 0
	after := ""
	for page := 0; page < 1000; page++ {
		url := fmt.Sprintf("%s/%s/blk/%d/", n.url, n.address, height)
		if after != "" {
			url += "?state_after=" + after
		}
		var b struct {
			Reward         json.Number `json:"reward"`
			StateTruncated bool        `json:"state_truncated"`
			StateNext      string      `json:"state_next"`
			State          map[string]struct {
				Balance json.Number `json:"balance"`
			} `json:"state"`
		}
		if err := tn.get(ctx, url, &b); err != nil {
			return 0, fmt.Errorf("%s: state at %d: %w", n.name, height, err)
		}
		keys := make([]string, 0, len(b.State))
		for k := range b.State {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, ok := new(big.Int).SetString(b.State[k].Balance.String(), 10)
			if !ok {
				return 0, fmt.Errorf("%s: balance of %s is %q", n.name, k, b.State[k].Balance)
			}
			if v.Sign() < 0 {
				return 0, fmt.Errorf("%s: balance of %s at %d is negative: %s", n.name, k, height, v)
			}
			total.Add(total, v)
			accounts++
		}
		if !b.StateTruncated {
			want := new(big.Int).SetUint64(tn.alloc)
			want.Add(want, new(big.Int).Mul(new(big.Int).SetUint64(tn.reward), new(big.Int).SetUint64(height-1)))
			if total.Cmp(want) != 0 {
				return accounts, fmt.Errorf("%s: supply at block %d is %s, want genesis %d + %d×%d = %s",
					n.name, height, total, tn.alloc, tn.reward, height-1, want)
			}
			return accounts, nil
		}
		if b.StateNext == "" || b.StateNext <= after {
			return 0, fmt.Errorf("%s: state paging at %d does not advance (state_next %q)", n.name, height, b.StateNext)
		}
		after = b.StateNext
	}
	return 0, fmt.Errorf("%s: state at %d has too many pages", n.name, height)
}

// checkEvidence asks every node for equivocation evidence: a validator that
// signed two blocks for one slot (for instance after kill -9) shows up there.
func (tn *testnet) checkEvidence(ctx context.Context) error {
	for _, n := range tn.nodes {
		var ev struct {
			Evidence []struct {
				Sealer string `json:"sealer"`
				Slot   uint64 `json:"slot"`
			} `json:"evidence"`
		}
		if err := tn.get(ctx, n.url+"/evidence", &ev); err != nil {
			return fmt.Errorf("%s: evidence: %w", n.name, err)
		}
		if len(ev.Evidence) > 0 {
			return fmt.Errorf("%s reports equivocation: sealer %s slot %d (%d in all)", n.name, ev.Evidence[0].Sealer, ev.Evidence[0].Slot, len(ev.Evidence))
		}
	}
	return nil
}

// waitSealers polls until every validator has sealed a canonical block in
// a slot after since: a validator that stays silent after a fault is healed
// has stopped sealing. It returns how long that took.
func (tn *testnet) waitSealers(ctx context.Context, since uint64, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	want := map[string]string{}
	for _, n := range tn.nodes {
		if n.typ == "validator" {
			want[n.address] = n.name
		}
	}
	seen := map[string]bool{}
	for time.Since(start) < limit {
		for _, n := range tn.nodes {
			if n.isDown() {
				continue
			}
			var page struct {
				Blocks []blockRef `json:"blocks"`
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := tn.get(cctx, n.url+"/blocks?limit=30&txs=false", &page)
			cancel()
			if err != nil {
				continue
			}
			for _, b := range page.Blocks {
				if b.Slot > since {
					seen[b.Sealer] = true
				}
			}
			break
		}
		missing := []string{}
		for a, name := range want {
			if !seen[a] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return time.Since(start), nil
		}
		if time.Since(start)+500*time.Millisecond >= limit {
			sort.Strings(missing)
			return time.Since(start), fmt.Errorf("no block sealed after slot %d by %s within %v", since, strings.Join(missing, ", "), limit)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("sealers not back within %v", limit)
}

// currentSlot is the slot a node reports.
func (tn *testnet) currentSlot(ctx context.Context) uint64 {
	for _, n := range tn.nodes {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := tn.status(cctx, n)
		cancel()
		if err == nil {
			return s.Slot
		}
	}
	return 0
}
