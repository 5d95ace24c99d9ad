package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

// statusWriter records the status for logs and metrics. Unwrap lets
// http.ResponseController reach the connection (the event stream sets its
// own deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument logs every request at debug, observes its latency by route
// pattern, and turns a panic into a logged 500 (a bug: no client input may
// cause one).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				stack := debug.Stack()
				if pv, ok := p.(panicValue); ok {
					p, stack = pv.value, pv.stack
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(stack))
				if !sw.wrote {
					writeError(sw, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"})
				}
			}
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			status := sw.status
			if !sw.wrote {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.latency.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(status)).Observe(d.Seconds())
			if s.log.IsDebug() {
				s.log.Debug("http request", "method", r.Method, "path", r.URL.Path, "route", route,
					"status", status, "duration", d, "remote", r.RemoteAddr)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

type panicValue struct {
	value any
	stack []byte
}

// bufferedWriter holds a response until the handler finishes, so a timed-out
// request gets a clean 408 instead of half a body.
type bufferedWriter struct {
	mu       sync.Mutex
	h        http.Header
	buf      bytes.Buffer
	status   int
	timedOut bool
}

func (w *bufferedWriter) Header() http.Header { return w.h }

func (w *bufferedWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(p)
}

// timeout bounds a request. It runs after routing (as a route middleware),
// so the route context is complete before the handler goroutine starts.
func (s *Server) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		bw := &bufferedWriter{h: make(http.Header)}
		done := make(chan struct{})
		var pv any
		go func() {
			defer func() {
				if p := recover(); p != nil {
					pv = panicValue{value: p, stack: debug.Stack()}
					bw.mu.Lock()
					late := bw.timedOut
					bw.mu.Unlock()
					if late {
						s.log.Error("panic after request timeout", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					}
				}
				close(done)
			}()
			next.ServeHTTP(bw, r)
		}()
		select {
		case <-done:
			if pv != nil {
				panic(pv)
			}
			bw.mu.Lock()
			defer bw.mu.Unlock()
			dst := w.Header()
			for k, v := range bw.h {
				dst[k] = v
			}
			if bw.status == 0 {
				bw.status = http.StatusOK
			}
			w.WriteHeader(bw.status)
			_, _ = w.Write(bw.buf.Bytes())
		case <-ctx.Done():
			bw.mu.Lock()
			bw.timedOut = true
			bw.mu.Unlock()
			// The handler sees its context end; a body read blocked on the
			// network wakes up too, so a client that stalls mid-body cannot
			// keep the handler (and its submission slot) past the deadline.
			// The connection is then closed after the 408, as its deadline
			// would end the next request on it at once.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now())
			w.Header().Set("Connection", "close")
			writeError(w, errorf(http.StatusRequestTimeout, CodeTimeout, "request took longer than %s", s.cfg.RequestTimeout))
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own types are marshalled; this is a bug.
		panic(fmt.Sprintf("api: marshal %T: %v", v, err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, ErrorResponse{Error: ErrorBody{Code: e.Code, Message: e.Message}})
}

// readBody reads at most limit bytes of body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body exceeds %d bytes", limit)
		}
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "reading body: %v", err)
	}
	return body, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields and wrong types.
func decodeStrict(body []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, CodeBadJSON, "%s", jsonErrorMessage(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, CodeBadJSON, "body must hold exactly one JSON value")
	}
	return nil
}

func jsonErrorMessage(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s: want %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated JSON"
	default:
		return truncate(err.Error(), 200)
	}
}

// methodLabel keeps the metric's label set bounded: a client can send any
// method name.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
