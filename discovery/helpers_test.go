package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
)

func testKeys(t testing.TB, n int) []*crypto.PrivateKey { return cryptotest.Keys(t, n) }

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var testChain = strings.Repeat("ab", 32)

// baseEntry is an unsigned entry for key's node.
func baseEntry(i int) Entry {
	return Entry{Host: "10.0.0." + itoa(i+1), Port: 7000 + i, NetworkID: 1, ChainID: testChain, NodeType: NodeBasic}
}

func itoa(i int) string { return strconv.Itoa(i) }

// signedAt signs e for op with key at the given time.
func signedAt(t testing.TB, key *crypto.PrivateKey, op string, e Entry, at time.Time) Entry {
	t.Helper()
	e.Timestamp = at.UnixMilli()
	if err := e.Sign(op, key); err != nil {
		t.Fatal(err)
	}
	return e
}

// newTestServer is a registry without rate limits, per-address cap or host
// check: most tests register many 10.0.0.x hosts from defaultRemote. Those
// defences have their own tests, which use newStrictServer.
func newTestServer(t testing.TB, cfg ServerConfig, clk *fakeClock) *Server {
	t.Helper()
	if cfg.MaxPerIP == 0 {
		cfg.MaxPerIP = -1
	}
	cfg.AnyHost = true
	return newStrictServer(t, cfg, clk)
}

// newStrictServer keeps the registry's defaults but for rate limiting.
func newStrictServer(t testing.TB, cfg ServerConfig, clk *fakeClock) *Server {
	t.Helper()
	if clk != nil {
		cfg.Clock = clk.Now
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type answer struct {
	status int
	code   string
	body   []byte
}

func (a answer) peers(t testing.TB) []Entry {
	t.Helper()
	var p peersAnswer
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("decode peers %q: %v", a.body, err)
	}
	return p.Peers
}

const defaultRemote = "192.0.2.1:1234"

// call runs one request through h. body may be a string (sent raw) or a value
// (sent as JSON); remote "" uses defaultRemote.
func call(t testing.TB, h http.Handler, method, path string, body any, remote string) answer {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if remote == "" {
		remote = defaultRemote
	}
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, body: rec.Body.Bytes()}
	if rec.Code >= 500 {
		t.Fatalf("%s %s: server error %d %s", method, path, rec.Code, rec.Body.Bytes())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	if rec.Code >= 400 {
		var eb errorBody
		if err := json.Unmarshal(a.body, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("%s %s: error answer %d is not an error body: %q", method, path, rec.Code, a.body)
		}
		a.code = eb.Error.Code
	}
	return a
}

func put(t testing.TB, h http.Handler, e Entry) answer {
	t.Helper()
	return call(t, h, http.MethodPut, "/peers/"+e.Address, e, "")
}

func addresses(es []Entry) map[string]bool {
	m := make(map[string]bool, len(es))
	for _, e := range es {
		m[e.Address] = true
	}
	return m
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func jsonRoundTrip(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
