package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

func frameBytes(length uint32, rest []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, length)
	return append(b, rest...)
}

func TestReadFrame(t *testing.T) {
	valid := frameBytes(5, []byte("PNG\x91\x01"))
	tests := []struct {
		name   string
		in     []byte
		max    int
		header string
		body   []byte
		err    error
	}{
		{"valid", valid, 0, "PNG", []byte{0x91, 0x01}, nil},
		{"header only", frameBytes(3, []byte("BLK")), 0, "BLK", []byte{}, nil},
		{"clean eof", nil, 0, "", nil, io.EOF},
		{"truncated length", []byte{1, 0}, 0, "", nil, ErrMalformed},
		{"length below header", frameBytes(2, []byte("PN")), 0, "", nil, ErrMalformed},
		{"zero length", frameBytes(0, nil), 0, "", nil, ErrMalformed},
		{"oversize length", frameBytes(0xffffffff, nil), 0, "", nil, ErrFrameTooLarge},
		{"just over limit", frameBytes(101, []byte("BLK")), 100, "", nil, ErrFrameTooLarge},
		{"at limit", frameBytes(100, append([]byte("BLK"), fill(97, 1)...)), 100, "BLK", fill(97, 1), nil},
		{"truncated header", frameBytes(5, []byte("PN")), 0, "", nil, ErrMalformed},
		{"truncated body", frameBytes(50, []byte("PNG\x91")), 0, "", nil, ErrMalformed},
		{"lowercase header", frameBytes(5, []byte("png\x91\x01")), 0, "", nil, ErrMalformed},
		{"garbage header", frameBytes(5, []byte("\x00\xff\x13\x91\x01")), 0, "", nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, body, err := ReadFrame(bytes.NewReader(tc.in), tc.max)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h != tc.header || !bytes.Equal(body, tc.body) {
				t.Fatalf("got %q %x, want %q %x", h, body, tc.header, tc.body)
			}
		})
	}
}

// An oversize length must be refused without reading (or allocating) the body:
// the reader below fails the test if more than the prefix is requested.
func TestReadFrameOversizeReadsNothingMore(t *testing.T) {
	r := &limitedReader{data: frameBytes(DefaultMaxFrame+1, nil), t: t}
	if _, _, err := ReadFrame(r, DefaultMaxFrame); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v", err)
	}
	in := frameBytes(0xffffffff, nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		_, _, _ = ReadFrame(bytes.NewReader(in), DefaultMaxFrame)
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Fatalf("%d bytes allocated for 10 refused frames", d)
	}
}

type limitedReader struct {
	data []byte
	t    *testing.T
}

func (r *limitedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		r.t.Fatal("read past the length prefix")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestWriteFrame(t *testing.T) {
	tests := []struct {
		name   string
		header string
		body   []byte
		want   []byte
		err    error
	}{
		{"valid", "PNG", []byte{0x91, 0x01}, frameBytes(5, []byte("PNG\x91\x01")), nil},
		{"empty body", "BLK", nil, frameBytes(3, []byte("BLK")), nil},
		{"bad header", "pn1", nil, nil, ErrMalformed},
		{"long header", "PNGG", nil, nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteFrame(&buf, tc.header, tc.body)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.err == nil && !bytes.Equal(buf.Bytes(), tc.want) {
				t.Fatalf("wrote %x, want %x", buf.Bytes(), tc.want)
			}
		})
	}
}
