package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestPprofLoopbackOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, addr := range []string{"0.0.0.0:6060", "10.1.2.3:6060", ":6060", "example.com:6060", "6060"} {
		if _, err := servePprof(ctx, addr, hclog.NewNullLogger()); !errors.Is(err, errPprofAddr) {
			t.Errorf("--pprof %s: %v, want a loopback-only error", addr, err)
		}
	}
	got, err := servePprof(ctx, "127.0.0.1:0", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + got + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET /debug/pprof/: %d\n%s", resp.StatusCode, body)
	}
}
