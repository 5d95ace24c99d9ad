package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"ccoin"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Validator checks responses against openapi.yaml.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// NewValidator loads and validates the embedded openapi.yaml.
func NewValidator() (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(ccoin.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is invalid: %w", err)
	}
	// Match paths on any host: tests listen on random ports.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi router: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Doc is the loaded document.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Check validates one response to req. A request to a path the document
// does not describe must get a 404 or 405 Error body.
func (v *Validator) Check(req *http.Request, status int, header http.Header, body []byte) error {
	// 405 is answered by the router for any path, so it is not listed per
	// operation; its body must still be an Error.
	if status == http.StatusMethodNotAllowed {
		return v.checkError(body)
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		var re *routers.RouteError
		if !errors.As(err, &re) {
			return err
		}
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s %s: route not in openapi.yaml answered %d", req.Method, req.URL.Path, status)
		}
		return v.checkError(body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if isStream(header) {
		in.Options.ExcludeResponseBody = true
	} else {
		in.SetBodyBytes(body)
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return fmt.Errorf("%s %s -> %d: %w\nbody: %.600s", req.Method, req.URL.RequestURI(), status, err, body)
	}
	if status >= 400 && !isStream(header) {
		return v.checkListedCode(route.Operation, req, status, body)
	}
	return nil
}

// checkListedCode requires an error's code to be one the operation lists for
// its status in x-error-codes (or one any route may answer with).
func (v *Validator) checkListedCode(op *openapi3.Operation, req *http.Request, status int, body []byte) error {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return fmt.Errorf("error body: %w", err)
	}
	st := strconv.Itoa(status)
	for _, ext := range []any{op.Extensions["x-error-codes"], v.doc.Extensions["x-error-codes-any-route"]} {
		raw, _ := json.Marshal(ext)
		var m map[string][]string
		if json.Unmarshal(raw, &m) == nil && slices.Contains(m[st], e.Error.Code) {
			return nil
		}
	}
	return fmt.Errorf("%s %s -> %d %s: code not listed in the operation's x-error-codes", req.Method, req.URL.RequestURI(), status, e.Error.Code)
}

func (v *Validator) checkError(body []byte) error {
	ref := v.doc.Components.Schemas["Error"]
	if ref == nil {
		return errors.New("openapi.yaml has no Error schema")
	}
	var val any
	if err := jsonUnmarshal(body, &val); err != nil {
		return fmt.Errorf("error body is not JSON: %w: %.200s", err, body)
	}
	if err := ref.Value.VisitJSON(val); err != nil {
		return fmt.Errorf("error body does not match Error: %w: %.200s", err, body)
	}
	return nil
}

func isStream(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/event-stream"
}

// Transport wraps base (nil = http.DefaultTransport) so that every response
// is validated; failures go to report (typically t.Errorf). Event streams are
// checked by status and headers and passed through unread.
func (v *Validator) Transport(base http.RoundTripper, report func(error)) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &validatingTransport{v: v, base: base, report: report}
}

type validatingTransport struct {
	v      *Validator
	base   http.RoundTripper
	report func(error)
	mu     sync.Mutex
}

func (t *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if isStream(resp.Header) {
		t.check(req, resp.StatusCode, resp.Header, nil)
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.check(req, resp.StatusCode, resp.Header, body)
	return resp, nil
}

func (t *validatingTransport) check(req *http.Request, status int, h http.Header, body []byte) {
	if err := t.v.Check(req, status, h, body); err != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.report(err)
	}
}

// Handler wraps a handler so that every response it writes is validated,
// for tests that call the handler directly.
func (v *Validator) Handler(h http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: 0}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if err := v.Check(r, rec.status, w.Header(), rec.body.Bytes()); err != nil {
			report(err)
		}
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !isStream(r.Header()) {
		r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func jsonUnmarshal(p []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	return dec.Decode(v)
}
