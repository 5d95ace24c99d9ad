package discovery

import (
	"fmt"
	"time"
)

// record is one live registration.
type record struct {
	entry    Entry     // as received, signature included
	seen     time.Time // registry clock at the last accepted refresh
	rangeKey string    // source address range of the last refresh
	ipKey    string    // source address (IPv6: /64) of the last refresh; "" = not counted (older state files)
	idx      int       // position in table.order
}

// tombstone remembers the timestamp of a removed or expired entry for as long
// as that timestamp is inside the clock window, so a captured registration
// cannot resurrect it.
type tombstone struct{ ts int64 }

// table is the registry's state. It is not safe for concurrent use; the
// Server guards it with its mutex.
type table struct {
	ttl         time.Duration
	skew        time.Duration
	maxEntries  int
	maxPerRange int // <= 0: no per-range cap
	maxPerIP    int // <= 0: no per-address cap

	byAddr   map[string]*record
	order    []*record // for O(1) random sampling and removal
	tombs    map[string]tombstone
	perRange map[string]int
	perIP    map[string]int
}

// source is where a registration came from, as the caps count it.
type source struct{ ipKey, rangeKey string }

func newTable(ttl, skew time.Duration, maxEntries, maxPerRange, maxPerIP int) *table {
	return &table{
		ttl:         ttl,
		skew:        skew,
		maxEntries:  maxEntries,
		maxPerRange: maxPerRange,
		maxPerIP:    maxPerIP,
		byAddr:      make(map[string]*record),
		tombs:       make(map[string]tombstone),
		perRange:    make(map[string]int),
		perIP:       make(map[string]int),
	}
}

func (t *table) live(r *record, now time.Time) bool { return now.Sub(r.seen) <= t.ttl }

// checkClock refuses timestamps outside the window around the registry clock.
func (t *table) checkClock(ts int64, now time.Time) error {
	d := now.Sub(time.UnixMilli(ts))
	if d > t.skew || d < -t.skew {
		return fmt.Errorf("%w: timestamp is %s away from the registry clock (allowed %s)", ErrStale, d.Round(time.Second), t.skew)
	}
	return nil
}

// floor is the newest timestamp already seen for addr.
func (t *table) floor(addr string) (int64, bool) {
	var f int64
	ok := false
	if r := t.byAddr[addr]; r != nil {
		f, ok = r.entry.Timestamp, true
	}
	if tb, has := t.tombs[addr]; has && (!ok || tb.ts > f) {
		f, ok = tb.ts, true
	}
	return f, ok
}

// upsert applies a verified registration received from src. It reports
// whether the entry is new (as opposed to a refresh).
func (t *table) upsert(e Entry, src source, now time.Time) (bool, error) {
	if err := t.checkClock(e.Timestamp, now); err != nil {
		return false, err
	}
	r := t.byAddr[e.Address]
	if r != nil && !t.live(r, now) {
		t.drop(r)
		t.tomb(r.entry.Address, r.entry.Timestamp, now)
		r = nil
	}
	if f, ok := t.floor(e.Address); ok {
		if e.Timestamp < f {
			return false, fmt.Errorf("%w: timestamp %d is older than %d already seen", ErrStale, e.Timestamp, f)
		}
		if e.Timestamp == f {
			// The same request twice (a retry) is harmless and changes
			// nothing, not even the expiry; anything else at the same
			// timestamp is a replay with altered unsigned fields.
			if r != nil && sameContent(r.entry, e) {
				return false, nil
			}
			return false, fmt.Errorf("%w: timestamp %d already used", ErrStale, e.Timestamp)
		}
	}
	if r != nil {
		// A refresh from another address counts there from now on, but
		// may not push that address past its cap.
		if src.ipKey != r.ipKey && t.maxPerIP > 0 && src.ipKey != "" && t.perIP[src.ipKey] >= t.maxPerIP {
			return false, fmt.Errorf("%w: %d entries from address %s", ErrFull, t.maxPerIP, src.ipKey)
		}
		t.moveRange(r, src.rangeKey)
		t.moveIP(r, src.ipKey)
		r.entry, r.seen = e, now
		return false, nil
	}
	if len(t.byAddr) >= t.maxEntries {
		t.sweep(now)
		if len(t.byAddr) >= t.maxEntries {
			return false, fmt.Errorf("%w: %d entries", ErrFull, t.maxEntries)
		}
	}
	if t.maxPerIP > 0 && src.ipKey != "" && t.perIP[src.ipKey] >= t.maxPerIP {
		return false, fmt.Errorf("%w: %d entries from address %s", ErrFull, t.maxPerIP, src.ipKey)
	}
	if t.maxPerRange > 0 && t.perRange[src.rangeKey] >= t.maxPerRange {
		return false, fmt.Errorf("%w: %d entries from address range %s", ErrFull, t.maxPerRange, src.rangeKey)
	}
	delete(t.tombs, e.Address)
	t.insert(&record{entry: e, seen: now, rangeKey: src.rangeKey, ipKey: src.ipKey})
	return true, nil
}

// remove applies a verified removal.
func (t *table) remove(e Entry, now time.Time) error {
	if err := t.checkClock(e.Timestamp, now); err != nil {
		return err
	}
	r := t.byAddr[e.Address]
	if r == nil || !t.live(r, now) {
		return fmt.Errorf("%w: no entry for %s", ErrNotFound, e.Address)
	}
	if e.Timestamp < r.entry.Timestamp {
		return fmt.Errorf("%w: removal timestamp %d is older than the registration %d", ErrStale, e.Timestamp, r.entry.Timestamp)
	}
	t.drop(r)
	t.tomb(e.Address, e.Timestamp, now)
	return nil
}

func (t *table) moveRange(r *record, to string) {
	if r.rangeKey == to {
		return
	}
	t.decRange(r.rangeKey)
	r.rangeKey = to
	t.perRange[to]++
}

func (t *table) decRange(k string) { dec(t.perRange, k) }

func (t *table) moveIP(r *record, to string) {
	if r.ipKey == to {
		return
	}
	if r.ipKey != "" {
		dec(t.perIP, r.ipKey)
	}
	r.ipKey = to
	if to != "" {
		t.perIP[to]++
	}
}

func dec(m map[string]int, k string) {
	if n := m[k]; n <= 1 {
		delete(m, k)
	} else {
		m[k] = n - 1
	}
}

// insert adds a record that is not in the table to every index.
func (t *table) insert(r *record) {
	r.idx = len(t.order)
	t.byAddr[r.entry.Address] = r
	t.order = append(t.order, r)
	t.perRange[r.rangeKey]++
	if r.ipKey != "" {
		t.perIP[r.ipKey]++
	}
}

// drop removes r from every index.
func (t *table) drop(r *record) {
	last := len(t.order) - 1
	t.order[r.idx] = t.order[last]
	t.order[r.idx].idx = r.idx
	t.order[last] = nil
	t.order = t.order[:last]
	delete(t.byAddr, r.entry.Address)
	t.decRange(r.rangeKey)
	if r.ipKey != "" {
		dec(t.perIP, r.ipKey)
	}
}

// tomb records a dead entry's timestamp while it can still be replayed.
func (t *table) tomb(addr string, ts int64, now time.Time) {
	if time.UnixMilli(ts).Add(t.skew).Before(now) {
		return // already outside the window; the clock check refuses it
	}
	if len(t.tombs) >= 2*t.maxEntries {
		t.pruneTombs(now)
		for k := range t.tombs {
			if len(t.tombs) < 2*t.maxEntries {
				break
			}
			delete(t.tombs, k)
		}
	}
	if old, ok := t.tombs[addr]; !ok || ts > old.ts {
		t.tombs[addr] = tombstone{ts: ts}
	}
}

func (t *table) pruneTombs(now time.Time) {
	for k, tb := range t.tombs {
		if time.UnixMilli(tb.ts).Add(t.skew).Before(now) {
			delete(t.tombs, k)
		}
	}
}

// sweep drops expired entries and tombstones, returning how many entries went.
func (t *table) sweep(now time.Time) int {
	n := 0
	for i := 0; i < len(t.order); {
		r := t.order[i]
		if t.live(r, now) {
			i++
			continue
		}
		t.drop(r) // moves the last record into slot i
		t.tomb(r.entry.Address, r.entry.Timestamp, now)
		n++
	}
	t.pruneTombs(now)
	return n
}

// filter selects entries by network and chain; zero values mean "any".
type filter struct {
	networkID uint64
	chainID   string
}

func (f filter) match(e *Entry) bool {
	return (f.networkID == 0 || e.NetworkID == f.networkID) && (f.chainID == "" || e.ChainID == f.chainID)
}

// sample returns up to limit distinct live entries matching f, chosen
// uniformly at random, signatures stripped. It first walks a lazily built
// random permutation, which is cheap when most entries match; if that does
// not fill the answer within a few steps (a selective filter), it collects
// the remaining matches in one linear pass and draws from them. Both phases
// treat matching entries alike, so the choice stays uniform, and the cost is
// bounded by one pass over the table.
func (t *table) sample(limit int, f filter, now time.Time, intN func(int) int) []Entry {
	n := len(t.order)
	out := make([]Entry, 0, min(limit, n))
	cutoff := now.Add(-t.ttl)
	ok := func(r *record) bool { return f.match(&r.entry) && !r.seen.Before(cutoff) }
	take := func(r *record) {
		e := r.entry
		e.Signature = ""
		out = append(out, e)
	}

	steps := min(n, 4*limit+16)
	swapped := make(map[int]int)
	at := func(i int) int {
		if v, has := swapped[i]; has {
			return v
		}
		return i
	}
	visited := make(map[int]struct{}, steps)
	for i := 0; i < steps && len(out) < limit; i++ {
		j := i + intN(n-i)
		vi, vj := at(i), at(j)
		swapped[j] = vi
		delete(swapped, i) // position i is never visited again
		visited[vj] = struct{}{}
		if r := t.order[vj]; ok(r) {
			take(r)
		}
	}
	if len(out) == limit || len(visited) == n {
		return out
	}

	var cand []int
	for idx, r := range t.order {
		if !ok(r) {
			continue
		}
		if _, seen := visited[idx]; !seen {
			cand = append(cand, idx)
		}
	}
	for i := 0; i < len(cand) && len(out) < limit; i++ {
		j := i + intN(len(cand)-i)
		cand[i], cand[j] = cand[j], cand[i]
		take(t.order[cand[i]])
	}
	return out
}

// liveCount counts live entries.
func (t *table) liveCount(now time.Time) int {
	n := 0
	for _, r := range t.order {
		if t.live(r, now) {
			n++
		}
	}
	return n
}

// sameContent compares everything but the signature, which PSS randomizes.
func sameContent(a, b Entry) bool {
	a.Signature, b.Signature = "", ""
	return a == b
}
