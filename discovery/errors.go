package discovery

import (
	"errors"
	"fmt"
	"net/http"
)

// Error kinds. The server maps each to a stable code in its JSON error body,
// and the client maps the code back, so callers on both sides use errors.Is.
var (
	ErrBadJSON          = errors.New("malformed json")
	ErrBadRequest       = errors.New("bad request")
	ErrBadSignature     = errors.New("signature does not verify")
	ErrForbidden        = errors.New("public key does not match address")
	ErrHostMismatch     = errors.New("registered host is not the source address")
	ErrStale            = errors.New("timestamp stale, replayed or outside the clock window")
	ErrTooManyRequests  = errors.New("too many requests")
	ErrBodyTooLarge     = errors.New("request body too large")
	ErrFull             = errors.New("registry full")
	ErrNotFound         = errors.New("not found")
	ErrMethodNotAllowed = errors.New("method not allowed")
	// ErrRegistry is any other failure reported by the registry (a 5xx, an
	// unknown code); the node should carry on with the peers it knows.
	ErrRegistry = errors.New("registry error")
	// ErrCorruptState is returned by NewServer when the state file exists but
	// cannot be read; the operator should move it aside.
	ErrCorruptState = errors.New("corrupt discovery state file")
)

// errorKind ties a sentinel to its wire code and HTTP status.
type errorKind struct {
	err    error
	code   string
	status int
}

var errorKinds = []errorKind{
	{ErrBadJSON, "bad_json", http.StatusBadRequest},
	{ErrBadRequest, "bad_request", http.StatusBadRequest},
	{ErrBadSignature, "bad_signature", http.StatusForbidden},
	{ErrForbidden, "forbidden", http.StatusForbidden},
	{ErrHostMismatch, "host_mismatch", http.StatusForbidden},
	{ErrStale, "stale", http.StatusConflict},
	{ErrTooManyRequests, "too_many_requests", http.StatusTooManyRequests},
	{ErrBodyTooLarge, "body_too_large", http.StatusRequestEntityTooLarge},
	{ErrFull, "full", http.StatusConflict},
	{ErrNotFound, "not_found", http.StatusNotFound},
	{ErrMethodNotAllowed, "method_not_allowed", http.StatusMethodNotAllowed},
}

// kindOf finds the kind of err; unknown errors are reported as bad_request,
// because everything the handlers can fail on is caused by the request.
func kindOf(err error) errorKind {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k
		}
	}
	return errorKind{ErrBadRequest, "bad_request", http.StatusBadRequest}
}

// APIError is an error answer from the registry.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("discovery registry: %d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap returns the sentinel for the code, so errors.Is(err, ErrStale) works
// on the client side.
func (e *APIError) Unwrap() error {
	for _, k := range errorKinds {
		if k.code == e.Code {
			return k.err
		}
	}
	return ErrRegistry
}

// errorBody is the wire form of an error.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}
