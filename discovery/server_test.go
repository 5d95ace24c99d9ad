package discovery

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"ccoin/ccoin/atomicfile"
)

func TestSignedAddGetRemove(t *testing.T) {
	keys := testKeys(t, 2)
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{}, clk)
	h := s.Handler()

	e := signedAt(t, keys[0], OpAdd, baseEntry(0), clk.Now())
	if a := put(t, h, e); a.status != http.StatusOK {
		t.Fatalf("add: %d %s", a.status, a.body)
	}
	got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t)
	if len(got) != 1 || got[0].Address != e.Address || got[0].Host != e.Host || got[0].Port != e.Port ||
		got[0].NodeType != NodeBasic || got[0].ChainID != testChain || got[0].PublicKey != e.PublicKey {
		t.Fatalf("peers = %+v", got)
	}
	if got[0].Signature != "" {
		t.Fatalf("listing leaks signature")
	}
	if a := call(t, h, http.MethodGet, "/peers/"+e.Address, nil, ""); a.status != http.StatusOK {
		t.Fatalf("get one: %d", a.status)
	}

	// Removing someone who is not there is not_found (after the signature checks).
	other := signedAt(t, keys[1], OpRemove, baseEntry(1), clk.Now())
	if a := call(t, h, http.MethodDelete, "/peers/"+other.Address, other, ""); a.status != http.StatusNotFound || a.code != "not_found" {
		t.Fatalf("remove absent: %d %s", a.status, a.code)
	}

	clk.Advance(time.Second)
	rm := signedAt(t, keys[0], OpRemove, baseEntry(0), clk.Now())
	if a := call(t, h, http.MethodDelete, "/peers/"+rm.Address, rm, ""); a.status != http.StatusOK {
		t.Fatalf("remove: %d %s", a.status, a.body)
	}
	if got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t); len(got) != 0 {
		t.Fatalf("after remove: %+v", got)
	}
	if a := call(t, h, http.MethodGet, "/peers/"+e.Address, nil, ""); a.code != "not_found" {
		t.Fatalf("get removed: %d %s", a.status, a.code)
	}
}

func TestForgeryRefused(t *testing.T) {
	keys := testKeys(t, 2)
	victim, attacker := keys[0], keys[1]
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{}, clk)
	h := s.Handler()
	if a := put(t, h, signedAt(t, victim, OpAdd, baseEntry(0), clk.Now())); a.status != http.StatusOK {
		t.Fatalf("add: %d %s", a.status, a.body)
	}
	clk.Advance(time.Second)
	victimAddr := victim.Address().String()
	victimKey := signedAt(t, victim, OpAdd, baseEntry(0), clk.Now()).PublicKey

	tests := []struct {
		name   string
		method string
		op     string
		forge  func(e *Entry)
		code   string
	}{
		{"remove with attacker key and victim address", http.MethodDelete, OpRemove,
			func(e *Entry) { e.Address = victimAddr }, "forbidden"},
		{"remove with victim public key, attacker signature", http.MethodDelete, OpRemove,
			func(e *Entry) { e.Address, e.PublicKey = victimAddr, victimKey }, "bad_signature"},
		{"overwrite with attacker key and victim address", http.MethodPut, OpAdd,
			func(e *Entry) { e.Address, e.Host = victimAddr, "6.6.6.6" }, "forbidden"},
		{"overwrite with victim public key, attacker signature", http.MethodPut, OpAdd,
			func(e *Entry) { e.Address, e.PublicKey, e.Host = victimAddr, victimKey, "6.6.6.6" }, "bad_signature"},
		{"add signature replayed as remove", http.MethodDelete, OpAdd, nil, "bad_signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e Entry
			if tc.forge == nil {
				// The victim's own add, sent as a removal.
				e = signedAt(t, victim, tc.op, baseEntry(0), clk.Now())
			} else {
				e = signedAt(t, attacker, tc.op, baseEntry(0), clk.Now())
				tc.forge(&e)
			}
			a := call(t, h, tc.method, "/peers/"+e.Address, e, "")
			if a.status != http.StatusForbidden || a.code != tc.code {
				t.Fatalf("got %d %s (%s), want 403 %s", a.status, a.code, a.body, tc.code)
			}
			got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t)
			if len(got) != 1 || got[0].Address != victimAddr || got[0].Host != baseEntry(0).Host {
				t.Fatalf("victim entry changed: %+v", got)
			}
		})
	}

	// A field altered after signing breaks the signature.
	e := signedAt(t, victim, OpAdd, baseEntry(0), clk.Now())
	e.Port = 9999
	if a := put(t, h, e); a.code != "bad_signature" {
		t.Fatalf("altered port: %d %s", a.status, a.code)
	}
}

func TestReplayAndClock(t *testing.T) {
	keys := testKeys(t, 1)
	k := keys[0]
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{}, clk)
	h := s.Handler()
	t0 := clk.Now()

	old := signedAt(t, k, OpAdd, baseEntry(0), t0)
	newer := baseEntry(0)
	newer.Host = "10.9.9.9"
	newer = signedAt(t, k, OpAdd, newer, t0.Add(time.Second))
	sameTS := baseEntry(0)
	sameTS.Port = 1234
	sameTS = signedAt(t, k, OpAdd, sameTS, t0.Add(time.Second))
	typeFlip := newer
	typeFlip.NodeType = NodeValidator // not signed, so must not be accepted at an old timestamp

	steps := []struct {
		name string
		e    Entry
		code string // "" = accepted
	}{
		{"first registration", old, ""},
		{"newer registration", newer, ""},
		{"replayed older registration", old, "stale"},
		{"same request again is a no-op", newer, ""},
		{"other content at a used timestamp", sameTS, "stale"},
		{"unsigned field changed at a used timestamp", typeFlip, "stale"},
		{"too far in the future", signedAt(t, k, OpAdd, baseEntry(0), t0.Add(6*time.Minute)), "stale"},
		{"too far in the past", signedAt(t, k, OpAdd, baseEntry(0), t0.Add(-6*time.Minute)), "stale"},
	}
	for _, st := range steps {
		a := put(t, h, st.e)
		if st.code == "" && a.status != http.StatusOK || st.code != "" && a.code != st.code {
			t.Fatalf("%s: got %d %s %s, want %q", st.name, a.status, a.code, a.body, st.code)
		}
	}
	got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t)
	if len(got) != 1 || got[0].Host != "10.9.9.9" || got[0].NodeType != NodeBasic {
		t.Fatalf("entry = %+v", got)
	}

	// A removal older than the registration is refused; after a removal the
	// old registrations cannot bring the entry back.
	rmOld := signedAt(t, k, OpRemove, baseEntry(0), t0)
	if a := call(t, h, http.MethodDelete, "/peers/"+rmOld.Address, rmOld, ""); a.code != "stale" {
		t.Fatalf("old removal: %d %s", a.status, a.code)
	}
	rm := signedAt(t, k, OpRemove, baseEntry(0), t0.Add(2*time.Second))
	if a := call(t, h, http.MethodDelete, "/peers/"+rm.Address, rm, ""); a.status != http.StatusOK {
		t.Fatalf("removal: %d %s", a.status, a.body)
	}
	for _, e := range []Entry{old, newer} {
		if a := put(t, h, e); a.code != "stale" {
			t.Fatalf("resurrection after removal: %d %s", a.status, a.code)
		}
	}
	if a := put(t, h, signedAt(t, k, OpAdd, baseEntry(0), t0.Add(3*time.Second))); a.status != http.StatusOK {
		t.Fatalf("fresh registration after removal: %d %s", a.status, a.body)
	}
}

func TestExpiry(t *testing.T) {
	keys := testKeys(t, 2)
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{TTL: time.Minute}, clk)
	h := s.Handler()
	e0 := signedAt(t, keys[0], OpAdd, baseEntry(0), clk.Now())
	put(t, h, e0)
	clk.Advance(40 * time.Second)
	put(t, h, signedAt(t, keys[1], OpAdd, baseEntry(1), clk.Now()))
	clk.Advance(30 * time.Second) // key 0 is 70 s old, key 1 is 30 s old

	got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t)
	if len(got) != 1 || got[0].Address != keys[1].Address().String() {
		t.Fatalf("after partial expiry: %+v", got)
	}
	if a := call(t, h, http.MethodGet, "/peers/"+e0.Address, nil, ""); a.code != "not_found" {
		t.Fatalf("expired entry served: %d", a.status)
	}
	if n := s.sweep(); n != 1 {
		t.Fatalf("swept %d, want 1", n)
	}
	// The expired registration cannot be replayed to resurrect the entry.
	if a := put(t, h, e0); a.code != "stale" {
		t.Fatalf("replay of expired entry: %d %s", a.status, a.code)
	}
	clk.Advance(time.Minute)
	if got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t); len(got) != 0 {
		t.Fatalf("after full expiry: %+v", got)
	}
	// A refresh brings a node back.
	if a := put(t, h, signedAt(t, keys[0], OpAdd, baseEntry(0), clk.Now())); a.status != http.StatusOK {
		t.Fatalf("re-register: %d %s", a.status, a.body)
	}
	if got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t); len(got) != 1 {
		t.Fatalf("after re-register: %+v", got)
	}
}

// fillTable inserts n unsigned records directly, bypassing signatures, for
// tests about sampling; every third one is expired.
func fillTable(s *Server, n int, now time.Time) (live map[string]bool) {
	live = make(map[string]bool)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		e := baseEntry(i % 200)
		e.Address = strings.Repeat("0", 32) + fmtHex8(i)
		e.Timestamp = now.UnixMilli()
		e.NetworkID = uint64(1 + i%2)
		seen := now
		if i%3 == 0 {
			seen = now.Add(-s.cfg.TTL - time.Second)
		} else {
			live[e.Address] = true
		}
		r := &record{entry: e, seen: seen, rangeKey: "test", idx: len(s.tab.order)}
		s.tab.byAddr[e.Address] = r
		s.tab.order = append(s.tab.order, r)
	}
	return live
}

func fmtHex8(i int) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 8)
	for j := 7; j >= 0; j-- {
		b[j] = hexd[i&15]
		i >>= 4
	}
	return string(b)
}

func TestPeersRandomLiveSample(t *testing.T) {
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{}, clk)
	h := s.Handler()
	live := fillTable(s, 300, clk.Now())

	seen := make(map[string]bool)
	firsts := make(map[string]bool)
	for range 100 {
		got := call(t, h, http.MethodGet, "/peers?limit=3", nil, "").peers(t)
		if len(got) != 3 {
			t.Fatalf("got %d peers, want 3", len(got))
		}
		if len(addresses(got)) != 3 {
			t.Fatalf("duplicates in %+v", got)
		}
		for _, e := range got {
			if !live[e.Address] {
				t.Fatalf("expired or unknown entry %s served", e.Address)
			}
			seen[e.Address] = true
		}
		firsts[got[0].Address] = true
	}
	// 300 draws from 200 live entries: a fixed or ordered answer would show
	// a handful; uniform sampling sees well over a hundred.
	if len(seen) < 100 || len(firsts) < 50 {
		t.Fatalf("sample not random: %d distinct entries, %d distinct first entries", len(seen), len(firsts))
	}

	tests := []struct {
		query string
		want  int
		code  string
	}{
		{"", DefaultPeersLimit, ""},
		{"?limit=1000", MaxPeersLimit, ""},
		{"?limit=100&network_id=2", MaxPeersLimit, ""},
		{"?limit=1", 1, ""},
		{"?limit=0", 0, "bad_request"},
		{"?limit=-3", 0, "bad_request"},
		{"?limit=abc", 0, "bad_request"},
		{"?network_id=-1", 0, "bad_request"},
		{"?chain_id=zz", 0, "bad_request"},
		{"?chain_id=" + strings.Repeat("cd", 32), 0, ""},
		{"?network_id=3", 0, ""},
	}
	for _, tc := range tests {
		a := call(t, h, http.MethodGet, "/peers"+tc.query, nil, "")
		if tc.code != "" {
			if a.status != http.StatusBadRequest || a.code != tc.code {
				t.Fatalf("%s: %d %s", tc.query, a.status, a.code)
			}
			continue
		}
		got := a.peers(t)
		if len(got) != tc.want {
			t.Fatalf("%s: %d peers, want %d", tc.query, len(got), tc.want)
		}
		for _, e := range got {
			if strings.Contains(tc.query, "network_id=2") && e.NetworkID != 2 {
				t.Fatalf("%s: filter let through %+v", tc.query, e)
			}
		}
	}
}

func TestFull(t *testing.T) {
	keys := testKeys(t, 4)
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{MaxEntries: 2, TTL: time.Minute}, clk)
	h := s.Handler()
	for i := range 2 {
		if a := put(t, h, signedAt(t, keys[i], OpAdd, baseEntry(i), clk.Now())); a.status != http.StatusOK {
			t.Fatalf("add %d: %d %s", i, a.status, a.body)
		}
	}
	clk.Advance(time.Second)
	if a := put(t, h, signedAt(t, keys[2], OpAdd, baseEntry(2), clk.Now())); a.code != "full" {
		t.Fatalf("third: %d %s", a.status, a.code)
	}
	if a := put(t, h, signedAt(t, keys[0], OpAdd, baseEntry(0), clk.Now())); a.status != http.StatusOK {
		t.Fatalf("refresh when full: %d %s", a.status, a.body)
	}
	// Key 1 expires; its slot is reclaimed for a newcomer.
	clk.Advance(59*time.Second + time.Millisecond)
	if a := put(t, h, signedAt(t, keys[2], OpAdd, baseEntry(2), clk.Now())); a.status != http.StatusOK {
		t.Fatalf("after expiry: %d %s", a.status, a.body)
	}
	if got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t); len(got) != 2 {
		t.Fatalf("peers: %+v", got)
	}
}

func TestFullPerRange(t *testing.T) {
	keys := testKeys(t, 3)
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{MaxPerRange: 1}, clk)
	h := s.Handler()
	reg := func(i int, remote string) answer {
		e := signedAt(t, keys[i], OpAdd, baseEntry(i), clk.Now())
		return call(t, h, http.MethodPut, "/peers/"+e.Address, e, remote)
	}
	if a := reg(0, "198.51.100.7:1"); a.status != http.StatusOK {
		t.Fatalf("first: %d %s", a.status, a.body)
	}
	if a := reg(1, "198.51.100.8:1"); a.code != "full" {
		t.Fatalf("second from same /24: %d %s", a.status, a.code)
	}
	if a := reg(1, "203.0.113.8:1"); a.status != http.StatusOK {
		t.Fatalf("other range: %d %s", a.status, a.body)
	}
	clk.Advance(time.Second)
	if a := reg(0, "198.51.100.9:1"); a.status != http.StatusOK {
		t.Fatalf("refresh from same range: %d %s", a.status, a.body)
	}
}

func TestRateLimit(t *testing.T) {
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{RateLimit: 2, RateBurst: 3, RangeRateLimit: 100, RangeRateBurst: 5}, clk)
	h := s.Handler()
	get := func(remote string) answer { return call(t, h, http.MethodGet, "/healthz", nil, remote) }
	for i := range 3 {
		if a := get("198.51.100.1:5"); a.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, a.status)
		}
	}
	a := get("198.51.100.1:6")
	if a.status != http.StatusTooManyRequests || a.code != "too_many_requests" {
		t.Fatalf("4th: %d %s", a.status, a.code)
	}
	// Another IP in the same /24 still has its own budget, until the range
	// budget (5) runs out.
	if a := get("198.51.100.2:5"); a.status != http.StatusOK {
		t.Fatalf("other ip: %d", a.status)
	}
	if a := get("198.51.100.3:5"); a.status != http.StatusOK {
		t.Fatalf("other ip: %d", a.status)
	}
	if a := get("198.51.100.4:5"); a.code != "too_many_requests" {
		t.Fatalf("range flood not limited: %d", a.status)
	}
	if a := get("[2001:db8::1]:5"); a.status != http.StatusOK {
		t.Fatalf("other range: %d", a.status)
	}
	clk.Advance(time.Second) // two tokens back
	if a := get("198.51.100.1:5"); a.status != http.StatusOK {
		t.Fatalf("after refill: %d", a.status)
	}
}

func TestLimiterTableBounded(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(1, 1, 2)
	now := clk.Now()
	if !l.allow("a", now) || !l.allow("b", now) {
		t.Fatal("first requests refused")
	}
	// The table is full of busy buckets: newcomers share the overflow bucket.
	if !l.allow("c", now) || l.allow("d", now) {
		t.Fatal("overflow bucket not shared")
	}
	if l.len() != 2 {
		t.Fatalf("table grew to %d", l.len())
	}
	// Once idle buckets refill, a sweep makes room again.
	now = now.Add(2 * time.Second)
	if !l.allow("e", now) || l.len() != 1 {
		t.Fatalf("idle buckets not swept: len %d", l.len())
	}
}

func TestClientKeys(t *testing.T) {
	tests := []struct{ remote, ip, rng string }{
		{"198.51.100.7:80", "198.51.100.7", "198.51.100.0/24"},
		{"[::ffff:198.51.100.7]:80", "198.51.100.7", "198.51.100.0/24"},
		{"[2001:db8:1:2:3:4:5:6]:80", "2001:db8:1:2::/64", "2001:db8:1::/48"},
		{"garbage", "other", "other"},
	}
	for _, tc := range tests {
		ip, rng := clientKeys(tc.remote)
		if ip != tc.ip || rng != tc.rng {
			t.Errorf("%s: got %s %s", tc.remote, ip, rng)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	s := newTestServer(t, ServerConfig{MaxBody: 1024}, newFakeClock())
	h := s.Handler()
	big := `{"command":"get_all","pad":"` + strings.Repeat("x", 2000) + `"}`
	for _, path := range []string{"/", "/peers/" + strings.Repeat("a", 40)} {
		method := http.MethodPost
		if path != "/" {
			method = http.MethodPut
		}
		// With a Content-Length, refused before reading.
		if a := call(t, h, method, path, big, ""); a.status != http.StatusRequestEntityTooLarge || a.code != "body_too_large" {
			t.Fatalf("%s with length: %d %s", path, a.status, a.code)
		}
		// Without one (chunked), refused while reading.
		req, _ := http.NewRequest(method, path, strings.NewReader(big))
		req.ContentLength = -1
		req.RemoteAddr = defaultRemote
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "body_too_large") {
			t.Fatalf("%s chunked: %d %s", path, rec.Code, rec.Body.String())
		}
	}
}

func TestMalformedRequests(t *testing.T) {
	keys := testKeys(t, 1)
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{}, clk)
	h := s.Handler()
	good := signedAt(t, keys[0], OpAdd, baseEntry(0), clk.Now())
	path := "/peers/" + good.Address
	mod := func(f func(e *Entry)) Entry { e := good; f(&e); return e }

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"truncated json", http.MethodPut, path, `{"address":`, 400, "bad_json"},
		{"empty body", http.MethodPut, path, ``, 400, "bad_json"},
		{"array", http.MethodPut, path, `[]`, 400, "bad_json"},
		{"port as string", http.MethodPut, path, `{"address":"` + good.Address + `","port":"7000"}`, 400, "bad_json"},
		{"negative network id", http.MethodPut, path, `{"network_id":-1}`, 400, "bad_json"},
		{"huge number", http.MethodPut, path, `{"timestamp":1e400}`, 400, "bad_json"},
		{"trailing garbage", http.MethodPut, path, `{} {}`, 400, "bad_json"},
		{"command wrong type", http.MethodPost, "/", `{"command":7}`, 400, "bad_json"},
		{"unknown command", http.MethodPost, "/", `{"command":"drop_table"}`, 400, "bad_request"},
		{"get_all limit zero", http.MethodPost, "/", `{"command":"get_all","limit":0}`, 400, "bad_request"},
		{"get_all limit string", http.MethodPost, "/", `{"command":"get_all","limit":"5"}`, 400, "bad_json"},
		{"path differs from body", http.MethodPut, "/peers/" + strings.Repeat("b", 40), good, 400, "bad_request"},
		{"uppercase address", http.MethodPut, "/peers/" + strings.ToUpper(good.Address), mod(func(e *Entry) { e.Address = strings.ToUpper(e.Address) }), 400, "bad_request"},
		{"short address", http.MethodPut, "/peers/abc", mod(func(e *Entry) { e.Address = "abc" }), 400, "bad_request"},
		{"bad base64 key", http.MethodPut, path, mod(func(e *Entry) { e.PublicKey = "!!!" }), 400, "bad_request"},
		{"bad base64 signature", http.MethodPut, path, mod(func(e *Entry) { e.Signature = "%%%" }), 400, "bad_request"},
		{"missing signature", http.MethodPut, path, mod(func(e *Entry) { e.Signature = "" }), 400, "bad_request"},
		{"port zero", http.MethodPut, path, mod(func(e *Entry) { e.Port = 0 }), 400, "bad_request"},
		{"port too big", http.MethodPut, path, mod(func(e *Entry) { e.Port = 70000 }), 400, "bad_request"},
		{"host with newline", http.MethodPut, path, mod(func(e *Entry) { e.Host = "a\nb" }), 400, "bad_request"},
		{"unspecified host", http.MethodPut, path, mod(func(e *Entry) { e.Host = "0.0.0.0" }), 400, "bad_request"},
		{"empty host", http.MethodPut, path, mod(func(e *Entry) { e.Host = "" }), 400, "bad_request"},
		{"bad chain id", http.MethodPut, path, mod(func(e *Entry) { e.ChainID = "xyz" }), 400, "bad_request"},
		{"bad node type", http.MethodPut, path, mod(func(e *Entry) { e.NodeType = "miner" }), 400, "bad_request"},
		{"no node type", http.MethodPut, path, mod(func(e *Entry) { e.NodeType = "" }), 400, "bad_request"},
		{"zero timestamp", http.MethodPut, path, mod(func(e *Entry) { e.Timestamp = 0 }), 400, "bad_request"},
		{"wrong method", http.MethodPatch, path, good, 405, "method_not_allowed"},
		{"unknown route", http.MethodGet, "/nope", nil, 404, "not_found"},
		{"get on root", http.MethodGet, "/", nil, 405, "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, h, tc.method, tc.path, tc.body, "")
			if a.status != tc.status || a.code != tc.code {
				t.Fatalf("got %d %s (%s), want %d %s", a.status, a.code, a.body, tc.status, tc.code)
			}
		})
	}
	if got := call(t, h, http.MethodGet, "/peers", nil, "").peers(t); len(got) != 0 {
		t.Fatalf("malformed requests registered something: %+v", got)
	}
}

func TestCommandInterface(t *testing.T) {
	keys := testKeys(t, 3)
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{}, clk)
	h := s.Handler()
	cmd := func(command string, e Entry) map[string]any {
		m := map[string]any{"command": command}
		b, _ := jsonRoundTrip(e)
		for k, v := range b {
			m[k] = v
		}
		return m
	}
	for i := range 3 {
		e := baseEntry(i)
		e.NetworkID = uint64(1 + i%2)
		e = signedAt(t, keys[i], OpAdd, e, clk.Now())
		if a := call(t, h, http.MethodPost, "/", cmd("add", e), ""); a.status != http.StatusOK {
			t.Fatalf("add %d: %d %s", i, a.status, a.body)
		}
	}
	tests := []struct {
		body any
		want int
	}{
		{`{"command":"get_all"}`, 3},
		{`{"command":"get_all","limit":2}`, 2},
		{`{"command":"get_all","network_id":2}`, 1},
		{`{"command":"get_all","chain_id":"` + testChain + `"}`, 3},
		{`{"command":"get_all","chain_id":"` + strings.Repeat("0", 64) + `"}`, 0},
	}
	for _, tc := range tests {
		a := call(t, h, http.MethodPost, "/", tc.body, "")
		if got := a.peers(t); len(got) != tc.want {
			t.Fatalf("%v: %d peers, want %d", tc.body, len(got), tc.want)
		}
	}
	// A forged remove through the command interface is refused too.
	forged := signedAt(t, keys[1], OpRemove, baseEntry(0), clk.Now())
	forged.Address = keys[0].Address().String()
	if a := call(t, h, http.MethodPost, "/", cmd("remove", forged), ""); a.status != http.StatusForbidden {
		t.Fatalf("forged remove: %d %s", a.status, a.body)
	}
	rm := signedAt(t, keys[0], OpRemove, baseEntry(0), clk.Now())
	if a := call(t, h, http.MethodPost, "/", cmd("remove", rm), ""); a.status != http.StatusOK {
		t.Fatalf("remove: %d %s", a.status, a.body)
	}
	got := call(t, h, http.MethodPost, "/", `{"command":"get_all"}`, "").peers(t)
	if len(got) != 2 || addresses(got)[keys[0].Address().String()] {
		t.Fatalf("after remove: %+v", got)
	}
	// get_all is capped at MaxEntries even with a bigger limit.
	s2 := newTestServer(t, ServerConfig{MaxEntries: 50}, clk)
	fillTable(s2, 50, clk.Now())
	if got := call(t, s2.Handler(), http.MethodPost, "/", `{"command":"get_all","limit":100000}`, "").peers(t); len(got) == 0 || len(got) > 50 {
		t.Fatalf("get_all returned %d", len(got))
	}
}

func TestRestartKeepsLiveEntries(t *testing.T) {
	keys := testKeys(t, 2)
	clk := newFakeClock()
	path := t.TempDir() + "/discovery.json"
	cfg := ServerConfig{StatePath: path, TTL: time.Minute}
	s1 := newTestServer(t, cfg, clk)
	put(t, s1.Handler(), signedAt(t, keys[0], OpAdd, baseEntry(0), clk.Now()))
	clk.Advance(45 * time.Second)
	put(t, s1.Handler(), signedAt(t, keys[1], OpAdd, baseEntry(1), clk.Now()))
	if err := s1.save(false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Second) // key 0 is now expired, key 1 is not

	s2 := newTestServer(t, cfg, clk)
	got := call(t, s2.Handler(), http.MethodGet, "/peers", nil, "").peers(t)
	if len(got) != 1 || got[0].Address != keys[1].Address().String() {
		t.Fatalf("after restart: %+v", got)
	}
	// Replay protection survives the restart for entries it kept.
	if a := put(t, s2.Handler(), signedAt(t, keys[1], OpAdd, baseEntry(1), clk.Now().Add(-30*time.Second))); a.code != "stale" {
		t.Fatalf("replay after restart: %d %s", a.status, a.code)
	}
}

func TestCorruptStateRefused(t *testing.T) {
	path := t.TempDir() + "/discovery.json"
	for _, content := range []string{"{not json", `{"version":99,"entries":[]}`} {
		if err := atomicfile.WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		_, err := NewServer(ServerConfig{StatePath: path})
		if !errorsIs(err, ErrCorruptState) {
			t.Fatalf("%q: got %v, want ErrCorruptState", content, err)
		}
	}
	// A tampered entry is dropped, not served.
	keys := testKeys(t, 1)
	e := signedAt(t, keys[0], OpAdd, baseEntry(0), time.Now())
	e.Host = "6.6.6.6"
	sf := stateFile{Version: stateVersion, Entries: []stateRecord{{Entry: e, Seen: time.Now().UnixMilli(), Range: "x"}}}
	data, _ := jsonMarshal(sf)
	if err := atomicfile.WriteFile(path, data); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(ServerConfig{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, s.Handler(), http.MethodGet, "/peers", nil, "").peers(t); len(got) != 0 {
		t.Fatalf("tampered entry served: %+v", got)
	}
}

func TestSampleSelectiveFilter(t *testing.T) {
	clk := newFakeClock()
	s := newTestServer(t, ServerConfig{}, clk)
	fillTable(s, 1000, clk.Now())
	rare := strings.Repeat("cd", 32)
	want := map[string]bool{}
	s.mu.Lock()
	for i, r := range s.tab.order {
		if i%200 == 1 { // 5 entries, made live
			r.entry.ChainID = rare
			r.seen = clk.Now()
			want[r.entry.Address] = true
		}
	}
	s.mu.Unlock()
	if len(want) != 5 {
		t.Fatalf("setup: %d rare entries", len(want))
	}
	seen := map[string]bool{}
	for range 50 {
		got := s.peers(3, filter{chainID: rare})
		if len(got) != 3 || len(addresses(got)) != 3 {
			t.Fatalf("got %+v", got)
		}
		for _, e := range got {
			if !want[e.Address] {
				t.Fatalf("non-matching entry %+v", e)
			}
			seen[e.Address] = true
		}
	}
	if len(seen) != 5 {
		t.Fatalf("only %d of 5 matching entries ever chosen", len(seen))
	}
	if got := s.peers(10, filter{chainID: rare}); len(got) != 5 {
		t.Fatalf("limit above matches: %d", len(got))
	}
}
