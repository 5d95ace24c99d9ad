package wire

import "fmt"

// Compact block limits. MaxCompactTxs matches the block decoder's bound
// (types.MaxBlockTxs); consensus (max_bound, max_block_bytes) is far lower.
const (
	MaxCompactTxs = 100_000
	TxIDLen       = 32
)

// CompactBlock (CBK) announces a new block without its transactions: Head
// is the block's encoding with an empty transaction list (its header,
// sealer key and signature), TxIDs the ids of its transactions in block
// order, 32 bytes each. A receiver fills the transactions from its pool and
// asks the sender (GetBlockTxs) only for those it lacks: a block of 3,000
// transfers travels as about 100 KB instead of 2 MB, and most of what it
// carries was gossiped already.
type CompactBlock struct {
	_msgpack struct{} `msgpack:",as_array"`
	Head     []byte
	TxIDs    []byte
}

// GetBlockTxs (RBT) asks the sender of a compact block for some of its
// transactions, by their indexes in the block (strictly increasing).
type GetBlockTxs struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	BlockID  []byte
	Indexes  []uint32
}

// BlockTxs (ABT) answers GetBlockTxs with the canonical encodings of the
// transactions asked for, in the order asked; empty when the sender no
// longer holds the block.
type BlockTxs struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	Txs      [][]byte
}

// Header implements Message.
func (*CompactBlock) Header() string { return HdrCompactBlock }

// Count is the number of transactions the block holds.
func (m *CompactBlock) Count() int { return len(m.TxIDs) / TxIDLen }

// TxID returns the id of transaction i.
func (m *CompactBlock) TxID(i int) (id [TxIDLen]byte) {
	copy(id[:], m.TxIDs[i*TxIDLen:])
	return id
}

func (m *CompactBlock) validate() error {
	if len(m.Head) == 0 {
		return fmt.Errorf("%w: empty block head", ErrMalformed)
	}
	if len(m.TxIDs)%TxIDLen != 0 {
		return fmt.Errorf("%w: tx ids are %d bytes, not a multiple of %d", ErrMalformed, len(m.TxIDs), TxIDLen)
	}
	return checkMax("compact block txs", m.Count(), MaxCompactTxs)
}

// Header implements Message.
func (*GetBlockTxs) Header() string { return HdrGetBlockTxs }

// RequestID implements Request.
func (m *GetBlockTxs) RequestID() uint64 { return m.ReqID }

func (m *GetBlockTxs) validate() error {
	if err := checkExact("block id", m.BlockID, 32); err != nil {
		return err
	}
	if len(m.Indexes) == 0 {
		return fmt.Errorf("%w: no indexes", ErrMalformed)
	}
	if err := checkMax("indexes", len(m.Indexes), MaxCompactTxs); err != nil {
		return err
	}
	for i, x := range m.Indexes {
		if x >= MaxCompactTxs || (i > 0 && x <= m.Indexes[i-1]) {
			return fmt.Errorf("%w: indexes must increase and stay below %d (index %d is %d)", ErrMalformed, MaxCompactTxs, i, x)
		}
	}
	return nil
}

// Header implements Message.
func (*BlockTxs) Header() string { return HdrBlockTxs }

// RequestID implements Answer.
func (m *BlockTxs) RequestID() uint64 { return m.ReqID }
func (*BlockTxs) isAnswer()           {}

func (m *BlockTxs) validate() error { return checkTxList(m.Txs, MaxCompactTxs) }
