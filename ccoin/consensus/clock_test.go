package consensus

import (
	"math"
	"testing"
)

func TestClockMonitor(t *testing.T) {
	const base = testGenesisMs
	cases := []struct {
		name    string
		offsets []int64 // receivedAt - blockTime
		median  int64
		skewed  bool
	}{
		{"none", nil, 0, false},
		{"two big samples are not enough", []int64{900, 900}, 900, false},
		{"three big samples", []int64{900, 900, 900}, 900, true},
		{"healthy", []int64{5, 12, 8, 30, 2}, 8, false},
		{"exactly a quarter", []int64{25, 25, 25}, 25, false},
		{"just over a quarter", []int64{26, 26, 26}, 26, true},
		{"behind", []int64{-40, -30, -50}, -40, true},
		{"one liar is outvoted", []int64{5, 6, 100000, 7}, 6, false},
		{"even count averages", []int64{10, 20, 30, 40}, 25, false},
		{"old samples age out", append(repeat(500, 15), repeat(3, 8)...), 3, false},
		{"recent skew wins", append(repeat(3, 15), repeat(-500, 8)...), -500, true},
		{"absurd values do not overflow", []int64{math.MaxInt64 / 2, math.MaxInt64 / 2, math.MaxInt64 / 2}, maxOffsetMs, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewClockMonitor(testInterval)
			for _, o := range c.offsets {
				if o >= 0 {
					m.Observe(base, base+uint64(o))
				} else {
					m.Observe(base+uint64(-o), base)
				}
			}
			got, n := m.Offset()
			if n != min(len(c.offsets), clockSamples) || got != c.median {
				t.Fatalf("Offset() = %d, %d; want %d, %d", got, n, c.median, min(len(c.offsets), clockSamples))
			}
			if m.Skewed() != c.skewed {
				t.Fatalf("Skewed() = %v", !c.skewed)
			}
		})
	}
	m := NewClockMonitor(testInterval)
	for range 3 {
		m.Observe(math.MaxUint64, 0)
	}
	if off, _ := m.Offset(); off != -maxOffsetMs || !m.Skewed() {
		t.Fatalf("far-behind extreme: %d", off)
	}
}

func repeat(v int64, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}
