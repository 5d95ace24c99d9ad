package wire

import "testing"

func TestBlockCodec(t *testing.T) {
	runCodecCases(t, []codecCase{
		{"small", &Block{Block: []byte{1}}, nil},
		{"large", &Block{Block: fill(1<<20, 7)}, nil},
		{"empty", &Block{}, ErrMalformed},
	})
}
