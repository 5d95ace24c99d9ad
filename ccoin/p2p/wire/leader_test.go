package wire

import "testing"

func TestLeaderCodec(t *testing.T) {
	runCodecCases(t, []codecCase{
		{"get", &GetLeader{ReqID: 3}, nil},
		{"leader", &Leader{ReqID: 3, Slot: 42, Leader: fill(20, 9)}, nil},
		{"leader short", &Leader{ReqID: 3, Leader: fill(19, 9)}, ErrMalformed},
	})
}
