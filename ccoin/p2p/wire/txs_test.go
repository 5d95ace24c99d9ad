package wire

import "testing"

func TestTxsCodec(t *testing.T) {
	many := make([][]byte, MaxTxs)
	for i := range many {
		many[i] = []byte{byte(i)}
	}
	runCodecCases(t, []codecCase{
		{"one", &Txs{Txs: [][]byte{{1, 2, 3}}}, nil},
		{"several", &Txs{Txs: [][]byte{fill(600, 1), fill(MaxTxSize, 2), {3}}}, nil},
		{"max count", &Txs{Txs: many}, nil},
		{"too many", &Txs{Txs: append(many, []byte{1})}, ErrTooLarge},
		{"tx too large", &Txs{Txs: [][]byte{fill(MaxTxSize+1, 1)}}, ErrTooLarge},
		{"empty tx", &Txs{Txs: [][]byte{{}}}, ErrMalformed},
	})
}
