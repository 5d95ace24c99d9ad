package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// codecCase is one row of a per-message table: a message and the error kind
// Encode should return for it (nil for a valid message, which must then
// survive a round trip through a frame unchanged).
type codecCase struct {
	name string
	msg  Message
	err  error
}

func runCodecCases(t *testing.T, cases []codecCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, body, err := Encode(tc.msg)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Encode err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if h != tc.msg.Header() {
				t.Fatalf("header %q, want %q", h, tc.msg.Header())
			}
			var buf bytes.Buffer
			if err := WriteFrame(&buf, h, body); err != nil {
				t.Fatal(err)
			}
			h2, body2, err := ReadFrame(&buf, DefaultMaxFrame)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(h2, body2)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, tc.msg)
			}
			// Trailing bytes after a valid body are refused.
			if _, err := Decode(h, append(append([]byte{}, body...), 0x00)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("trailing byte: err = %v, want ErrMalformed", err)
			}
			// Every proper prefix of a valid body is refused.
			for i := 0; i < len(body); i += 1 + len(body)/64 {
				if _, err := Decode(h, body[:i]); err == nil {
					t.Fatalf("prefix of %d bytes decoded", i)
				}
			}
		})
	}
}

func fill(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestDecodeUnknownAndBadHeader(t *testing.T) {
	tests := []struct {
		header string
		err    error
	}{
		{"XYZ", ErrUnknownMessage},
		{"hey", ErrMalformed},
		{"HE", ErrMalformed},
		{"HEY!", ErrMalformed},
	}
	for _, tc := range tests {
		if _, err := Decode(tc.header, []byte{0x91, 0x01}); !errors.Is(err, tc.err) {
			t.Errorf("Decode(%q) err = %v, want %v", tc.header, err, tc.err)
		}
	}
}

func TestDecodeWrongShape(t *testing.T) {
	tests := []struct {
		name   string
		header string
		body   []byte
	}{
		{"map instead of array", HdrPing, []byte{0x81, 0xa5, 'N', 'o', 'n', 'c', 'e', 0x01}},
		{"too few fields", HdrGetBlocks, []byte{0x92, 0x01, 0x02}},
		{"too many fields", HdrPing, []byte{0x92, 0x01, 0x02}},
		{"empty array", HdrPing, []byte{0x90}},
		{"scalar", HdrPing, []byte{0x01}},
		{"wrong field type", HdrPing, []byte{0x91, 0xa1, 'x'}},
		{"string where list expected", HdrTxs, []byte{0x91, 0xa1, 'x'}},
		{"empty body", HdrPing, nil},
		{"declared length beyond body", HdrBlock, []byte{0x91, 0xc6, 0x7f, 0xff, 0xff, 0xff, 0x00}},
		{"invalid code", HdrPing, []byte{0x91, 0xc1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.header, tc.body); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestEncodeRejectsForeignMessage(t *testing.T) {
	if _, _, err := Encode(foreign{}); !errors.Is(err, ErrUnknownMessage) {
		t.Fatalf("err = %v", err)
	}
}

type foreign struct{}

func (foreign) Header() string { return "FOO" }
