package wire

import "testing"

func TestPingCodec(t *testing.T) {
	runCodecCases(t, []codecCase{
		{"ping", &Ping{Nonce: 5}, nil},
		{"ping zero", &Ping{}, nil},
		{"pong", &Pong{Nonce: ^uint64(0)}, nil},
	})
}
