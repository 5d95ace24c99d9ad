package bench

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

func baseConfig(t *testing.T, f *fakeChain, urls ...string) Config {
	ks := keys(t)
	return Config{
		Nodes:        urls,
		Faucet:       ks[0],
		Accounts:     6,
		Txs:          240,
		Batch:        20,
		Duration:     time.Minute,
		Calibration:  50 * time.Millisecond,
		Progress:     100 * time.Millisecond,
		Poll:         20 * time.Millisecond,
		FundTimeout:  20 * time.Second,
		DrainTimeout: 20 * time.Second,
		DrainIdle:    10 * time.Second,
		GenerateKey:  keySource(ks),
	}
}

func TestRunWholeFlow(t *testing.T) {
	ks := keys(t)
	f := newFakeChain(t, ks[0].Address())
	f.rejectNonce = 3
	s1, s2 := f.server("a"), f.server("b")
	stop := f.run(30 * time.Millisecond)
	defer stop()
	cfg := baseConfig(t, f, s1.URL, s2.URL+"/")
	out := &lockedBuilder{}
	cfg.Out = out

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 6 senders x 40 nonces; nonce 3 of each sender is refused.
	const want = 240 - 6
	if rep.Submitted != 240 || rep.Unsent != 0 {
		t.Errorf("submitted %d unsent %d, want 240 and 0", rep.Submitted, rep.Unsent)
	}
	if rep.Accepted != want || rep.Rejected[api.CodePoolFull] != 6 || rep.RejectedTotal() != 6 {
		t.Errorf("accepted %d rejected %v, want %d and pool_full=6", rep.Accepted, rep.Rejected, want)
	}
	if rep.Included != want || rep.Finalized != want {
		t.Errorf("included %d finalized %d, want %d", rep.Included, rep.Finalized, want)
	}
	if rep.Inclusion.Count != want || rep.Finality.Count != want {
		t.Errorf("latency counts %d/%d, want %d", rep.Inclusion.Count, rep.Finality.Count, want)
	}
	if !(rep.Inclusion.P50Ms <= rep.Inclusion.P90Ms && rep.Inclusion.P90Ms <= rep.Inclusion.P99Ms && rep.Inclusion.P99Ms <= rep.Inclusion.MaxMs) {
		t.Errorf("inclusion percentiles out of order: %+v", rep.Inclusion)
	}
	if rep.Finality.P50Ms < rep.Inclusion.P50Ms {
		t.Errorf("finality p50 %.1f ms before inclusion p50 %.1f ms", rep.Finality.P50Ms, rep.Inclusion.P50Ms)
	}
	// Computed as duration/slot, not ms/40: equal up to float rounding.
	if rep.Inclusion.P50Ms > 0 && math.Abs(rep.Inclusion.P50Slots-rep.Inclusion.P50Ms/40) > 1e-9 {
		t.Errorf("p50 %.2f slots for %.1f ms at 40 ms slots", rep.Inclusion.P50Slots, rep.Inclusion.P50Ms)
	}
	if rep.IntervalMs != 40 || rep.NetworkNodes != 2 {
		t.Errorf("interval %d network nodes %d", rep.IntervalMs, rep.NetworkNodes)
	}
	// An RSA-2048 verification takes tens of microseconds: a rate far above
	// that per core means the calibration measured a cache, not RSA.
	if rep.VerifyRate <= 0 || rep.VerifyRate > 200_000*float64(runtime.GOMAXPROCS(0)) || rep.Ceiling != rep.VerifyRate/2 || rep.CeilingFraction <= 0 {
		t.Errorf("verify %.0f ceiling %.0f fraction %.3f", rep.VerifyRate, rep.Ceiling, rep.CeilingFraction)
	}
	if rep.IncludedRate <= 0 || rep.FinalizedRate <= 0 || rep.SignRate <= 0 {
		t.Errorf("rates: included %.0f finalized %.0f sign %.0f", rep.IncludedRate, rep.FinalizedRate, rep.SignRate)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	// Each transfer went to exactly one node, and both nodes got some: the
	// funding (6 transfers) to the first, senders split by parity.
	if f.dupSends != 0 {
		t.Errorf("%d transfers sent to two nodes", f.dupSends)
	}
	if f.perServer["a"] != 6+120 || f.perServer["b"] != 120 {
		t.Errorf("per server %v, want a=126 b=120", f.perServer)
	}
	if !strings.Contains(out.String(), "signed 240 transfers") {
		t.Errorf("progress output lacks the signing line:\n%s", out.String())
	}
	var text strings.Builder
	rep.WriteText(&text)
	for _, s := range []string{"rejected 6 (pool_full=6)", "included 234", "finalized 234", "ceiling"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, text.String())
		}
	}
}

func TestRunHonoursRate(t *testing.T) {
	ks := keys(t)
	f := newFakeChain(t, ks[0].Address())
	s := f.server("a")
	stop := f.run(30 * time.Millisecond)
	defer stop()
	cfg := baseConfig(t, f, s.URL)
	cfg.Txs, cfg.Batch, cfg.Rate = 120, 10, 400
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Submitted != 120 || rep.Included != 120 {
		t.Fatalf("submitted %d included %d, want 120", rep.Submitted, rep.Included)
	}
	// The bucket starts with one batch of tokens; the other 110 transfers
	// need 110/400 s = 275 ms at least. Only a lower bound is safe to test.
	if min := 0.26; rep.SubmitS < min {
		t.Errorf("submitted 120 at %.0f tx/s in %.3fs, want at least %.2fs", cfg.Rate, rep.SubmitS, min)
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	ks := keys(t)
	f := newFakeChain(t, ks[0].Address())
	s := f.server("a")
	stop := f.run(30 * time.Millisecond)
	defer stop()
	cfg := baseConfig(t, f, s.URL)
	cfg.Txs, cfg.Batch, cfg.Rate, cfg.Duration = 120, 10, 50, 300*time.Millisecond
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// At 50 tx/s for 0.3 s at most 10 + 15 transfers may go out.
	if rep.Submitted == 0 || rep.Submitted > 30 || rep.Submitted+rep.Unsent != 120 {
		t.Errorf("submitted %d unsent %d", rep.Submitted, rep.Unsent)
	}
	if rep.Included != rep.Accepted {
		t.Errorf("included %d of %d accepted", rep.Included, rep.Accepted)
	}
}

func TestRunRejectedByReason(t *testing.T) {
	ks := keys(t)
	f := newFakeChain(t, ks[0].Address())
	s := f.server("a")
	stop := f.run(30 * time.Millisecond)
	defer stop()
	cfg := baseConfig(t, f, s.URL)
	cfg.Txs = 60
	cfg.DrainIdle = 200 * time.Millisecond
	// Funding goes through, then every transfer is refused.
	go func() {
		for {
			f.mu.Lock()
			funded := f.nonces[f.faucet] >= 6
			if funded {
				f.rejectAll = api.CodeNonceGap
			}
			f.mu.Unlock()
			if funded {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected[api.CodeNonceGap] != 60 || rep.Accepted != 0 || rep.Included != 0 {
		t.Errorf("rejected %v accepted %d included %d", rep.Rejected, rep.Accepted, rep.Included)
	}
}

func TestRunFundingRefused(t *testing.T) {
	ks := keys(t)
	f := newFakeChain(t, ks[0].Address())
	f.rejectAll = api.CodeInsufficientFunds
	s := f.server("a")
	cfg := baseConfig(t, f, s.URL)
	_, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrFunding) || !strings.Contains(err.Error(), api.CodeInsufficientFunds) {
		t.Fatalf("err = %v, want ErrFunding naming the code", err)
	}
}

func TestRunBatchFailureCountsCode(t *testing.T) {
	ks := keys(t)
	f := newFakeChain(t, ks[0].Address())
	good := f.server("a")
	bad := newStatusOnly(t, f)
	stop := f.run(30 * time.Millisecond)
	defer stop()
	cfg := baseConfig(t, f, good.URL, bad.URL)
	cfg.Txs = 60
	cfg.DrainIdle = 300 * time.Millisecond
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The second node's batches (senders 1, 3, 5) fail with its 503 body.
	if rep.Rejected[api.CodeNotReady] != 30 || rep.Accepted != 30 || rep.Included != 30 {
		t.Errorf("rejected %v accepted %d included %d", rep.Rejected, rep.Accepted, rep.Included)
	}
}

func TestConfigErrors(t *testing.T) {
	ks := keys(t)
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"no nodes", func(c *Config) { c.Nodes = nil }},
		{"no faucet", func(c *Config) { c.Faucet = nil }},
		{"negative rate", func(c *Config) { c.Rate = -1 }},
		{"huge batch", func(c *Config) { c.Batch = 10_001 }},
		{"negative accounts", func(c *Config) { c.Accounts = -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Nodes: []string{"http://127.0.0.1:1"}, Faucet: ks[0]}
			tc.edit(&c)
			if _, err := Run(context.Background(), c); !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

// TestRunReusesWorkload: a second run on the same chain takes the sender
// keys and the transfers the first run signed but did not send from the
// workload file, continues at each sender's nonce, and signs only the rest.
func TestRunReusesWorkload(t *testing.T) {
	ks := keys(t)
	f := newFakeChain(t, ks[0].Address())
	s := f.server("a")
	stop := f.run(30 * time.Millisecond)
	defer stop()
	file := filepath.Join(t.TempDir(), "workload.bin")

	cfg := baseConfig(t, f, s.URL)
	cfg.Workload = file
	cfg.Txs, cfg.Batch, cfg.Rate, cfg.Duration = 120, 10, 50, 300*time.Millisecond
	first, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if first.Submitted == 0 || first.Unsent == 0 {
		t.Fatalf("the first run should send part of its transfers: submitted %d unsent %d", first.Submitted, first.Unsent)
	}

	cfg = baseConfig(t, f, s.URL)
	cfg.Workload = file
	cfg.Txs, cfg.Batch = 120, 10
	cfg.GenerateKey = func() (*crypto.PrivateKey, error) { return nil, errors.New("keys should come from the workload file") }
	out := &lockedBuilder{}
	cfg.Out = out
	second, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if second.Included != 120 || second.RejectedTotal() != 0 {
		t.Fatalf("second run: included %d, rejected %v (nonces must continue where the first run stopped)", second.Included, second.Rejected)
	}
	m := regexp.MustCompile(`signed (\d+) transfers .*, (\d+) reused`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no signing line:\n%s", out.String())
	}
	signed, _ := strconv.Atoi(m[1])
	reused, _ := strconv.Atoi(m[2])
	if want := 120 - first.Accepted; reused != want || signed != 120-want {
		t.Fatalf("signed %d, reused %d; want %d reused (what the first run signed and did not spend)", signed, reused, want)
	}
	if !strings.Contains(out.String(), "reused 6 sender keys") {
		t.Fatalf("keys not reused:\n%s", out.String())
	}

	// A workload for another chain keeps its keys and drops its transfers.
	w, err := loadWorkload(file)
	if err != nil {
		t.Fatal(err)
	}
	w.forChain(types.Hash{9})
	if len(w.keys) != 6 || w.get(0, w.base[0]+1) != nil {
		t.Fatalf("another chain: %d keys, transfers kept", len(w.keys))
	}
	// A damaged file is refused with a clear error.
	if err := os.WriteFile(file, []byte("ccoin-workload 1\nshort"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadWorkload(file); !errors.Is(err, ErrWorkload) {
		t.Fatalf("damaged file: %v", err)
	}
}

// TestRunBacksOffWhenOverloaded: batches a node refuses with 503 overloaded
// are sent again after Retry-After, and every transfer is then included.
func TestRunBacksOffWhenOverloaded(t *testing.T) {
	ks := keys(t)
	f := newFakeChain(t, ks[0].Address())
	f.overloaded = 3
	s := f.server("a")
	stop := f.run(30 * time.Millisecond)
	defer stop()
	cfg := baseConfig(t, f, s.URL)
	cfg.Txs, cfg.Batch = 60, 20
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Backoffs != 3 || rep.Included != 60 || rep.RejectedTotal() != 0 {
		t.Fatalf("backoffs %d included %d rejected %v; want 3, 60, none", rep.Backoffs, rep.Included, rep.Rejected)
	}
}
