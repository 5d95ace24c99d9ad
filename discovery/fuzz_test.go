package discovery

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FuzzHandler sends arbitrary bodies to every writing route: the answer is
// always a JSON 2xx/4xx, never a 5xx or a panic (call checks both).
func FuzzHandler(f *testing.F) {
	seeds := []string{
		`{"command":"get_all"}`,
		`{"command":"add","address":"` + strings.Repeat("a", 40) + `","host":"1.2.3.4","port":1}`,
		`{"command":"remove","public_key":"AAAA","signature":"AAAA"}`,
		`{"command":"get_all","limit":-1,"network_id":18446744073709551615}`,
		`{"address":null,"port":1e9}`,
		`[[[[[[[[[[`,
		"\x00\xff",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	clk := newFakeClock()
	s := newTestServer(f, ServerConfig{MaxEntries: 100}, clk)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		call(t, h, http.MethodPost, "/", body, "")
		call(t, h, http.MethodPut, "/peers/"+strings.Repeat("a", 40), body, "")
		call(t, h, http.MethodDelete, "/peers/"+strings.Repeat("a", 40), body, "")
	})
}

func TestRecovererAnswers4xx(t *testing.T) {
	s := newTestServer(t, ServerConfig{}, newFakeClock())
	h := s.recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") }))
	if a := call(t, h, http.MethodGet, "/", nil, ""); a.status != http.StatusBadRequest {
		t.Fatalf("panic answered %d", a.status)
	}
}

func BenchmarkSample(b *testing.B) {
	clk := newFakeClock()
	s := newTestServer(b, ServerConfig{}, clk)
	fillTable(s, DefaultMaxEntries, clk.Now())
	h := s.Handler()
	b.ResetTimer()
	for b.Loop() {
		call(b, h, http.MethodGet, "/peers?limit=10", nil, "")
	}
}

func BenchmarkSampleFilteredNoMatch(b *testing.B) {
	clk := newFakeClock()
	s := newTestServer(b, ServerConfig{}, clk)
	fillTable(s, DefaultMaxEntries, clk.Now())
	b.ResetTimer()
	for b.Loop() {
		s.peers(10, filter{networkID: 99})
	}
}

func BenchmarkRegister(b *testing.B) {
	keys := testKeys(b, 1)
	clk := newFakeClock()
	s := newTestServer(b, ServerConfig{}, clk)
	h := s.Handler()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		clk.Advance(time.Millisecond)
		e := signedAt(b, keys[0], OpAdd, baseEntry(0), clk.Now())
		b.StartTimer()
		if a := put(b, h, e); a.status != http.StatusOK {
			b.Fatalf("%d %s", a.status, a.body)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newTestServer(t, ServerConfig{Metrics: reg}, newFakeClock())
	fillTable(s, 30, s.now())
	h := s.Handler()
	call(t, h, http.MethodGet, "/peers", nil, "")
	call(t, h, http.MethodGet, "/peers?limit=x", nil, "")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			if m.Counter != nil {
				got[name] = m.Counter.GetValue()
			} else if m.Gauge != nil {
				got[name] = m.Gauge.GetValue()
			}
		}
	}
	want := map[string]float64{
		"ccoin_discovery_answers_total/ok":          1,
		"ccoin_discovery_answers_total/bad_request": 1,
		"ccoin_discovery_live_entries":              20,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	// A second server on the same registry is a configuration error.
	if _, err := NewServer(ServerConfig{Metrics: reg}); err == nil {
		t.Fatal("duplicate metrics registration accepted")
	}
}
