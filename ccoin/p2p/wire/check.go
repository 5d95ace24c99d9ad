package wire

import (
	"encoding/binary"
	"fmt"
)

const (
	// MaxDepth bounds container nesting in a body; ccoin's messages need 2.
	MaxDepth = 8
	// MaxElements bounds the number of msgpack values in one body.
	MaxElements = 1 << 20
)

// checkStructure walks exactly one msgpack value that must span all of b,
// without recursion and without allocating. Every declared str/bin/ext length
// must fit in the bytes that remain, and every declared container count must
// be coverable by them (each value takes at least one byte), so the msgpack
// decoder run afterwards can never be told to allocate more than b holds.
// It returns the element count of the top-level value if it is an array, or
// -1 if it is not.
func checkStructure(b []byte) (topArray int, err error) {
	var rem [MaxDepth + 1]uint64 // values still expected at each level; level 0 is the root
	d := 0
	rem[0] = 1
	pos := 0
	elements := 0
	topArray = -1

	// need returns the next n bytes as a big-endian length.
	readLen := func(n int) (uint64, error) {
		if len(b)-pos < n {
			return 0, fmt.Errorf("%w: truncated length at %d", ErrMalformed, pos)
		}
		var v uint64
		switch n {
		case 1:
			v = uint64(b[pos])
		case 2:
			v = uint64(binary.BigEndian.Uint16(b[pos:]))
		case 4:
			v = uint64(binary.BigEndian.Uint32(b[pos:]))
		}
		pos += n
		return v, nil
	}
	skip := func(n uint64) error {
		if uint64(len(b)-pos) < n {
			return fmt.Errorf("%w: declared %d bytes at %d, %d present", ErrMalformed, n, pos, len(b)-pos)
		}
		pos += int(n)
		return nil
	}
	open := func(n uint64) error {
		if d+1 > MaxDepth {
			return fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, MaxDepth)
		}
		if n > uint64(len(b)-pos) {
			return fmt.Errorf("%w: container of %d values at %d, %d bytes present", ErrMalformed, n, pos, len(b)-pos)
		}
		if n > 0 {
			d++
			rem[d] = n
		}
		return nil
	}

	for {
		for rem[d] == 0 {
			if d == 0 {
				if pos != len(b) {
					return 0, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-pos)
				}
				return topArray, nil
			}
			d--
		}
		rem[d]--
		elements++
		if elements > MaxElements {
			return 0, fmt.Errorf("%w: more than %d values", ErrMalformed, MaxElements)
		}
		if pos >= len(b) {
			return 0, fmt.Errorf("%w: truncated body", ErrMalformed)
		}
		c := b[pos]
		pos++
		var err error
		switch {
		case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
			// fixints, nil, booleans: no payload
		case c <= 0x8f: // fixmap
			err = open(2 * uint64(c&0x0f))
		case c <= 0x9f: // fixarray
			if d == 0 {
				topArray = int(c & 0x0f)
			}
			err = open(uint64(c & 0x0f))
		case c <= 0xbf: // fixstr
			err = skip(uint64(c & 0x1f))
		default:
			err = checkCode(c, d == 0, &topArray, readLen, skip, open)
		}
		if err != nil {
			return 0, err
		}
	}
}

// checkCode handles the msgpack codes 0xc1..0xdf.
func checkCode(c byte, top bool, topArray *int, readLen func(int) (uint64, error), skip func(uint64) error, open func(uint64) error) error {
	switch c {
	case 0xcc, 0xd0: // uint8, int8
		return skip(1)
	case 0xcd, 0xd1: // uint16, int16
		return skip(2)
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return skip(4)
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return skip(8)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1..16: a type byte, then the data
		return skip(1 + (uint64(1) << (c - 0xd4)))
	}
	var size int
	switch c {
	case 0xc4, 0xd9, 0xc7: // bin8, str8, ext8
		size = 1
	case 0xc5, 0xda, 0xc8, 0xdc, 0xde: // bin16, str16, ext16, array16, map16
		size = 2
	case 0xc6, 0xdb, 0xc9, 0xdd, 0xdf: // bin32, str32, ext32, array32, map32
		size = 4
	default:
		return fmt.Errorf("%w: invalid msgpack code 0x%02x", ErrMalformed, c)
	}
	n, err := readLen(size)
	if err != nil {
		return err
	}
	switch c {
	case 0xc7, 0xc8, 0xc9:
		return skip(n + 1) // the ext type byte, then the data
	case 0xdc, 0xdd:
		if top {
			*topArray = int(n)
		}
		return open(n)
	case 0xde, 0xdf:
		return open(2 * n)
	default:
		return skip(n)
	}
}
