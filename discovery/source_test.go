package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// fakeDNS answers the host check's lookups.
func fakeDNS(names map[string][]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range names[host] {
			out = append(out, netip.MustParseAddr(a))
		}
		if len(out) == 0 {
			return nil, errors.New("no such host")
		}
		return out, nil
	}
}

// TestHostMustBeSource: a registration's host must be the address it came
// from (issue 16.7: whatever host:port the registrant signed was served, so
// anyone could point the network's nodes at a third party). Loopback devnets
// (127.0.0.1 from 127.0.0.1) and Docker testnets (container names resolving
// to the container's address) keep working.
func TestHostMustBeSource(t *testing.T) {
	keys := testKeys(t, 1)
	dns := fakeDNS(map[string][]string{
		"node1":     {"172.18.0.3"},
		"localhost": {"127.0.0.1", "::1"},
		"victim":    {"192.0.2.99"},
	})
	cases := []struct {
		name, host, remote, xff string
		trustProxy, anyHost     bool
		status                  int
		code                    string
	}{
		{name: "ip literal is source", host: "198.51.100.7", remote: "198.51.100.7:5000", status: 200},
		{name: "ip literal is another host", host: "192.0.2.99", remote: "198.51.100.7:5000", status: 403, code: "host_mismatch"},
		{name: "mapped ipv6 source", host: "198.51.100.7", remote: "[::ffff:198.51.100.7]:5000", status: 200},
		{name: "ipv6 source", host: "2001:db8::7", remote: "[2001:db8::7]:5000", status: 200},
		{name: "ipv6 other", host: "2001:db8::8", remote: "[2001:db8::7]:5000", status: 403, code: "host_mismatch"},
		{name: "loopback devnet", host: "127.0.0.1", remote: "127.0.0.1:40000", status: 200},
		{name: "loopback v4 host from v6 loopback", host: "127.0.0.1", remote: "[::1]:40000", status: 200},
		{name: "localhost name", host: "localhost", remote: "127.0.0.1:40000", status: 200},
		{name: "loopback host from afar", host: "127.0.0.1", remote: "198.51.100.7:5000", status: 403, code: "host_mismatch"},
		{name: "docker name resolves to source", host: "node1", remote: "172.18.0.3:5000", status: 200},
		{name: "docker name of another container", host: "node1", remote: "172.18.0.4:5000", status: 403, code: "host_mismatch"},
		{name: "name of a third party", host: "victim", remote: "198.51.100.7:5000", status: 403, code: "host_mismatch"},
		{name: "unresolvable name", host: "nowhere.invalid", remote: "198.51.100.7:5000", status: 403, code: "host_mismatch"},
		{name: "forwarded-for ignored without trust", host: "198.51.100.7", remote: "203.0.113.1:5000", xff: "198.51.100.7", status: 403, code: "host_mismatch"},
		{name: "trusted proxy: last forwarded-for", host: "198.51.100.7", remote: "10.1.1.1:5000", xff: "192.0.2.99, 198.51.100.7", trustProxy: true, status: 200},
		{name: "trusted proxy: spoofed first entry", host: "192.0.2.99", remote: "10.1.1.1:5000", xff: "192.0.2.99, 198.51.100.7", trustProxy: true, status: 403, code: "host_mismatch"},
		{name: "trusted proxy without header", host: "10.1.1.1", remote: "10.1.1.1:5000", trustProxy: true, status: 200},
		{name: "any host allowed", host: "192.0.2.99", remote: "198.51.100.7:5000", anyHost: true, status: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newFakeClock()
			s := newStrictServer(t, ServerConfig{LookupHost: dns, TrustProxy: c.trustProxy, AnyHost: c.anyHost}, clk)
			e := baseEntry(0)
			e.Host = c.host
			e = signedAt(t, keys[0], OpAdd, e, clk.Now())
			body, _ := json.Marshal(e)
			req := httptest.NewRequest(http.MethodPut, "/peers/"+e.Address, bytes.NewReader(body))
			req.RemoteAddr = c.remote
			if c.xff != "" {
				req.Header.Set("X-Forwarded-For", c.xff)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			var eb errorBody
			_ = json.Unmarshal(rec.Body.Bytes(), &eb)
			if rec.Code != c.status || eb.Error.Code != c.code {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body.Bytes(), c.status, c.code)
			}
			n := len(call(t, s.Handler(), http.MethodGet, "/peers", nil, "").peers(t))
			if want := map[bool]int{true: 1, false: 0}[c.status == 200]; n != want {
				t.Fatalf("%d entries listed, want %d", n, want)
			}
		})
	}
}

// TestFullPerIP: one address registers at most MaxPerIP entries (issue 16.7:
// 45 fresh keys from one IP took 45 of the 48 answers of GET /peers); its
// neighbours in the same /24 and refreshes of its own entries are not
// affected, and a refresh from a full address is refused.
func TestFullPerIP(t *testing.T) {
	n := DefaultMaxPerIP + 2
	keys := testKeys(t, n+1)
	clk := newFakeClock()
	s := newStrictServer(t, ServerConfig{}, clk) // default cap, host checked
	h := s.Handler()
	reg := func(i int, ip string) answer {
		e := baseEntry(i)
		e.Host = ip
		e = signedAt(t, keys[i], OpAdd, e, clk.Now())
		return call(t, h, http.MethodPut, "/peers/"+e.Address, e, ip+":4000")
	}
	accepted := 0
	for i := range n {
		if a := reg(i, "198.51.100.7"); a.status == http.StatusOK {
			accepted++
		} else if a.code != "full" {
			t.Fatalf("key %d: %d %s", i, a.status, a.body)
		}
	}
	if accepted != DefaultMaxPerIP {
		t.Fatalf("%d entries accepted from one address, want %d", accepted, DefaultMaxPerIP)
	}
	if a := reg(n, "198.51.100.8"); a.status != http.StatusOK {
		t.Fatalf("neighbour in the same /24: %d %s", a.status, a.body)
	}
	clk.Advance(time.Second)
	if a := reg(0, "198.51.100.7"); a.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", a.status, a.body)
	}
	// The neighbour moving its entry to the full address is refused.
	if a := reg(n, "198.51.100.7"); a.code != "full" {
		t.Fatalf("moving to a full address: %d %s", a.status, a.body)
	}
	if got := len(call(t, h, http.MethodGet, "/peers?limit=100", nil, "").peers(t)); got != DefaultMaxPerIP+1 {
		t.Fatalf("%d entries listed, want %d", got, DefaultMaxPerIP+1)
	}
}

// TestPerIPCountSurvivesRestart: the per-address count is saved with the
// table, so a restart does not reopen the cap.
func TestPerIPCountSurvivesRestart(t *testing.T) {
	keys := testKeys(t, 3)
	clk := newFakeClock()
	cfg := ServerConfig{StatePath: t.TempDir() + "/state.json", MaxPerIP: 2}
	s := newStrictServer(t, cfg, clk)
	reg := func(s *Server, i int) answer {
		e := baseEntry(i)
		e.Host = "198.51.100.7"
		e = signedAt(t, keys[i], OpAdd, e, clk.Now())
		return call(t, s.Handler(), http.MethodPut, "/peers/"+e.Address, e, "198.51.100.7:4000")
	}
	for i := range 2 {
		if a := reg(s, i); a.status != http.StatusOK {
			t.Fatalf("key %d: %d %s", i, a.status, a.body)
		}
	}
	if err := s.save(true); err != nil {
		t.Fatal(err)
	}
	s2 := newStrictServer(t, cfg, clk)
	if a := reg(s2, 2); a.code != "full" {
		t.Fatalf("third key after restart: %d %s", a.status, a.body)
	}
}
