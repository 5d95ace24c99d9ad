package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/types"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	cases := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 4", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p90 of 4", ms(1, 2, 3, 4), 90, 4 * time.Millisecond},
		{"p0 is min", ms(1, 2, 3, 4), 0, time.Millisecond},
		{"p100 is max", ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p99.5 of 1..100", hundred, 99.5, 100 * time.Millisecond},
		{"p50 of 5", ms(10, 20, 30, 40, 50), 50, 30 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.in, tc.p); got != tc.want {
				t.Fatalf("Percentile(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	cases := []struct {
		name string
		in   []time.Duration
		slot time.Duration
		want Latency
	}{
		{"empty", nil, time.Second, Latency{}},
		{"unsorted, 500 ms slots", ms(3000, 1000, 2000, 500), 500 * time.Millisecond,
			Latency{Count: 4, P50Ms: 1000, P90Ms: 3000, P99Ms: 3000, MaxMs: 3000, P50Slots: 2, P90Slots: 6, P99Slots: 6}},
		{"no slot length", ms(10, 20), 0, Latency{Count: 2, P50Ms: 10, P90Ms: 20, P99Ms: 20, MaxMs: 20}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.in, tc.slot); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestBucket(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	b := newBucket(100, 10, clk.now) // 100 tokens/s, burst 10
	steps := []struct {
		advance time.Duration
		take    int
		wait    time.Duration
	}{
		{0, 10, 0},                      // the burst is free
		{0, 10, 100 * time.Millisecond}, // 10 more cost 0.1 s
		{100 * time.Millisecond, 10, 100 * time.Millisecond}, // the debt was paid off, not the new batch
		{time.Second, 5, 0}, // refilled, capped at the burst
		{0, 5, 0},
		{0, 1, 10 * time.Millisecond},
	}
	for i, s := range steps {
		clk.t = clk.t.Add(s.advance)
		if got := b.reserve(s.take); got != s.wait {
			t.Fatalf("step %d: wait %v, want %v", i, got, s.wait)
		}
	}
	// take sleeps off the deficit through the injected sleeper.
	var slept time.Duration
	b.sleep = func(_ context.Context, d time.Duration) bool { slept += d; return true }
	if !b.take(context.Background(), 2) || slept != 20*time.Millisecond+10*time.Millisecond {
		t.Fatalf("slept %v", slept)
	}
}

func TestLedgerInclusionAndFinality(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	recs := make([]*txRec, 4)
	for i := range recs {
		recs[i] = &txRec{id: types.Hash{byte(i + 1)}}
	}
	l := newLedger(recs)
	l.baseFinal(5)
	l.sent(recs[:2], at(0))
	l.sent(recs[2:], at(100))
	for _, r := range recs {
		l.outcome(r, "")
	}
	l.include(6, []types.Hash{recs[0].id, {0xff}}, at(1000)) // an unknown id is ignored
	l.include(7, []types.Hash{recs[1].id, recs[2].id}, at(2000))
	l.setFinalHeight(6, at(3000))
	// Block 7 was reorged out and its transactions re-included in block 8:
	// the inclusion time stays the first one.
	l.include(8, []types.Hash{recs[2].id}, at(3500))
	l.setFinalHeight(8, at(5000))
	// A block fetched late, below the finalized height, is final as of when
	// the finalized height first reached it.
	l.include(8, []types.Hash{recs[3].id}, at(6000))

	c := l.counts()
	if c.included != 4 || c.finalized != 4 || c.finHeight != 8 {
		t.Fatalf("counts %+v", c)
	}
	want := []struct{ incl, fin int }{{1000, 3000}, {2000, 5000}, {2000, 5000}, {6000, 6000}}
	for i, w := range want {
		r := recs[i]
		if r.inclAt != at(w.incl) || r.finAt != at(w.fin) {
			t.Errorf("tx %d: included %v final %v, want +%dms +%dms", i, r.inclAt.Sub(t0), r.finAt.Sub(t0), w.incl, w.fin)
		}
	}
	incl, fin := l.latencies()
	li, lf := Summarize(incl, time.Second), Summarize(fin, time.Second)
	if li.Count != 4 || li.MaxMs != 5900 || lf.P50Ms != 4900 || lf.MaxMs != 5900 {
		t.Errorf("inclusion %+v finality %+v", li, lf)
	}
}

func TestReadSSE(t *testing.T) {
	in := ": connected\n\nevent: head\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: finalized\ndata: x\ndata: y\n\ndata: bare\n\n"
	var got []string
	err := readSSE(strings.NewReader(in), func(ev sseEvent) { got = append(got, ev.Kind+"="+string(ev.Data)) })
	want := []string{`head={"a":1}`, "finalized=x\ny", "message=bare"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events %q, want %q", got, want)
	}
	if err == nil {
		t.Fatal("a finished stream must be an error (the caller reconnects)")
	}
	huge := "data: " + strings.Repeat("x", maxEventLine+10) + "\n\n"
	if err := readSSE(strings.NewReader(huge), func(sseEvent) { t.Fatal("oversized event delivered") }); err == nil {
		t.Fatal("oversized line accepted")
	}
}

func TestTrackerRewindsOnReorg(t *testing.T) {
	recs := []*txRec{{id: types.Hash{1}}, {id: types.Hash{2}}}
	l := newLedger(recs)
	trk := newTracker(nil, l, hclog.NewNullLogger(), time.Now, time.Second)
	trk.fetched, trk.head, trk.ids[10] = 10, 10, "a10"
	b11 := &blockTxs{ID: "a11", Number: 11, Parent: "a10"}
	trk.processBlock(11, b11, "a10", true)
	if f, _ := trk.position(); f != 11 {
		t.Fatalf("fetched %d, want 11", f)
	}
	// Block 12 does not build on the 11 we saw: step back to refetch 11.
	trk.processBlock(12, &blockTxs{ID: "b12", Number: 12, Parent: "b11"}, "a11", true)
	if f, _ := trk.position(); f != 10 {
		t.Fatalf("fetched %d after a parent mismatch, want 10", f)
	}
	// Hearing again of the head already processed is no news.
	trk.fetched, trk.ids[11] = 11, "a11"
	trk.sawHead(11, "a11", time.Now())
	if f, h := trk.position(); f != 11 || h != 11 {
		t.Fatalf("fetched %d head %d after the same head again, want 11 and 11", f, h)
	}
	// A different head at or below the cursor rewinds.
	trk.sawHead(11, "b11", time.Now())
	if f, h := trk.position(); f != 10 || h != 11 {
		t.Fatalf("fetched %d head %d, want 10 and 11", f, h)
	}
}
