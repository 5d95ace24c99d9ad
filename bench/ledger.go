package bench

import (
	"sort"
	"sync"
	"time"

	"ccoin/ccoin/types"
)

// txRec is one pre-signed transfer and what happened to it.
type txRec struct {
	id   types.Hash
	node int    // index of the node it goes to
	body []byte // its JSON object, rendered before the clock starts

	sentAt   time.Time
	state    uint8 // stateUnsent, stateSent, stateAccepted, stateRejected
	inclAt   time.Time
	block    uint64
	finAt    time.Time
	included bool
	final    bool
}

const (
	stateUnsent = iota
	stateSent
	stateAccepted
	stateRejected
)

// finStep records when the finalized height first reached height.
type finStep struct {
	height uint64
	at     time.Time
}

// ledger holds every record and the counters, under one lock: writers are
// one submitter per batch and the tracker per block, so contention is low.
type ledger struct {
	byID map[types.Hash]*txRec // read-only once built

	mu        sync.Mutex
	submitted int
	accepted  int
	included  int
	finalized int
	rejected  map[string]int
	firstSent time.Time
	lastIncl  time.Time
	lastFin   time.Time
	pending   map[uint64][]*txRec // included, not yet final, by block number
	finHeight uint64
	steps     []finStep
}

func newLedger(recs []*txRec) *ledger {
	l := &ledger{byID: make(map[types.Hash]*txRec, len(recs)), rejected: map[string]int{}, pending: map[uint64][]*txRec{}}
	for _, r := range recs {
		l.byID[r.id] = r
	}
	return l
}

// sent marks a batch as on its way.
func (l *ledger) sent(batch []*txRec, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.firstSent.IsZero() {
		l.firstSent = at
	}
	for _, r := range batch {
		if r.state != stateSent { // a batch sent again after Retry-After counts once
			l.submitted++
		}
		r.sentAt, r.state = at, stateSent
	}
}

// outcome records one transaction's answer; code is "" when accepted.
func (l *ledger) outcome(r *txRec, code string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if code == "" {
		r.state = stateAccepted
		l.accepted++
		return
	}
	r.state = stateRejected
	l.rejected[code]++
}

// setFinalHeight records that the finalized height is h at time at, and
// marks every included transaction at or below it final.
func (l *ledger) setFinalHeight(h uint64, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h <= l.finHeight {
		return
	}
	l.steps = append(l.steps, finStep{height: h, at: at})
	for n, recs := range l.pending {
		if n > h {
			continue
		}
		for _, r := range recs {
			l.finalizeLocked(r, at)
		}
		delete(l.pending, n)
	}
	l.finHeight = h
}

// baseFinal starts finality tracking at the height the node had already
// finalized before the run, without recording a step.
func (l *ledger) baseFinal(h uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.finHeight = max(l.finHeight, h)
}

func (l *ledger) finalizeLocked(r *txRec, at time.Time) {
	if r.final || r.block == 0 {
		return
	}
	if at.Before(r.inclAt) {
		at = r.inclAt
	}
	r.final, r.finAt = true, at
	l.finalized++
	if at.After(l.lastFin) {
		l.lastFin = at
	}
}

// include records that block number n, seen at time at, holds ids. The
// first appearance sets the inclusion time; a later one (after a reorg)
// only moves the transaction to its new block.
func (l *ledger) include(n uint64, ids []types.Hash, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		r := l.byID[id]
		if r == nil || r.final {
			continue
		}
		if !r.included {
			r.included, r.inclAt = true, at
			l.included++
			if at.After(l.lastIncl) {
				l.lastIncl = at
			}
		}
		r.block = n
		if n <= l.finHeight {
			l.finalizeLocked(r, l.finTimeLocked(n, at))
			continue
		}
		l.pending[n] = append(l.pending[n], r)
	}
}

// finTimeLocked is when the finalized height first reached n (def when the
// steps do not say, i.e. it was final before the run's first step).
func (l *ledger) finTimeLocked(n uint64, def time.Time) time.Time {
	i := sort.Search(len(l.steps), func(i int) bool { return l.steps[i].height >= n })
	if i == len(l.steps) {
		return def
	}
	return l.steps[i].at
}

// counts is a snapshot for progress lines and the drain check.
type counts struct {
	submitted, accepted, rejected, included, finalized int
	finHeight                                          uint64
}

func (l *ledger) counts() counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := counts{submitted: l.submitted, accepted: l.accepted, included: l.included, finalized: l.finalized, finHeight: l.finHeight}
	for _, v := range l.rejected {
		c.rejected += v
	}
	return c
}

// latencies collects submission-to-inclusion and submission-to-finality
// durations of the sent transactions; a block seen before the submit
// call returned counts as zero, not negative.
func (l *ledger) latencies() (incl, fin []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.byID {
		if r.state == stateUnsent {
			continue
		}
		if r.included {
			incl = append(incl, max(r.inclAt.Sub(r.sentAt), 0))
		}
		if r.final {
			fin = append(fin, max(r.finAt.Sub(r.sentAt), 0))
		}
	}
	return incl, fin
}
