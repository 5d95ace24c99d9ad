package consensus

import (
	"math"
	"slices"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
)

type sample struct {
	sealer byte
	off    int64 // receivedAt - blockTime
	ageMs  int64 // how long ago it was observed
}

func TestClockMonitor(t *testing.T) {
	fresh := int64(testInterval) * freshSlots
	cases := []struct {
		name    string
		samples []sample
		est     int64
		n       int
		skewed  bool // behind: stop sealing
		ahead   bool // ahead or late: warn only
	}{
		// Three miners unless a case below says otherwise (TestClockMonitorMajority).
		{"none", nil, 0, 0, false, false},
		{"two big samples are not enough", []sample{{1, 900, 0}, {1, 900, 0}}, 900, 2, false, false},
		{"three big samples: ahead, or late", []sample{{1, 900, 0}, {1, 900, 0}, {2, 900, 0}}, 900, 3, false, true},
		{"healthy", []sample{{1, 5, 0}, {2, 12, 0}, {1, 8, 0}, {2, 30, 0}}, 5, 4, false, false},
		{"exactly a quarter", []sample{{1, 25, 0}, {1, 25, 0}, {1, 25, 0}}, 25, 3, false, false},
		{"just over a quarter", []sample{{1, 26, 0}, {1, 26, 0}, {1, 26, 0}}, 26, 3, false, true},
		{"behind", []sample{{1, -40, 0}, {2, -30, 0}, {1, -50, 0}}, -30, 3, true, false},
		{"exactly a quarter behind", []sample{{1, -25, 0}, {1, -25, 0}, {1, -25, 0}}, -25, 3, false, false},
		{"late blocks under load do not look like skew", []sample{{1, 900, 0}, {1, 5, 0}, {1, 700, 0}, {2, 800, 0}}, 5, 4, false, false},
		{"one sealer on time outweighs a lying one", []sample{{1, -900, 0}, {1, -900, 0}, {2, 7, 0}}, 7, 3, false, false},
		{"stale samples are forgotten", []sample{{1, -900, fresh + 1}, {1, -900, fresh + 1}, {2, -900, fresh + 1}}, 0, 0, false, false},
		{"fresh skew counts, stale health does not", []sample{{1, 3, fresh + 5}, {1, -500, 1}, {2, -480, 1}, {2, -490, 1}}, -490, 3, true, false},
		{"absurd values do not overflow", []sample{{1, math.MaxInt64 / 2, 0}, {1, math.MaxInt64 / 2, 0}, {1, math.MaxInt64 / 2, 0}}, maxOffsetMs, 3, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewClockMonitor(testInterval, 3)
			feed(m, c.samples)
			got, n := m.Offset()
			if n != c.n || got != c.est {
				t.Fatalf("Offset() = %d, %d; want %d, %d", got, n, c.est, c.n)
			}
			if m.Skewed() != c.skewed || m.Ahead() != c.ahead {
				t.Fatalf("Skewed() = %v, Ahead() = %v; want %v, %v", m.Skewed(), m.Ahead(), c.skewed, c.ahead)
			}
		})
	}
	m := NewClockMonitor(testInterval, 3)
	for i := range 3 {
		m.Observe(crypto.Address{byte(1 + i%2)}, math.MaxUint64, 0)
	}
	if off, _ := m.Offset(); off != -maxOffsetMs || !m.Skewed() {
		t.Fatalf("far-behind extreme: %d", off)
	}
}

var clockNow = time.UnixMilli(1_800_000_000_000)

// feed observes samples as of their ages and leaves the monitor at clockNow.
func feed(m *ClockMonitor, samples []sample) {
	const base = testGenesisMs
	for _, s := range samples {
		at := clockNow.Add(-time.Duration(s.ageMs) * time.Millisecond)
		m.SetNow(func() time.Time { return at })
		if s.off >= 0 {
			m.Observe(crypto.Address{s.sealer}, base, base+uint64(s.off))
		} else {
			m.Observe(crypto.Address{s.sealer}, base+uint64(-s.off), base)
		}
	}
	m.SetNow(func() time.Time { return clockNow })
}

// TestClockMonitorMajority: a validator stops sealing only when a majority
// of the other miners, and at least two, show its clock behind; a skew that
// one peer's clock explains never stops it. The first row is the case found
// in review: three miners of one-second slots, one offline and one whose
// clock runs 280 ms fast, so the correct validator's only samples say it is
// 280 ms behind (minus each block's delay). It used to stop sealing, and
// nothing finalized.
func TestClockMonitorMajority(t *testing.T) {
	fast := func(sealer byte) []sample { // 280 ms fast, delays of 5 to 40 ms
		return []sample{{sealer, -280 + 12, 0}, {sealer, -280 + 5, 0}, {sealer, -280 + 40, 0}, {sealer, -280 + 21, 0}}
	}
	onTime := func(sealer byte) []sample { return []sample{{sealer, 15, 0}, {sealer, 9, 0}} }
	cases := []struct {
		name    string
		miners  int
		samples []sample
		skewed  bool
	}{
		{"3 miners: one offline, one 280 ms fast", 3, fast(2), false},
		{"3 miners: one 280 ms fast, one on time", 3, slices.Concat(fast(2), onTime(3)), false},
		{"3 miners: both others show us 280 ms behind", 3, slices.Concat(fast(2), fast(3)), true},
		{"2 miners: the only other shows us behind", 2, fast(2), false},
		{"1 miner: nobody to compare with", 1, fast(2), false},
		{"5 miners: two of the four others show us behind", 5, slices.Concat(fast(2), fast(3), onTime(4)), false},
		{"5 miners: three of the four others show us behind", 5, slices.Concat(fast(2), fast(3), fast(4)), true},
		{"4 miners: two of three others show us behind", 4, slices.Concat(fast(2), fast(3)), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewClockMonitor(1000, c.miners)
			feed(m, c.samples)
			if m.Skewed() != c.skewed {
				off, n := m.Offset()
				t.Fatalf("Skewed() = %v, want %v (offset %d ms, %d samples)", m.Skewed(), c.skewed, off, n)
			}
			if m.Ahead() {
				t.Fatal("Ahead() with samples that show us behind or on time")
			}
		})
	}
}
