package bench

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/api"
	"ccoin/ccoin/types"
)

// maxRewind bounds how far the tracker walks back on a reorg.
const maxRewind = 64

// tracker follows one node's chain: the event stream (and a status poll, in
// case the stream drops events or is down) says what the head and the
// finalized height are and when they moved; each block's transaction ids
// are then fetched by number (GET /blocks/{n}/txids rather than the full
// block, whose JSON costs the node far more) to learn what it included.
type tracker struct {
	c    *nodeClient
	led  *ledger
	log  hclog.Logger
	now  func() time.Time
	poll time.Duration

	mu      sync.Mutex
	head    uint64
	seen    map[uint64]time.Time // when a head of that number was first heard of, until fetched
	wake    chan struct{}
	fetched uint64            // last block number processed
	ids     map[uint64]string // id of each processed number, for parent checks
	blocks  int               // blocks fetched
}

func newTracker(c *nodeClient, led *ledger, log hclog.Logger, now func() time.Time, poll time.Duration) *tracker {
	return &tracker{c: c, led: led, log: log, now: now, poll: poll,
		seen: map[uint64]time.Time{}, wake: make(chan struct{}, 1), ids: map[uint64]string{}}
}

// start reads the node's current height so that only later blocks count.
func (t *tracker) start(ctx context.Context) error {
	s, err := t.c.status(ctx)
	if err != nil {
		return err
	}
	t.head, t.fetched = s.Height, s.Height
	t.ids[s.Height] = s.Head
	t.led.baseFinal(s.FinalizedHeight)
	return nil
}

func (t *tracker) notify() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// sawHead records a head at number n with id id observed at time at.
func (t *tracker) sawHead(n uint64, id string, at time.Time) {
	t.mu.Lock()
	if n > t.head {
		t.head = n
	}
	if n > t.fetched {
		if _, ok := t.seen[n]; !ok && len(t.seen) < 100_000 {
			t.seen[n] = at
		}
	} else if n > 0 && t.ids[n] != id {
		// A head at or below what was processed, and not the block
		// processed at n: a reorg; refetch from n. The same block heard
		// again (every status poll, or an event behind the poll) is no
		// news; refetching it cost the node a block read per poll.
		delete(t.ids, n)
		t.fetched = n - 1
	}
	t.mu.Unlock()
	t.notify()
}

// run follows the node until ctx ends.
func (t *tracker) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { t.followEvents(ctx) })
	wg.Go(func() { t.pollStatus(ctx) })
	wg.Go(func() { t.fetchLoop(ctx) })
	wg.Wait()
}

type eventData struct {
	Kind  string `json:"kind"`
	Block *struct {
		ID     string `json:"id"`
		Number uint64 `json:"number"`
	} `json:"block"`
}

func (t *tracker) handleEvent(ev sseEvent) {
	at := t.now()
	var d eventData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.log.Debug("undecodable event", "kind", ev.Kind, "error", err)
		return
	}
	switch ev.Kind {
	case api.EventHead:
		if d.Block != nil {
			t.sawHead(d.Block.Number, d.Block.ID, at)
		}
	case api.EventFinalized:
		if d.Block != nil {
			t.led.setFinalHeight(d.Block.Number, at)
		}
	case api.EventReorg:
		t.notify()
	}
}

func (t *tracker) followEvents(ctx context.Context) {
	for ctx.Err() == nil {
		err := t.c.events(ctx, t.handleEvent)
		if ctx.Err() != nil {
			return
		}
		t.log.Debug("event stream broke, retrying", "error", err)
		if !sleep(ctx, time.Second) {
			return
		}
	}
}

func (t *tracker) pollStatus(ctx context.Context) {
	tick := time.NewTicker(t.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s, err := t.c.status(ctx)
		if err != nil {
			if ctx.Err() == nil {
				t.log.Debug("status poll failed", "error", err)
			}
			continue
		}
		at := t.now()
		t.sawHead(s.Height, s.Head, at)
		t.led.setFinalHeight(s.FinalizedHeight, at)
	}
}

func (t *tracker) fetchLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		}
		for ctx.Err() == nil {
			t.mu.Lock()
			next, head := t.fetched+1, t.head
			prev, havePrev := t.ids[t.fetched]
			t.mu.Unlock()
			if next > head {
				break
			}
			b, err := t.c.block(ctx, next)
			if err != nil {
				var ae *apiError
				if !errors.As(err, &ae) || ae.Code != api.CodeUnknownBlock {
					t.log.Debug("fetching block failed", "number", next, "error", err)
					sleep(ctx, 100*time.Millisecond)
				}
				break
			}
			t.processBlock(next, b, prev, havePrev)
		}
	}
}

func (t *tracker) processBlock(n uint64, b *blockTxs, prev string, havePrev bool) {
	t.mu.Lock()
	if t.fetched != n-1 {
		// A reorg rewound the cursor while the block was in flight.
		t.mu.Unlock()
		return
	}
	if havePrev && prev != "" && b.Parent != prev {
		// The chain under the cursor changed: step back and refetch.
		delete(t.ids, n-1)
		if t.fetched > 0 {
			t.fetched--
		}
		t.mu.Unlock()
		t.log.Debug("reorg under the cursor", "number", n)
		return
	}
	at, ok := t.seen[n]
	if !ok {
		at = t.now()
	}
	delete(t.seen, n)
	t.fetched = n
	t.ids[n] = b.ID
	delete(t.ids, n-maxRewind)
	t.blocks++
	t.mu.Unlock()

	ids := make([]types.Hash, 0, len(b.TxIDs))
	for _, id := range b.TxIDs {
		if h, err := types.ParseHash(id); err == nil {
			ids = append(ids, h)
		}
	}
	t.led.include(n, ids, at)
}

// position is the last processed block number and the node's head.
func (t *tracker) position() (fetched, head uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fetched, t.head
}

// sleep waits d or until ctx ends, reporting whether it waited in full.
func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}
