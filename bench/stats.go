package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Percentile is the nearest-rank percentile (0 < p <= 100) of sorted
// durations: the smallest value with at least p% of the values at or below
// it. It is 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Latency summarizes one latency distribution, in milliseconds and in slots.
type Latency struct {
	Count    int     `json:"count"`
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	P50Slots float64 `json:"p50_slots"`
	P90Slots float64 `json:"p90_slots"`
	P99Slots float64 `json:"p99_slots"`
}

// Summarize computes the percentiles of ds (reordering it); slot is the
// slot length, 0 when unknown.
func Summarize(ds []time.Duration, slot time.Duration) Latency {
	slices.Sort(ds)
	l := Latency{Count: len(ds)}
	if len(ds) == 0 {
		return l
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p50, p90, p99 := Percentile(ds, 50), Percentile(ds, 90), Percentile(ds, 99)
	l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs = ms(p50), ms(p90), ms(p99), ms(ds[len(ds)-1])
	if slot > 0 {
		s := func(d time.Duration) float64 { return float64(d) / float64(slot) }
		l.P50Slots, l.P90Slots, l.P99Slots = s(p50), s(p90), s(p99)
	}
	return l
}

// Report is the outcome of a run; it is also the JSON report file.
type Report struct {
	Nodes        []string `json:"nodes"`
	NetworkNodes int      `json:"network_nodes"`
	Accounts     int      `json:"accounts"`
	Txs          int      `json:"txs"`
	Rate         float64  `json:"rate"` // 0 = max
	Batch        int      `json:"batch"`
	DurationS    float64  `json:"duration_s"`
	IntervalMs   uint64   `json:"interval_ms"`
	Workers      int      `json:"workers"`

	KeygenS    float64 `json:"keygen_s"`
	FundingS   float64 `json:"funding_s"`
	SignS      float64 `json:"sign_s"`
	SignRate   float64 `json:"sign_rate"`   // signatures/s on all workers
	VerifyRate float64 `json:"verify_rate"` // verifications/s on all workers
	Ceiling    float64 `json:"ceiling"`     // VerifyRate / NetworkNodes

	Submitted int            `json:"submitted"`
	Accepted  int            `json:"accepted"`
	Rejected  map[string]int `json:"rejected"` // by API error code
	Unsent    int            `json:"unsent"`   // pre-signed but not sent before the duration ran out
	Backoffs  int            `json:"backoffs"` // batches a node refused for now (503 overloaded or busy) and got again after Retry-After
	Included  int            `json:"included"`
	Finalized int            `json:"finalized"`

	// Rates: submitted over the submission phase; included and finalized
	// from the first submission to the last inclusion (finality) seen.
	SubmitS       float64 `json:"submit_s"`
	SubmitRate    float64 `json:"submit_rate"`
	AcceptRate    float64 `json:"accept_rate"`
	IncludedS     float64 `json:"included_window_s"`
	IncludedRate  float64 `json:"included_rate"`
	FinalizedS    float64 `json:"finalized_window_s"`
	FinalizedRate float64 `json:"finalized_rate"`

	CeilingFraction   float64 `json:"ceiling_fraction"`   // IncludedRate / Ceiling
	FinalizedFraction float64 `json:"finalized_fraction"` // FinalizedRate / Ceiling

	Inclusion Latency `json:"inclusion_latency"`
	Finality  Latency `json:"finality_latency"`
}

// RejectedTotal sums the rejections.
func (r *Report) RejectedTotal() int {
	n := 0
	for _, v := range r.Rejected {
		n += v
	}
	return n
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) {
	rate := "max"
	if r.Rate > 0 {
		rate = fmt.Sprintf("%.0f tx/s", r.Rate)
	}
	fmt.Fprintf(w, "nodes %d (ceiling divides by %d), accounts %d, txs %d, rate %s, batch %d, slot %d ms\n",
		len(r.Nodes), r.NetworkNodes, r.Accounts, r.Txs, rate, r.Batch, r.IntervalMs)
	fmt.Fprintf(w, "setup: keygen %.1fs, funding %.1fs, signing %.1fs (%.0f sig/s on %d workers)\n",
		r.KeygenS, r.FundingS, r.SignS, r.SignRate, r.Workers)
	fmt.Fprintf(w, "verify: %.0f verify/s on %d workers -> ceiling %.0f tx/s for %d nodes on this machine\n",
		r.VerifyRate, r.Workers, r.Ceiling, r.NetworkNodes)
	fmt.Fprintf(w, "submitted %d in %.1fs (%.0f tx/s), accepted %d (%.0f tx/s), rejected %d%s, unsent %d, batches resent after Retry-After %d\n",
		r.Submitted, r.SubmitS, r.SubmitRate, r.Accepted, r.AcceptRate, r.RejectedTotal(), reasons(r.Rejected), r.Unsent, r.Backoffs)
	fmt.Fprintf(w, "included %d (%.0f tx/s over %.1fs, %.1f%% of ceiling), finalized %d (%.0f tx/s over %.1fs, %.1f%% of ceiling)\n",
		r.Included, r.IncludedRate, r.IncludedS, 100*r.CeilingFraction, r.Finalized, r.FinalizedRate, r.FinalizedS, 100*r.FinalizedFraction)
	lat := func(name string, l Latency) {
		fmt.Fprintf(w, "%s latency (n=%d): p50 %.0f ms (%.2f slots), p90 %.0f ms (%.2f slots), p99 %.0f ms (%.2f slots), max %.0f ms\n",
			name, l.Count, l.P50Ms, l.P50Slots, l.P90Ms, l.P90Slots, l.P99Ms, l.P99Slots, l.MaxMs)
	}
	lat("inclusion", r.Inclusion)
	lat("finality ", r.Finality)
}

func reasons(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return " (" + strings.Join(parts, " ") + ")"
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 || n == 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
