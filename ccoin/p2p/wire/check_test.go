package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestCheckStructure(t *testing.T) {
	deep := func(n int) []byte { return append(bytes.Repeat([]byte{0x91}, n), 0x01) }
	tests := []struct {
		name string
		in   []byte
		top  int
		err  error
	}{
		{"fixint", []byte{0x05}, -1, nil},
		{"array", []byte{0x92, 0x01, 0xa1, 'x'}, 2, nil},
		{"array16", []byte{0xdc, 0x00, 0x01, 0xc0}, 1, nil},
		{"map", []byte{0x81, 0x01, 0x02}, -1, nil},
		{"nested at limit", deep(MaxDepth), 1, nil},
		{"nested beyond limit", deep(MaxDepth + 1), 0, ErrMalformed},
		{"4 MiB of 0x91", bytes.Repeat([]byte{0x91}, 4<<20), 0, ErrMalformed},
		{"array32 of 4G", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, 0, ErrMalformed},
		{"map32 of 4G", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, 0, ErrMalformed},
		{"bin32 of 4G", []byte{0xc6, 0xff, 0xff, 0xff, 0xff}, 0, ErrMalformed},
		{"str32 of 4G", []byte{0xdb, 0xff, 0xff, 0xff, 0xff}, 0, ErrMalformed},
		{"ext32 of 4G", []byte{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, 0, ErrMalformed},
		{"bin8 short", []byte{0xc4, 0x05, 1, 2}, 0, ErrMalformed},
		{"fixstr short", []byte{0xa5, 'a'}, 0, ErrMalformed},
		{"uint64 short", []byte{0xcf, 0, 0}, 0, ErrMalformed},
		{"fixext16", append([]byte{0xd8, 0x01}, make([]byte, 16)...), -1, nil},
		{"fixext16 short", append([]byte{0xd8, 0x01}, make([]byte, 15)...), 0, ErrMalformed},
		{"array missing values", []byte{0x93, 0x01}, 0, ErrMalformed},
		{"trailing bytes", []byte{0x91, 0x01, 0x02}, 0, ErrMalformed},
		{"never used code", []byte{0xc1}, 0, ErrMalformed},
		{"empty", nil, 0, ErrMalformed},
		{"length field truncated", []byte{0xc5, 0x01}, 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top, err := checkStructure(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.err == nil && top != tc.top {
				t.Fatalf("top = %d, want %d", top, tc.top)
			}
		})
	}
}

// The hostile bodies from RELIABILITY.md must fail fast, for every header,
// without the msgpack decoder ever seeing them.
func TestDecodeHostileBodies(t *testing.T) {
	bodies := map[string][]byte{
		"dd ff ff ff ff":   {0xdd, 0xff, 0xff, 0xff, 0xff},
		"bin32 in array":   {0x91, 0xc6, 0xff, 0xff, 0xff, 0xff},
		"deep nesting":     bytes.Repeat([]byte{0x91}, 4<<20),
		"many empty items": append([]byte{0x91, 0xdd, 0x00, 0x10, 0x00, 0x00}, bytes.Repeat([]byte{0xc0}, 1<<20)...),
	}
	for name, b := range bodies {
		for _, h := range Headers() {
			if _, err := Decode(h, b); !errors.Is(err, ErrMalformed) {
				t.Errorf("%s under %s: err = %v, want ErrMalformed", name, h, err)
			}
		}
	}
}

func TestCheckStructureNoAllocs(t *testing.T) {
	_, body, err := Encode(&Txs{Txs: [][]byte{fill(600, 1), fill(600, 2)}})
	if err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20, func() { _, _ = checkStructure(body) }); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}
