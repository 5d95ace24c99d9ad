package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"ccoin/api"
	"ccoin/api/apitest"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	validatorOnce sync.Once
	validator     *apitest.Validator
	validatorErr  error
)

func getValidator(t testing.TB) *apitest.Validator {
	t.Helper()
	validatorOnce.Do(func() { validator, validatorErr = apitest.NewValidator() })
	if validatorErr != nil {
		t.Fatal(validatorErr)
	}
	return validator
}

const testToken = "0123456789abcdef0123456789abcdef"

type env struct {
	t     testing.TB
	f     *apitest.Fake
	srv   *api.Server
	ts    *httptest.Server
	hc    *http.Client
	node  string
	token string
}

type envOpt func(*api.Config)

// newEnv serves a fresh fake backend; every response the client sees is
// validated against openapi.yaml.
func newEnv(t testing.TB, opts ...envOpt) *env {
	t.Helper()
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWith(t, f, f.Deps(), opts...)
}

func newEnvWith(t testing.TB, f *apitest.Fake, d api.Deps, opts ...envOpt) *env {
	t.Helper()
	cfg := api.Config{
		NodeAddress: f.Keys.Node.Address(),
		Token:       testToken,
		Registerer:  prometheus.NewRegistry(),
		Logger:      hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Debug}),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := api.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	v := getValidator(t)
	hc := &http.Client{Transport: v.Transport(nil, func(err error) { t.Errorf("openapi: %v", err) })}
	return &env{t: t, f: f, srv: srv, ts: ts, hc: hc, node: f.Keys.Node.Address().String(), token: testToken}
}

func (e *env) url(path string) string { return e.ts.URL + path }

func (e *env) do(method, path string, body []byte, hdr map[string]string) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url(path), r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	p, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	unavailable := resp.StatusCode == http.StatusServiceUnavailable &&
		(path == "/readyz" || path == "/txs" || bytes.Contains(p, []byte(`"code":"proof_unavailable"`)))
	if resp.StatusCode >= 500 && !unavailable {
		e.t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, p)
	}
	return resp.StatusCode, p
}

func (e *env) get(path string) (int, []byte) { return e.do(http.MethodGet, path, nil, nil) }

func decode[T any](t testing.TB, p []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T: %v: %.300s", v, err, p)
	}
	return v
}

func errCode(t testing.TB, p []byte) string {
	t.Helper()
	var e api.ErrorResponse
	if err := json.Unmarshal(p, &e); err != nil {
		t.Fatalf("not an error body: %.200s", p)
	}
	return e.Error.Code
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	p, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
