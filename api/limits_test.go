package api_test

// Tests of what one client can make a node hold or spend (issue 16, items
// 3-5): each was an attack that worked before these limits.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ccoin/api"
	"ccoin/api/apitest"

	"github.com/hashicorp/go-hclog"
)

// post sends body to POST /txs with the given Content-Type ("" = none),
// without the openapi validator (which would buffer the body).
func post(t testing.TB, e *env, ctype string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url("/txs"), body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p, _ := io.ReadAll(resp.Body)
	return resp, p
}

// TestSubmitContentType: POST /txs takes only a body declared JSON (or
// MessagePack, which no form can send either). A web
// page of any origin can POST text/plain (or a form) to the node without a
// CORS preflight; it cannot send application/json that way.
func TestSubmitContentType(t *testing.T) {
	e := newEnv(t)
	body := string(mustJSON(t, api.TxToJSON(e.f.Canonical(2).Txs[0]))) // known: 200 with a per-item result
	for _, c := range []struct {
		ctype  string
		status int
	}{
		{"application/json", 200},
		{"application/json; charset=utf-8", 200},
		{"Application/JSON", 200},
		{"", 415},
		{"text/plain", 415},
		{"text/plain;charset=UTF-8", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=x", 415},
		{"application/jsonp", 415},
		{"application/json garbage", 415},
		{"application/x-msgpack", 400}, // accepted type; the JSON body is not MessagePack
		{"application/msgpack", 400},
	} {
		resp, p := post(t, e, c.ctype, strings.NewReader(body))
		if resp.StatusCode != c.status {
			t.Errorf("Content-Type %q: %d %s, want %d", c.ctype, resp.StatusCode, p, c.status)
			continue
		}
		if c.status == 415 && errCode(t, p) != "unsupported_media_type" {
			t.Errorf("Content-Type %q: %s", c.ctype, p)
		}
	}
	// The validated client agrees with openapi.yaml about the 415.
	req, _ := http.NewRequest(http.MethodPost, e.url("/txs"), strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	if resp, err := e.hc.Do(req); err != nil || resp.StatusCode != 415 {
		t.Fatalf("validated: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// junkBatch is an 8 MiB array of 4 million numbers.
func junkBatch() []byte {
	b := append([]byte("["), bytes.Repeat([]byte("1,"), (api.MaxBatchBody-3)/2)...)
	return append(b, "1]"...)
}

// TestSubmitJunkBatchesAreCheap: four concurrent 8 MiB batches of 4 million
// items are each refused within a second, after reading only the first
// 10,001 items. Before, each was read and decoded whole (~280 MiB of heap
// each; four took a node from 103 to 683 MiB, all answered 408 after 15.7 s).
func TestSubmitJunkBatchesAreCheap(t *testing.T) {
	e := newEnv(t)
	junk := junkBatch()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			start := time.Now()
			resp, p := post(t, e, "application/json", bytes.NewReader(junk))
			took := time.Since(start)
			t.Logf("batch %d refused after %v", i, took)
			if limit := time.Second; took > limit && !(raceEnabled && took < 5*limit) {
				t.Errorf("batch %d refused after %v", i, took)
			}
			if resp.StatusCode != 400 || errCode(t, p) != "bad_request" || !strings.Contains(string(p), "more than 10000") {
				t.Errorf("batch %d: %d %s", i, resp.StatusCode, p)
			}
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	// Allocated in total, client and server, for 32 MiB of bodies.
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("four junk batches allocated %d MiB in all", got>>20)
	if got > 64<<20 {
		t.Errorf("four junk batches allocated %d MiB", got>>20)
	}
}

// TestSubmitStreamedLimits: the other ways a batch fails whole, found while
// streaming.
func TestSubmitStreamedLimits(t *testing.T) {
	e := newEnv(t)
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"just over the count", "[" + strings.Repeat("1,", api.MaxBatchTxs) + "1]", 400, "bad_request"},
		{"at the count", "[" + strings.Repeat("1,", api.MaxBatchTxs-1) + "1]", 200, ""},
		{"nested too deep", deep, 400, "bad_json"},
		{"garbage after the array", "[] x", 400, "bad_json"},
		{"second value", "[] []", 400, "bad_json"},
		{"unclosed", "[1,2", 400, "bad_json"},
		{"oversize body", `["` + strings.Repeat("a", api.MaxBatchBody) + `"]`, 413, "body_too_large"},
		{"one item over 64 KiB", `[{"data":"` + strings.Repeat("a", 70<<10) + `"}]`, 413, "body_too_large"},
		{"one string item of 1 MiB", `["` + strings.Repeat("a", 1<<20) + `"]`, 413, "body_too_large"},
		{"an item just under 64 KiB", `[{"data":"` + strings.Repeat("a", 60<<10) + `"}]`, 200, ""},
		{"single object over 64 KiB", `{"data":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "body_too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, p := post(t, e, "application/json", strings.NewReader(c.body))
			if resp.StatusCode != c.status || (c.code != "" && errCode(t, p) != c.code) {
				t.Fatalf("%d %.200s, want %d %s", resp.StatusCode, p, c.status, c.code)
			}
		})
	}
}

// stalledPost sends POST /txs over its own connection: the headers and a
// first chunk holding prefix, flushed, then nothing until release, which
// ends the body. The answer's status arrives on the channel. Written by
// hand because Go's client may hold a streamed body's headers back until
// more of the body comes, so the server would never see the request (the
// test failed about one run in ten that way).
// answer is a response's status and body.
type answer struct {
	status int
	body   []byte
}

func stalledPost(t *testing.T, e *env, prefix string) (<-chan answer, func()) {
	t.Helper()
	conn, err := net.Dial("tcp", e.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := fmt.Fprintf(conn, "POST /txs HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n",
		e.ts.Listener.Addr(), len(prefix), prefix); err != nil {
		t.Fatal(err)
	}
	status := make(chan answer, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			status <- answer{}
			return
		}
		defer resp.Body.Close()
		p, _ := io.ReadAll(resp.Body)
		status <- answer{resp.StatusCode, p}
	}()
	var once sync.Once
	return status, func() { once.Do(func() { _, _ = io.WriteString(conn, "0\r\n\r\n") }) }
}

// TestSubmitConcurrencyBound: only MaxSubmits submissions run at once; the
// next gets 503 busy with Retry-After at once instead of queueing.
func TestSubmitConcurrencyBound(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxSubmits = 1 })
	done, release := stalledPost(t, e, "[")
	defer release()
	ok := []byte(`[]`)
	var resp *http.Response
	var p []byte
	waitFor(t, "the stalled submission to hold the only slot", func() bool {
		resp, p = post(t, e, "application/json", bytes.NewReader(ok))
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	if errCode(t, p) != "busy" || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("busy answer: %s Retry-After %q", p, resp.Header.Get("Retry-After"))
	}
	st, p := e.do(http.MethodPost, "/txs", ok, nil) // validated against openapi.yaml
	if st != http.StatusServiceUnavailable {
		t.Fatalf("validated: %d %s", st, p)
	}
	release()
	if a := <-done; a.status != 400 {
		t.Fatalf("the stalled submission: %d %s, want 400 (truncated JSON)", a.status, a.body)
	}
	if resp, p := post(t, e, "application/json", bytes.NewReader(ok)); resp.StatusCode != 200 {
		t.Fatalf("after the slot freed: %d %s", resp.StatusCode, p)
	}
}

// TestSubmitTimeoutStopsWork: a submission whose deadline passes stops its
// work, here reading a body whose client stalls, so its slot is free again
// while the client still holds the connection. Before, the handler went on
// after the 408 (and there was no bound on how many did).
func TestSubmitTimeoutStopsWork(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxSubmits = 1; c.RequestTimeout = 200 * time.Millisecond })
	done, release := stalledPost(t, e, `[{"nonce":`)
	defer release()
	start := time.Now()
	if a := <-done; a.status != http.StatusRequestTimeout || errCode(t, a.body) != "timeout" {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("408 after %v", took)
	}
	// The client never finished its body; the slot must come back anyway.
	waitFor(t, "the timed-out submission to free its slot", func() bool {
		resp, _ := post(t, e, "application/json", strings.NewReader(`[]`))
		return resp.StatusCode == 200
	})
}

// badSigs makes transactions from Alice with a well-formed but wrong
// signature: each costs one RSA check to refuse. Only the first is signed.
func badSigs(t testing.TB, f *apitest.Fake) func(nonce uint64) []byte {
	t.Helper()
	base := api.TxToJSON(f.MustSign(f.Keys.Alice, 1, f.Keys.Bob.Address(), 1, ""))
	sig := make([]byte, 256)
	_, _ = rand.Read(sig)
	base.Signature = base64.StdEncoding.EncodeToString(sig)
	base.ID = ""
	return func(nonce uint64) []byte {
		j := base
		j.Nonce = nonce
		return mustJSON(t, j)
	}
}

func joinItems(items ...[]byte) []byte {
	return append(append([]byte("["), bytes.Join(items, []byte(","))...), ']')
}

// TestSubmitStopsAtFirstBadSignature: signature checks stop at the first
// bad one, the items after it are answered skipped, and only the checks
// made count against the client's budget. Before, all 8,000 of a batch of
// bad signatures were verified (0.2-0.4 s of CPU) before any was refused.
func TestSubmitStopsAtFirstBadSignature(t *testing.T) {
	const n = 2000
	e := newEnv(t, func(c *api.Config) { c.VerifyRate = 0.001; c.VerifyBurst = n; c.LimitLoopback = true })
	f := e.f
	good := mustJSON(t, api.TxToJSON(f.MustSign(f.Keys.Alice, 5, f.Keys.Bob.Address(), 1, "")))
	badSig := badSigs(t, f)
	bad := badSig(6)
	items := [][]byte{good}
	for range n - 1 {
		items = append(items, bad)
	}
	// On one core the checks are exactly two, so the budget left is
	// exact; on several, a few checks past the bad one may already run.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	st, p := e.do(http.MethodPost, "/txs", joinItems(items...), nil)
	if st != 200 {
		t.Fatalf("%d %.300s", st, p)
	}
	res := decode[api.SubmitResponseJSON](t, p).Results
	if len(res) != n || !res[0].Accepted || res[1].Error == nil || res[1].Error.Code != "bad_signature" {
		t.Fatalf("first results: %+v %+v", res[0], res[1])
	}
	for i := 2; i < n; i++ {
		if res[i].Accepted || res[i].Error == nil || res[i].Error.Code != "skipped" {
			t.Fatalf("result %d: %+v", i, res[i])
		}
	}
	// Two checks were made; the rest of the budget is still there for a
	// batch of n-2 distinct transactions, but not for one more.
	var others [][]byte
	for i := range n - 1 {
		others = append(others, badSig(uint64(100+i)))
	}
	if st, p := post(t, e, "application/json", bytes.NewReader(joinItems(others...))); st.StatusCode != 429 {
		t.Fatalf("n-1 checks with n-2 left: %d %.200s", st.StatusCode, p)
	}
	if st, p := e.do(http.MethodPost, "/txs", joinItems(others[:n-2]...), nil); st != 200 {
		t.Fatalf("the unused budget was not given back: %d %.200s", st, p)
	}
}

// TestSubmitVerifyBudget: one client may make the node check VerifyRate
// signatures per second (VerifyBurst at once); beyond that the whole batch
// is refused with 429 rate_limited and Retry-After, before any RSA work.
func TestSubmitVerifyBudget(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e := newEnv(t, func(c *api.Config) { c.VerifyRate = 10; c.VerifyBurst = 20; c.Now = clock.now; c.LimitLoopback = true })
	f := e.f
	var items [][]byte
	for i := range 15 {
		items = append(items, mustJSON(t, api.TxToJSON(f.MustSign(f.Keys.Alice, uint64(5+i), f.Keys.Bob.Address(), 1, ""))))
	}
	batch := joinItems(items...)
	if st, p := e.do(http.MethodPost, "/txs", batch, nil); st != 200 {
		t.Fatalf("first batch: %d %.200s", st, p)
	}
	resp, p := post(t, e, "application/json", bytes.NewReader(batch))
	if resp.StatusCode != 429 || errCode(t, p) != "rate_limited" || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("second batch: %d %s Retry-After %q", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
	if st, p := e.do(http.MethodPost, "/txs", batch, nil); st != 429 { // validated against openapi.yaml
		t.Fatalf("validated: %d %s", st, p)
	}
	// Items refused before any signature check cost nothing.
	if st, p := e.do(http.MethodPost, "/txs", []byte(`[1,{"x":1},"y"]`), nil); st != 200 {
		t.Fatalf("malformed items while limited: %d %s", st, p)
	}
	clock.advance(time.Second)
	st, p := e.do(http.MethodPost, "/txs", batch, nil)
	if st != 200 {
		t.Fatalf("after a second: %d %.200s", st, p)
	}
	for i, r := range decode[api.SubmitResponseJSON](t, p).Results {
		if r.Error == nil || r.Error.Code != "known" {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestEventsPerClientCap: one client may hold MaxStreamsPerIP event streams;
// the next gets 429 too_many_streams. Before, 1,030 idle sockets from one
// client took all of the node's 1,024 streams.
func TestEventsPerClientCap(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxStreamsPerIP = 2 })
	_, close1 := openEvents(t, e.hc, e.url("/events"))
	_, close2 := openEvents(t, e.hc, e.url("/events"))
	defer close2()
	resp, err := e.hc.Get(e.url("/events")) // validated against openapi.yaml
	if err != nil {
		t.Fatal(err)
	}
	p, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || errCode(t, p) != "too_many_streams" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream: %d %s", resp.StatusCode, p)
	}
	close1()
	waitFor(t, "a stream slot after one closed", func() bool {
		resp, err := http.Get(e.url("/events"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// runServer serves on a real loopback port until the test ends.
func runServer(t *testing.T, mod func(*api.Config)) string {
	t.Helper()
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{Addr: "127.0.0.1:0", NodeAddress: f.Keys.Node.Address(), Logger: hclog.NewNullLogger()}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := api.New(cfg, f.Deps())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv.Addr()
}

// TestConnectionLimit: the server holds at most MaxConns connections; the
// next waits until one closes. Without it, per-client caps are no limit
// when connections are free.
func TestConnectionLimit(t *testing.T) {
	addr := runServer(t, func(c *api.Config) { c.MaxConns = 2 })
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// Talk once, so the server has surely accepted the connection,
		// then keep it open.
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if line, err := readLine(c); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("held connection: %q %v", line, err)
		}
		held = append(held, c)
	}
	hc := &http.Client{Timeout: 500 * time.Millisecond}
	if resp, err := hc.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("a third connection was served: %d", resp.StatusCode)
	}
	held[0].Close()
	hc.Timeout = 5 * time.Second
	resp, err := hc.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after one closed: %v %v", resp, err)
	}
	resp.Body.Close()
	held[1].Close()
}

func readLine(c net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := c.Read(one); err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
}

// TestSlowloris: a client that sends its headers slowly, or not at all, is
// cut off by the header timeout (5 s) instead of holding a connection
// forever.
func TestSlowloris(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 5 s header timeout")
	}
	addr := runServer(t, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err = io.ReadAll(c)
	took := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server still held the connection after %v", took)
	}
	if took < 4*time.Second || took > 10*time.Second {
		t.Fatalf("closed after %v, want about 5 s", took)
	}
}

// The Retry-After of a busy submission and the budget's are whole seconds.
func TestRetryAfterIsSeconds(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e := newEnv(t, func(c *api.Config) { c.VerifyRate = 0.5; c.VerifyBurst = 1; c.Now = clock.now; c.LimitLoopback = true })
	f := e.f
	tx := mustJSON(t, api.TxToJSON(f.MustSign(f.Keys.Alice, 5, f.Keys.Bob.Address(), 1, "")))
	if st, p := e.do(http.MethodPost, "/txs", tx, nil); st != 200 {
		t.Fatalf("%d %s", st, p)
	}
	resp, p := post(t, e, "application/json", bytes.NewReader(tx))
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != 429 || err != nil || n != 2 {
		t.Fatalf("%d %s Retry-After %q, want 429 and 2", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
}

// TestSubmitVerifyBudgetScope: copies of one transaction in a batch cost one
// check, and loopback clients (ccoin bench on the node's machine) are not
// limited unless LimitLoopback is set.
func TestSubmitVerifyBudgetScope(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e := newEnv(t, func(c *api.Config) {
		c.VerifyRate = 0.001
		c.VerifyBurst = 3
		c.Now = clock.now
		c.LimitLoopback = true
	})
	f := e.f
	one := mustJSON(t, api.TxToJSON(f.MustSign(f.Keys.Alice, 5, f.Keys.Bob.Address(), 1, "")))
	var items [][]byte
	for range 100 {
		items = append(items, one)
	}
	for i := range 3 { // 3 tokens, one check per batch
		st, p := e.do(http.MethodPost, "/txs", joinItems(items...), nil)
		if st != 200 {
			t.Fatalf("batch %d of 100 copies: %d %.200s", i, st, p)
		}
		res := decode[api.SubmitResponseJSON](t, p).Results
		if i == 0 && !res[0].Accepted {
			t.Fatalf("first copy: %+v", res[0])
		}
		for k, r := range res[1:] {
			if r.Accepted || r.Error == nil || r.Error.Code != "known" {
				t.Fatalf("batch %d copy %d: %+v", i, k+1, r)
			}
		}
	}
	if st, _ := e.do(http.MethodPost, "/txs", one, nil); st != 429 {
		t.Fatalf("fourth check: %d, want 429", st)
	}

	lo := newEnv(t, func(c *api.Config) { c.VerifyRate = 0.001; c.VerifyBurst = 1; c.Now = clock.now })
	for i := range 5 {
		tx := mustJSON(t, api.TxToJSON(lo.f.MustSign(lo.f.Keys.Alice, uint64(5+i), lo.f.Keys.Bob.Address(), 1, "")))
		if st, p := lo.do(http.MethodPost, "/txs", tx, nil); st != 200 {
			t.Fatalf("loopback, check %d: %d %s", i, st, p)
		}
	}
}
