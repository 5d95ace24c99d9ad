package discovery

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// startServer runs a real registry on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T, cfg ServerConfig) (*Server, string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s := newTestServer(t, cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return s, "http://" + s.Addr()
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "discovery", Level: hclog.Debug, Output: hclogWriter{t}})
}

type hclogWriter struct{ t *testing.T }

func (w hclogWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func TestClientRegisterPeersRemove(t *testing.T) {
	keys := testKeys(t, 3)
	_, url := startServer(t, ServerConfig{Logger: testLogger(t)})
	ctx := context.Background()
	me := &Client{BaseURL: url, Key: keys[0]}
	other := &Client{BaseURL: url + "/", Key: keys[1], HTTP: &http.Client{Timeout: 5 * time.Second}}
	reader := &Client{BaseURL: url} // no key: may only read

	e0, e1 := baseEntry(0), baseEntry(1)
	e1.NodeType = NodeValidator
	if err := me.Register(ctx, e0); err != nil {
		t.Fatal(err)
	}
	// Two registrations in a row get increasing timestamps, not a replay.
	if err := me.Register(ctx, e0); err != nil {
		t.Fatal(err)
	}
	if err := other.Register(ctx, e1); err != nil {
		t.Fatal(err)
	}

	got, err := reader.Peers(ctx, 10, 1, testChain)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("peers = %+v", got)
	}
	// A client never gets itself back.
	got, err = me.Peers(ctx, 10, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Address != keys[1].Address().String() || got[0].NodeType != NodeValidator ||
		got[0].HostPort() != "10.0.0.2:7001" {
		t.Fatalf("peers seen by me = %+v", got)
	}
	if got, err := reader.Peers(ctx, 10, 2, ""); err != nil || len(got) != 0 {
		t.Fatalf("other network: %+v %v", got, err)
	}

	if err := me.Remove(ctx, e0); err != nil {
		t.Fatal(err)
	}
	got, err = reader.Peers(ctx, 10, 0, "")
	if err != nil || len(got) != 1 {
		t.Fatalf("after remove: %+v %v", got, err)
	}

	// Registry errors come back as typed errors.
	err = me.Remove(ctx, e0)
	var apiErr *APIError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("second remove: %v", err)
	}
	bad := e0
	bad.Host = "0.0.0.0"
	if err := me.Register(ctx, bad); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("bad host: %v", err)
	}
	if err := reader.Register(ctx, e0); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("register without key: %v", err)
	}
	down := &Client{BaseURL: "http://127.0.0.1:1", Key: keys[2]}
	if _, err := down.Peers(ctx, 3, 0, ""); !errors.Is(err, ErrRegistry) {
		t.Fatalf("registry down: %v", err)
	}
}

func TestClientRejectsImplausibleAnswers(t *testing.T) {
	const addr = "00112233445566778899aabbccddeeff00112233"
	good := Entry{Address: addr, Host: "1.2.3.4", Port: 1, NetworkID: 1, NodeType: NodeBasic}
	mod := func(f func(e *Entry)) Entry { e := good; f(&e); return e }
	tests := []struct {
		name string
		e    Entry
		ok   bool
	}{
		{"good", good, true},
		{"bad address", mod(func(e *Entry) { e.Address = "zz" }), false},
		{"uppercase address", mod(func(e *Entry) { e.Address = "00112233445566778899AABBCCDDEEFF00112233" }), false},
		{"bad port", mod(func(e *Entry) { e.Port = 0 }), false},
		{"bad host", mod(func(e *Entry) { e.Host = "a b" }), false},
		{"bad type", mod(func(e *Entry) { e.NodeType = "x" }), false},
		{"wrong network", mod(func(e *Entry) { e.NetworkID = 9 }), false},
	}
	for _, tc := range tests {
		if got := plausible(tc.e, 1, ""); got != tc.ok {
			t.Errorf("%s: plausible = %v", tc.name, got)
		}
	}
}

func TestRunRegistrar(t *testing.T) {
	keys := testKeys(t, 2)
	_, url := startServer(t, ServerConfig{})
	me := &Client{BaseURL: url, Key: keys[0], Logger: testLogger(t)}
	reader := &Client{BaseURL: url, Key: keys[1]}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		me.RunRegistrar(ctx, baseEntry(0), 20*time.Millisecond)
		close(done)
	}()

	// Wait for the first registration and then for at least one refresh.
	var firstTS int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := reader.Peers(context.Background(), 10, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 {
			if firstTS == 0 {
				firstTS = got[0].Timestamp
			} else if got[0].Timestamp > firstTS {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("registrar did not register and refresh; peers %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("registrar did not stop")
	}
	got, err := reader.Peers(context.Background(), 10, 0, "")
	if err != nil || len(got) != 0 {
		t.Fatalf("entry not removed on shutdown: %+v %v", got, err)
	}
}

func TestRunRegistrarSurvivesRegistryDown(t *testing.T) {
	keys := testKeys(t, 1)
	c := &Client{BaseURL: "http://127.0.0.1:1", Key: keys[0], Logger: testLogger(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c.RunRegistrar(ctx, baseEntry(0), 10*time.Millisecond) // must return, not panic or hang
}

func TestRunSavesStateOnShutdown(t *testing.T) {
	keys := testKeys(t, 1)
	path := t.TempDir() + "/state.json"
	cfg := ServerConfig{Addr: "127.0.0.1:0", StatePath: path, RateLimit: -1}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	c := &Client{BaseURL: "http://" + s.Addr(), Key: keys[0]}
	e := baseEntry(0)
	e.Host = "127.0.0.1" // the registry checks the host is the source address
	if err := c.Register(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s2, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := call(t, s2.Handler(), http.MethodGet, "/peers", nil, "").peers(t)
	if len(got) != 1 || got[0].Address != keys[0].Address().String() {
		t.Fatalf("after restart: %+v", got)
	}
}
