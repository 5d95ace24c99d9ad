package jsonpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Annotate prefixes err with "line L, column C" of the byte offset the
// decoder reported: a syntax or type error's own offset, else fallback (the
// decoder's InputOffset, which is near the fault); a negative fallback
// leaves other errors as they are. The result wraps err.
func Annotate(data []byte, err error, fallback int64) error {
	if err == nil {
		return nil
	}
	off := fallback
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
	}
	if off < 0 {
		return err
	}
	line, col := Position(data, off)
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// Position turns a byte offset into a 1-based line and column (in bytes).
// The decoder's offsets point just past the offending byte, so the column
// is that byte's.
func Position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
