package wire

import "testing"

func TestBlocksCodec(t *testing.T) {
	max := make([][]byte, MaxBlocksPerRequest)
	for i := range max {
		max[i] = []byte{byte(i), 1}
	}
	runCodecCases(t, []codecCase{
		{"get", &GetBlocks{ReqID: 1, From: 10, Count: 5}, nil},
		{"get max", &GetBlocks{ReqID: 1, From: 0, Count: MaxBlocksPerRequest}, nil},
		{"get too many", &GetBlocks{ReqID: 1, Count: MaxBlocksPerRequest + 1}, ErrTooLarge},
		{"get zero", &GetBlocks{ReqID: 1}, ErrMalformed},
		{"answer", &Blocks{ReqID: 1, Blocks: [][]byte{{1}, {2, 3}}}, nil},
		{"answer empty", &Blocks{ReqID: 1, Blocks: [][]byte{}}, nil},
		{"answer max", &Blocks{ReqID: 1, Blocks: max}, nil},
		{"answer too many", &Blocks{ReqID: 1, Blocks: append(max, []byte{1})}, ErrTooLarge},
		{"answer empty block", &Blocks{ReqID: 1, Blocks: [][]byte{{}}}, ErrMalformed},
	})
}
