package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ccoin/api"
	"ccoin/api/apitest"
	"ccoin/ccoin/types"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// sseReader reads server-sent events line by line.
type sseReader struct{ r *bufio.Reader }

// next returns the next event (kind and data) or comment ("", ": text").
func (s *sseReader) next() (kind, data string, err error) {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if kind != "" || data != "" {
				return kind, data, nil
			}
		case strings.HasPrefix(line, ":"):
			if kind == "" {
				return "", line, nil
			}
		case strings.HasPrefix(line, "event: "):
			kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func openEvents(t *testing.T, hc *http.Client, url string) (*sseReader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := &sseReader{r: bufio.NewReader(resp.Body)}
	if _, c, err := r.next(); err != nil || c != ": connected" {
		t.Fatalf("first line %q %v", c, err)
	}
	return r, func() { cancel(); resp.Body.Close() }
}

func TestEvents(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.KeepAlive = 20 * time.Millisecond })
	r, closeStream := openEvents(t, e.hc, e.url("/events"))
	if n := e.f.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers", n)
	}
	v := getValidator(t)
	schema := v.Doc().Components.Schemas["Event"].Value

	b, err := e.f.SealPool()
	if err != nil {
		t.Fatal(err)
	}
	e.f.Finalize()
	e.f.Publish(api.Event{Kind: api.EventReorg, OldHead: b.Header.Parent, NewHead: b.ID(), Depth: 1})

	want := []string{"head", "finalized", "reorg"}
	var got []api.EventJSON
	sawKeepAlive := false
	for len(got) < len(want) {
		kind, data, err := r.next()
		if err != nil {
			t.Fatal(err)
		}
		if kind == "" {
			sawKeepAlive = sawKeepAlive || data == ": keep-alive"
			continue
		}
		var raw any
		if err := json.Unmarshal([]byte(data), &raw); err != nil {
			t.Fatalf("event data %q: %v", data, err)
		}
		if err := schema.VisitJSON(raw); err != nil {
			t.Errorf("event does not match the Event schema: %v", err)
		}
		ev := decode[api.EventJSON](t, []byte(data))
		if ev.Kind != kind || kind != want[len(got)] {
			t.Fatalf("event %q with kind %q, want %q", kind, ev.Kind, want[len(got)])
		}
		got = append(got, ev)
	}
	if got[0].Block == nil || got[0].Block.ID != b.ID().String() || got[0].Block.Number != 4 || got[0].Block.Transactions != nil || got[0].Block.TxCount != 1 {
		t.Errorf("head event %+v", got[0].Block)
	}
	if got[1].Block == nil || !got[1].Block.Finalized {
		t.Errorf("finalized event %+v", got[1])
	}
	if got[2].Depth != 1 || got[2].NewHead != b.ID().String() || got[2].OldHead != b.Header.Parent.String() {
		t.Errorf("reorg event %+v", got[2])
	}
	for !sawKeepAlive {
		kind, data, err := r.next()
		if err != nil {
			t.Fatal(err)
		}
		sawKeepAlive = kind == "" && data == ": keep-alive"
	}
	closeStream()
	waitFor(t, "subscription to close", func() bool { return e.f.Subscribers() == 0 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun serves on a real port, logs the prototype's start line, and shuts
// down cleanly, ending open event streams.
func TestRun(t *testing.T) {
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	srv, err := api.New(api.Config{
		Addr: "127.0.0.1:0", NodeAddress: f.Keys.Node.Address(),
		Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}),
	}, f.Deps())
	if err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(srv.Addr())
	if err != nil || port == "0" {
		t.Fatalf("addr %q", srv.Addr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	hc := &http.Client{Transport: getValidator(t).Transport(nil, func(err error) { t.Errorf("openapi: %v", err) })}
	base := "http://" + srv.Addr()
	resp, err := hc.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if !strings.Contains(logs.String(), "HTTP API ENDPOINT Started got up and listening on port: "+port) {
		t.Errorf("start line missing from logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "http request") {
		t.Errorf("request not logged at debug:\n%s", logs.String())
	}

	r, closeStream := openEvents(t, hc, base+"/events")
	defer closeStream()
	cancel()
	for {
		if _, _, err := r.next(); err != nil {
			break // the stream ended with the server
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if err := srv.Run(context.Background()); err == nil {
		t.Error("second Run should fail")
	}
}

// slowBackend blocks Status until released.
type slowBackend struct {
	*apitest.Fake
	release chan struct{}
}

func (s slowBackend) Status() api.Status { <-s.release; return s.Fake.Status() }

type panicBackend struct{ *apitest.Fake }

func (panicBackend) Status() api.Status { panic("boom") }

type failingBackend struct{ *apitest.Fake }

func (failingBackend) BlockByNumber(uint64) (*types.Block, error) {
	return nil, errors.New("disk on fire")
}

func TestTimeout(t *testing.T) {
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	b := slowBackend{Fake: f, release: make(chan struct{})}
	defer close(b.release)
	d := f.Deps()
	d.Reader = b
	e := newEnvWith(t, f, d, func(c *api.Config) { c.RequestTimeout = 50 * time.Millisecond })
	st, p := e.get("/status")
	if st != http.StatusRequestTimeout || errCode(t, p) != "timeout" {
		t.Fatalf("%d %s", st, p)
	}
	if st, _ := e.get("/healthz"); st != 200 {
		t.Fatalf("healthz after timeout: %d", st)
	}
}

// TestInternalErrors: a panic or a backend failure (never client input) is
// a logged 500, and the server goes on.
func TestInternalErrors(t *testing.T) {
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, log string
		b               api.Reader
	}{
		{"panic", "/status", "panic serving request", panicBackend{f}},
		{"backend error", "/blocks/2", "backend failure", failingBackend{f}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs syncBuffer
			d := f.Deps()
			d.Reader = c.b
			srv, err := api.New(api.Config{Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})}, d)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
			if rec.Code != 500 || errCode(t, rec.Body.Bytes()) != "internal" {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if !strings.Contains(logs.String(), c.log) {
				t.Errorf("not logged: %s", logs.String())
			}
			rec = httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != 200 {
				t.Errorf("healthz after %s: %d", c.name, rec.Code)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	e := newEnv(t)
	e.f.SetReady(false)
	st, p := e.get("/readyz")
	if st != http.StatusServiceUnavailable || errCode(t, p) != "not_ready" {
		t.Fatalf("%d %s", st, p)
	}
	if st, _ := e.get("/healthz"); st != 200 {
		t.Fatalf("healthz: %d", st)
	}
	e.f.SetReady(true)
	if st, _ := e.get("/readyz"); st != 200 {
		t.Fatalf("readyz: %d", st)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	nodeMetric := prometheus.NewCounter(prometheus.CounterOpts{Name: "ccoin_test_node_metric", Help: "a node metric"})
	reg.MustRegister(nodeMetric)
	e := newEnv(t, func(c *api.Config) { c.Registerer, c.Gatherer = reg, reg })
	// A second server on the same registry shares the histogram.
	if _, err := api.New(api.Config{Registerer: reg, Gatherer: reg}, e.f.Deps()); err != nil {
		t.Fatal(err)
	}
	e.get("/blocks/2")
	e.get("/nowhere")
	_, p := e.get("/metrics")
	for _, want := range []string{
		`ccoin_http_request_duration_seconds_count{code="200",method="GET",route="/blocks/{ref}"} 1`,
		`ccoin_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`,
		`ccoin_test_node_metric 0`,
	} {
		if !strings.Contains(string(p), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestWebFallback: only the explorer's own paths reach the web handler; any
// other unknown path, GET included, gets openapi.yaml's JSON error (issue
// 18.6: an unknown GET used to answer text/plain "404 page not found").
func TestWebFallback(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "web "+r.URL.Path) })
	e := newEnv(t, func(c *api.Config) { c.Web = web })
	for _, c := range []struct {
		method, path string
		status       int
		ctype, want  string
	}{
		{"GET", "/", 200, "text/plain", "web /"},
		{"GET", "/index.html", 200, "text/plain", "web /index.html"},
		{"GET", "/static/app.js", 200, "text/plain", "web /static/app.js"},
		{"HEAD", "/static/style.css", 200, "text/plain", ""},
		{"GET", "/status", 200, "application/json", `"height":3`},
		{"POST", "/", 404, "application/json", `"not_found"`},
		{"GET", "/nope", 404, "application/json", `"not_found"`},
		{"GET", "/block/1", 404, "application/json", `"not_found"`},
		{"GET", "/blocks/1/extra", 404, "application/json", `"not_found"`},
		{"GET", "/api/v1/status", 404, "application/json", `"not_found"`},
		{"HEAD", "/favicon.ico", 404, "application/json", ""},
	} {
		req, _ := http.NewRequest(c.method, e.url(c.path), nil)
		hc := http.DefaultClient
		if c.method == "GET" && c.ctype == "application/json" {
			hc = e.hc // validated against openapi.yaml
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != c.status || !strings.HasPrefix(ct, c.ctype) || !strings.Contains(string(p), c.want) {
			t.Errorf("%s %s: %d %s %q, want %d %s %s", c.method, c.path, resp.StatusCode, ct, p, c.status, c.ctype, c.want)
		}
	}
}

func TestNewRejects(t *testing.T) {
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]api.Deps{
		"no parts":     {},
		"no reader":    {Submitter: f, Stream: f},
		"no submitter": {Reader: f, Stream: f},
		"no stream":    {Reader: f, Submitter: f},
	} {
		if _, err := api.New(api.Config{}, d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := api.New(api.Config{Addr: ln.Addr().String()}, f.Deps()); err == nil {
		t.Error("busy port accepted")
	}
	srv, err := api.New(api.Config{}, f.Deps())
	if err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != "" || srv.Run(context.Background()) == nil {
		t.Error("Run without an address should fail")
	}
}

func TestEmptyTokenClosesSend(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.Token = "" })
	for _, tok := range []string{"", " "} {
		st, p := e.do(http.MethodPost, "/"+e.node+"/txn/", []byte(`{"sendto_address":"`+e.f.Keys.Bob.Address().String()+`","amount":1}`), bearer(tok))
		if st != 401 || errCode(t, p) != "unauthorized" {
			t.Errorf("token %q: %d %s", tok, st, p)
		}
	}
}

func TestLoadOrCreateToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.token")
	tok, created, err := api.LoadOrCreateToken(path)
	if err != nil || !created || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
		t.Fatalf("%q %v %v", tok, created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	again, created, err := api.LoadOrCreateToken(path)
	if err != nil || created || again != tok {
		t.Fatalf("reload: %q %v %v", again, created, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.LoadOrCreateToken(path); !errors.Is(err, api.ErrTokenFilePerm) {
		t.Fatalf("world-readable token accepted: %v", err)
	}
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.LoadOrCreateToken(short); err == nil {
		t.Error("short token accepted")
	}
}

func TestMetricLabelsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(c *api.Config) { c.Registerer, c.Gatherer = reg, reg })
	for _, m := range []string{"FOO", "BAR", "BAZ"} {
		e.do(m, "/status", nil, nil)
	}
	_, p := e.get("/metrics")
	if strings.Contains(string(p), `method="FOO"`) || !strings.Contains(string(p), `code="405",method="other",route="unmatched"} 3`) {
		t.Errorf("odd methods should share the label \"other\":\n%s", p)
	}
}
