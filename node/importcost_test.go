package node

import (
	"testing"
	"time"
)

func TestImportCostBudget(t *testing.T) {
	slot := time.Second
	tests := []struct {
		name    string
		samples [][2]int // {ms, txs}
		want    int
	}{
		{"nothing measured: no limit", nil, 0},
		{"small blocks are not measured", [][2]int{{500, 100}}, 0},
		// 10,000 transfers in 1 s: 100 µs each, a third of a slot holds 3,333.
		{"one sample", [][2]int{{1000, 10_000}}, 3333},
		// 20 µs each: 16,666 fit.
		{"fast imports", [][2]int{{200, 10_000}}, 16_666},
		// 1 ms each would allow 333: the floor holds.
		{"slow imports keep the floor", [][2]int{{10_000, 10_000}}, minTxBudget},
		// 100 µs, then 200 µs: the average moves a quarter of the way, to 125 µs.
		{"moving average", [][2]int{{1000, 10_000}, {2000, 10_000}}, 2666},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c importCost
			for _, s := range tc.samples {
				c.observe(time.Duration(s[0])*time.Millisecond, s[1])
			}
			if got := c.budget(slot); got != tc.want {
				t.Fatalf("budget %d, want %d", got, tc.want)
			}
		})
	}
}

// The pool admits backlog_slots blocks' worth: of the import budget once it
// is measured (one block by default), of the genesis cap before (two).
func TestMaxPendingFollowsTheBudget(t *testing.T) {
	const maxBound, blockBytes = 100_000, 600 * 10_000 // 10,000 transfers a block
	withSlots := func(n int) *Config { c := DefaultConfig(); c.Pool.BacklogSlots = n; return c }
	tests := []struct {
		name   string
		cfg    *Config
		budget int
		want   int
	}{
		{"unmeasured: two genesis blocks", DefaultConfig(), 0, 20_000},
		{"measured: one budget block", DefaultConfig(), 4_000, 4_000},
		{"budget above the genesis cap", DefaultConfig(), 50_000, 10_000},
		{"configured slots, unmeasured", withSlots(3), 0, 30_000},
		{"configured slots, measured", withSlots(3), 4_000, 12_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := maxPending(tc.cfg, maxBound, blockBytes, tc.budget); got != tc.want {
				t.Fatalf("maxPending %d, want %d", got, tc.want)
			}
		})
	}
}
