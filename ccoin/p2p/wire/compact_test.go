package wire

import "testing"

func TestCompactCodec(t *testing.T) {
	id := fill(32, 3)
	runCodecCases(t, []codecCase{
		{"compact block", &CompactBlock{Head: []byte{0x94, 0x90}, TxIDs: fill(64, 1)}, nil},
		{"compact block, no txs", &CompactBlock{Head: []byte{0x94, 0x90}}, nil},
		{"compact block, empty head", &CompactBlock{TxIDs: fill(32, 1)}, ErrMalformed},
		{"compact block, ragged ids", &CompactBlock{Head: []byte{1}, TxIDs: fill(33, 1)}, ErrMalformed},
		{"compact block, too many ids", &CompactBlock{Head: []byte{1}, TxIDs: fill(32*(MaxCompactTxs+1), 1)}, ErrTooLarge},
		{"ask txs", &GetBlockTxs{ReqID: 1, BlockID: id, Indexes: []uint32{0, 1, MaxCompactTxs - 1}}, nil},
		{"ask txs, short id", &GetBlockTxs{ReqID: 1, BlockID: id[:31], Indexes: []uint32{0}}, ErrMalformed},
		{"ask txs, none", &GetBlockTxs{ReqID: 1, BlockID: id}, ErrMalformed},
		{"ask txs, repeated index", &GetBlockTxs{ReqID: 1, BlockID: id, Indexes: []uint32{2, 2}}, ErrMalformed},
		{"ask txs, index past any block", &GetBlockTxs{ReqID: 1, BlockID: id, Indexes: []uint32{MaxCompactTxs}}, ErrMalformed},
		{"txs", &BlockTxs{ReqID: 1, Txs: [][]byte{{1}, fill(MaxTxSize, 2)}}, nil},
		{"txs, none", &BlockTxs{ReqID: 1}, nil},
		{"txs, empty tx", &BlockTxs{ReqID: 1, Txs: [][]byte{{}}}, ErrMalformed},
		{"txs, oversize tx", &BlockTxs{ReqID: 1, Txs: [][]byte{fill(MaxTxSize+1, 2)}}, ErrTooLarge},
	})
}
