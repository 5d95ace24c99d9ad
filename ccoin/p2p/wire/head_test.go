package wire

import "testing"

func TestHeadCodec(t *testing.T) {
	runCodecCases(t, []codecCase{
		{"get", &GetHead{ReqID: 1}, nil},
		{"get max id", &GetHead{ReqID: ^uint64(0)}, nil},
		{"head", &Head{ReqID: 2, Height: 100, HeadID: fill(32, 1), FinalizedHeight: 90}, nil},
		{"head short id", &Head{ReqID: 2, HeadID: fill(31, 1)}, ErrMalformed},
	})
}
