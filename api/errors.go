package api

import (
	"errors"
	"fmt"
	"net/http"

	"ccoin/ccoin/rulekind"
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
	CodeUnsupportedMedia  = "unsupported_media_type" // 415: POST /txs wants Content-Type: application/json or application/x-msgpack
	CodeBusy              = "busy"                   // 503 + Retry-After: too many submissions in progress
	CodeOverloaded        = "overloaded"             // 503 + Retry-After: more transactions wait than the next blocks can include
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

// kindErrors answers each rule kind (package rulekind names them, one
// table for the API and the node's metrics) with a status and a code. A kind
// not listed is not the client's doing, so it is an internal error.
var kindErrors = map[string]struct {
	status int
	code   string
}{
	rulekind.Known:             {http.StatusConflict, CodeKnown},
	rulekind.WrongChain:        {http.StatusBadRequest, CodeWrongChain},
	rulekind.BadSignature:      {http.StatusBadRequest, CodeBadSignature},
	rulekind.NonceTooLow:       {http.StatusBadRequest, CodeNonceTooLow},
	rulekind.NonceGap:          {http.StatusBadRequest, CodeNonceGap},
	rulekind.NonceTaken:        {http.StatusConflict, CodeNonceTaken},
	rulekind.InsufficientFunds: {http.StatusBadRequest, CodeInsufficientFunds},
	rulekind.PoolFull:          {http.StatusTooManyRequests, CodePoolFull},
	rulekind.QueueFull:         {http.StatusTooManyRequests, CodePoolFull}, // the future-nonce queue is part of the pool
	rulekind.AccountFull:       {http.StatusTooManyRequests, CodeAccountFull},
	rulekind.Overloaded:        {http.StatusServiceUnavailable, CodeOverloaded},
	rulekind.DataTooLarge:      {http.StatusBadRequest, CodeDataTooLarge},
	rulekind.BadAddress:        {http.StatusBadRequest, CodeBadAddress},
	rulekind.Malformed:         {http.StatusBadRequest, CodeBadRequest},
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
	if errors.Is(err, ErrProofUnavailable) {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeProofUnavailable, Message: err.Error()}
	}
	if k, ok := kindErrors[rulekind.Of(err)]; ok {
		return &Error{Status: k.status, Code: k.code, Message: err.Error()}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
}
