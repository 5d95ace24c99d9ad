package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

const (
	// DefaultMaxFrame bounds a frame (header plus body) unless configured:
	// a block of up to 16 MiB - 64 KiB fits one sync answer (ABL).
	DefaultMaxFrame = 16 << 20
	// DefaultUnaskedFrame bounds, unless configured, a frame a
	// non-validator sends unasked: anyone can be one, so it must not make
	// the node allocate as much as a validator's sync answer.
	DefaultUnaskedFrame = 4 << 20
	// HeaderLen is the length of a message header.
	HeaderLen = 3
	// lenPrefix is the size of the length that starts every frame.
	lenPrefix = 4
	// FrameOverhead is what a frame adds to its body.
	FrameOverhead = lenPrefix + HeaderLen
)

// ValidHeader reports whether h is three uppercase ASCII letters.
func ValidHeader(h string) bool {
	if len(h) != HeaderLen {
		return false
	}
	for i := 0; i < HeaderLen; i++ {
		if h[i] < 'A' || h[i] > 'Z' {
			return false
		}
	}
	return true
}

// WriteFrame writes one frame. It does not flush; pass a buffered writer and
// flush per batch.
func WriteFrame(w io.Writer, header string, body []byte) error {
	if !ValidHeader(header) {
		return fmt.Errorf("%w: bad header %q", ErrMalformed, header)
	}
	if uint64(len(body))+HeaderLen > math.MaxUint32 {
		return fmt.Errorf("%w: body of %d bytes", ErrFrameTooLarge, len(body))
	}
	var pre [FrameOverhead]byte
	binary.LittleEndian.PutUint32(pre[:lenPrefix], uint32(len(body)+HeaderLen))
	copy(pre[lenPrefix:], header)
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	_, err := w.Write(body)
	return err
}

// ReadFrame reads one frame of at most maxFrame bytes (header plus body;
// maxFrame <= 0 means DefaultMaxFrame). The declared length is checked before
// anything is allocated. A connection closed cleanly between frames yields
// io.EOF; one closed inside a frame yields ErrMalformed.
func ReadFrame(r io.Reader, maxFrame int) (header string, body []byte, err error) {
	return ReadFrameBy(r, maxFrame, nil)
}

// IsAnswer reports whether header names an answer to a request.
func IsAnswer(header string) bool {
	_, ok := New(header).(Answer)
	return ok
}

// ReadFrameBy is ReadFrame with a tighter limit for some headers: limit,
// when not nil, gives the most bytes a frame with that header may have
// (at most maxFrame). The header is read before the body is allocated.
func ReadFrameBy(r io.Reader, maxFrame int, limit func(header string) int) (header string, body []byte, err error) {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	var pre [FrameOverhead]byte
	if _, err := io.ReadFull(r, pre[:lenPrefix]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return "", nil, fmt.Errorf("%w: truncated length: %v", ErrMalformed, err)
		}
		return "", nil, err
	}
	n := binary.LittleEndian.Uint32(pre[:lenPrefix])
	if n < HeaderLen {
		return "", nil, fmt.Errorf("%w: frame length %d shorter than a header", ErrMalformed, n)
	}
	if uint64(n) > uint64(maxFrame) {
		return "", nil, fmt.Errorf("%w: %d bytes > %d", ErrFrameTooLarge, n, maxFrame)
	}
	if _, err := io.ReadFull(r, pre[lenPrefix:]); err != nil {
		return "", nil, truncated(err)
	}
	header = string(pre[lenPrefix:])
	if !ValidHeader(header) {
		return "", nil, fmt.Errorf("%w: bad header %q", ErrMalformed, header)
	}
	if limit != nil {
		if l := limit(header); uint64(n) > uint64(l) {
			return "", nil, fmt.Errorf("%w: %s of %d bytes > %d", ErrFrameTooLarge, header, n, l)
		}
	}
	body = make([]byte, n-HeaderLen)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", nil, truncated(err)
	}
	return header, body, nil
}

// truncated maps an EOF inside a frame to ErrMalformed, keeping other I/O
// errors (timeouts, resets) as they are so callers can tell them apart.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated frame: %v", ErrMalformed, err)
	}
	return err
}
