package consensus

import (
	"math"
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
	const base = testGenesisMs
	fresh := int64(testInterval) * freshSlots
	cases := []struct {
		name    string
		samples []sample
		est     int64
		n       int
		skewed  bool // behind: stop sealing
		ahead   bool // ahead or late: warn only
	}{
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
			m := NewClockMonitor(testInterval)
			now := time.UnixMilli(1_800_000_000_000)
			for _, s := range c.samples {
				at := now.Add(-time.Duration(s.ageMs) * time.Millisecond)
				m.SetNow(func() time.Time { return at })
				if s.off >= 0 {
					m.Observe(crypto.Address{s.sealer}, base, base+uint64(s.off))
				} else {
					m.Observe(crypto.Address{s.sealer}, base+uint64(-s.off), base)
				}
			}
			m.SetNow(func() time.Time { return now })
			got, n := m.Offset()
			if n != c.n || got != c.est {
				t.Fatalf("Offset() = %d, %d; want %d, %d", got, n, c.est, c.n)
			}
			if m.Skewed() != c.skewed || m.Ahead() != c.ahead {
				t.Fatalf("Skewed() = %v, Ahead() = %v; want %v, %v", m.Skewed(), m.Ahead(), c.skewed, c.ahead)
			}
		})
	}
	m := NewClockMonitor(testInterval)
	for range 3 {
		m.Observe(crypto.Address{1}, math.MaxUint64, 0)
	}
	if off, _ := m.Offset(); off != -maxOffsetMs || !m.Skewed() {
		t.Fatalf("far-behind extreme: %d", off)
	}
}
