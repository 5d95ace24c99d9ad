package wire

import (
	"fmt"
	"testing"
)

func TestPeersCodec(t *testing.T) {
	max := make([]string, MaxPeerAddrs)
	for i := range max {
		max[i] = fmt.Sprintf("10.0.0.%d:9000", i)
	}
	runCodecCases(t, []codecCase{
		{"one", &Peers{Addrs: []string{"127.0.0.1:9000"}}, nil},
		{"none", &Peers{Addrs: []string{}}, nil},
		{"max", &Peers{Addrs: max}, nil},
		{"too many", &Peers{Addrs: append(max, "a:1")}, ErrTooLarge},
		{"too long", &Peers{Addrs: []string{string(fill(MaxAddrLen+1, 'a'))}}, ErrTooLarge},
		{"empty addr", &Peers{Addrs: []string{""}}, ErrMalformed},
	})
}
