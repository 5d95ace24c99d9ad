package api

import (
	"errors"
	"fmt"
	"net/http"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// Stable error codes. Clients match on these, so they never change meaning.
const (
	CodeBadJSON           = "bad_json"
	CodeBadRequest        = "bad_request"
	CodeBadHex            = "bad_hex"
	CodeBadAddress        = "bad_address"
	CodeBadSignature      = "bad_signature"
	CodeWrongChain        = "wrong_chain"
	CodeNonceTooLow       = "nonce_too_low"
	CodeNonceGap          = "nonce_gap"
	CodeNonceTaken        = "nonce_taken"
	CodeInsufficientFunds = "insufficient_funds"
	CodePoolFull          = "pool_full"
	CodeAccountFull       = "account_full"
	CodeDataTooLarge      = "data_too_large"
	CodeKnown             = "known"
	CodeUnknownBlock      = "unknown_block"
	CodeUnknownTx         = "unknown_tx"
	CodeUnknownNode       = "unknown_node"
	CodeNotFound          = "not_found"
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeBodyTooLarge      = "body_too_large"
	CodeUnauthorized      = "unauthorized"
	CodeTimeout           = "timeout"
	CodeUnsupportedMedia  = "unsupported_media_type" // 415: POST /txs wants Content-Type: application/json
	CodeBusy              = "busy"                   // 503 + Retry-After: too many submissions in progress
	CodeRateLimited       = "rate_limited"           // 429 + Retry-After: this client's signature-check budget is spent
	CodeTooManyStreams    = "too_many_streams"       // 429 + Retry-After: this client has too many /events streams open
	CodeSkipped           = "skipped"                // a batch item after the first bad signature, not checked
	CodeNotReady          = "not_ready"              // readyz only, with 503
	CodeInternal          = "internal"               // a bug or a backend failure, never client input
)

// Error is an API error: the HTTP status, a stable code and a message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorKinds maps the backend's error kinds to codes, first match wins. It is
// the only place that knows the pool's and the codec's errors.
var errorKinds = []struct {
	kind   error
	status int
	code   string
}{
	{txpool.ErrKnown, http.StatusConflict, CodeKnown},
	{txpool.ErrWrongChain, http.StatusBadRequest, CodeWrongChain},
	{txpool.ErrBadSignature, http.StatusBadRequest, CodeBadSignature},
	{txpool.ErrNonceTooLow, http.StatusBadRequest, CodeNonceTooLow},
	{txpool.ErrNonceGap, http.StatusBadRequest, CodeNonceGap},
	{txpool.ErrNonceTaken, http.StatusConflict, CodeNonceTaken},
	{txpool.ErrInsufficientFunds, http.StatusBadRequest, CodeInsufficientFunds},
	{txpool.ErrPoolFull, http.StatusTooManyRequests, CodePoolFull},
	{txpool.ErrQueueFull, http.StatusTooManyRequests, CodePoolFull}, // the future-nonce queue is part of the pool
	{txpool.ErrAccountFull, http.StatusTooManyRequests, CodeAccountFull},
	{txpool.ErrDataTooLarge, http.StatusBadRequest, CodeDataTooLarge},
	{types.ErrUnsigned, http.StatusBadRequest, CodeBadSignature},
	{types.ErrFromMismatch, http.StatusBadRequest, CodeBadSignature},
	{crypto.ErrBadSignature, http.StatusBadRequest, CodeBadSignature},
	{crypto.ErrBadKey, http.StatusBadRequest, CodeBadSignature},
	{crypto.ErrWeakKey, http.StatusBadRequest, CodeBadSignature},
	{crypto.ErrBadAddress, http.StatusBadRequest, CodeBadAddress},
	{types.ErrEncoding, http.StatusBadRequest, CodeBadRequest},
}

// toError turns any error into an *Error. notFound is the code ErrNotFound
// gets on this route (unknown_block, unknown_tx, ...); an error of no known
// kind is the backend's fault, so it is an internal error.
func toError(err error, notFound string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: notFound, Message: err.Error()}
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.kind) {
			return &Error{Status: k.status, Code: k.code, Message: err.Error()}
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
}
