package types

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrEncoding is the kind of every decoding failure.
var ErrEncoding = errors.New("bad encoding")

func appendArray(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= 0xffff:
		return append(b, 0xdc, byte(n>>8), byte(n))
	default:
		return append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(b, byte(v))
	case v <= 0xff:
		return append(b, 0xcc, byte(v))
	case v <= 0xffff:
		return append(b, 0xcd, byte(v>>8), byte(v))
	case v <= 0xffffffff:
		return append(b, 0xce, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		b = append(b, 0xcf)
		return binary.BigEndian.AppendUint64(b, v)
	}
}

func appendBin(b []byte, p []byte) []byte {
	n := len(p)
	switch {
	case n <= 0xff:
		b = append(b, 0xc4, byte(n))
	case n <= 0xffff:
		b = append(b, 0xc5, byte(n>>8), byte(n))
	default:
		b = append(b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}

// reader decodes the canonical subset strictly. The first error sticks, so
// callers can read a whole structure and check once.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format+" at byte %d", append([]any{ErrEncoding}, append(args, r.off)...)...)
	}
}

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail("truncated (need %d bytes)", n)
		return false
	}
	return true
}

func (r *reader) byte1() byte {
	if !r.need(1) {
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) be(n int) uint64 {
	if !r.need(n) {
		return 0
	}
	var v uint64
	for _, c := range r.b[r.off : r.off+n] {
		v = v<<8 | uint64(c)
	}
	r.off += n
	return v
}

// array reads an array header and requires exactly want elements.
func (r *reader) array(want int) {
	n := r.arrayLen(want)
	if r.err == nil && n != want {
		r.fail("array of %d elements, want %d", n, want)
	}
}

// arrayLen reads an array header of at most max elements in shortest form.
func (r *reader) arrayLen(max int) int {
	c := r.byte1()
	var n uint64
	switch {
	case r.err != nil:
		return 0
	case c&0xf0 == 0x90:
		n = uint64(c & 0x0f)
	case c == 0xdc:
		if n = r.be(2); n < 16 {
			r.fail("non-canonical array length")
		}
	case c == 0xdd:
		if n = r.be(4); n <= 0xffff {
			r.fail("non-canonical array length")
		}
	default:
		r.fail("want array, got 0x%02x", c)
	}
	if r.err == nil && n > uint64(max) {
		r.fail("array of %d elements exceeds %d", n, max)
	}
	// Each element takes at least one byte, so a longer claim is a lie.
	if r.err == nil && n > uint64(len(r.b)-r.off) {
		r.fail("array length %d exceeds remaining bytes", n)
	}
	return int(n)
}

func (r *reader) uint() uint64 {
	c := r.byte1()
	if r.err != nil {
		return 0
	}
	var v, min uint64
	switch c {
	case 0xcc:
		v, min = r.be(1), 0x80
	case 0xcd:
		v, min = r.be(2), 0x100
	case 0xce:
		v, min = r.be(4), 0x10000
	case 0xcf:
		v, min = r.be(8), 0x100000000
	default:
		if c < 0x80 {
			return uint64(c)
		}
		r.fail("want unsigned integer, got 0x%02x", c)
		return 0
	}
	if r.err == nil && v < min {
		r.fail("non-canonical integer")
	}
	return v
}

// bin reads a byte string of at most max bytes. The result aliases the input.
func (r *reader) bin(max int) []byte {
	c := r.byte1()
	var n uint64
	switch {
	case r.err != nil:
		return nil
	case c == 0xc4:
		n = r.be(1)
	case c == 0xc5:
		if n = r.be(2); n <= 0xff {
			r.fail("non-canonical bin length")
		}
	case c == 0xc6:
		if n = r.be(4); n <= 0xffff {
			r.fail("non-canonical bin length")
		}
	default:
		r.fail("want bin, got 0x%02x", c)
	}
	if r.err != nil {
		return nil
	}
	if n > uint64(max) {
		r.fail("field of %d bytes exceeds %d", n, max)
		return nil
	}
	if !r.need(int(n)) {
		return nil
	}
	p := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return p
}

// fixed reads a byte string that is either exactly size bytes or, when
// allowEmpty, empty.
func (r *reader) fixed(dst []byte, allowEmpty bool) bool {
	p := r.bin(len(dst))
	if r.err != nil {
		return false
	}
	if len(p) == 0 && allowEmpty {
		return false
	}
	if len(p) != len(dst) {
		r.fail("field of %d bytes, want %d", len(p), len(dst))
		return false
	}
	copy(dst, p)
	return true
}

func (r *reader) end() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	return r.err
}
