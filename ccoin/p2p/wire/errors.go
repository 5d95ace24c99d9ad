package wire

import "errors"

// Error kinds returned (wrapped) by this package; test with errors.Is.
var (
	// ErrFrameTooLarge: the declared frame length exceeds the limit.
	ErrFrameTooLarge = errors.New("wire: frame too large")
	// ErrMalformed: a short or truncated frame, a bad header, or a body that
	// is not a well-formed message.
	ErrMalformed = errors.New("wire: malformed message")
	// ErrUnknownMessage: a well-formed header that names no message.
	ErrUnknownMessage = errors.New("wire: unknown message")
	// ErrTooLarge: a field exceeds its per-message limit.
	ErrTooLarge = errors.New("wire: field too large")
)
