package wire

import "fmt"

// MaxBlocksPerRequest bounds GetBlocks.Count and Blocks.Blocks.
const MaxBlocksPerRequest = 512

// GetBlocks (RBL) asks for up to Count consecutive blocks from number From.
type GetBlocks struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	From     uint64
	Count    uint64
}

// Blocks (ABL) answers GetBlocks with canonical block encodings, in order; the
// server sends as many as fit in its frame budget, possibly fewer than asked.
type Blocks struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	Blocks   [][]byte
}

// Header implements Message.
func (*GetBlocks) Header() string { return HdrGetBlocks }

// RequestID implements Request.
func (m *GetBlocks) RequestID() uint64 { return m.ReqID }

func (m *GetBlocks) validate() error {
	if m.Count == 0 {
		return fmt.Errorf("%w: zero block count", ErrMalformed)
	}
	if m.Count > MaxBlocksPerRequest {
		return fmt.Errorf("%w: block count %d, limit %d", ErrTooLarge, m.Count, MaxBlocksPerRequest)
	}
	return nil
}

// Header implements Message.
func (*Blocks) Header() string { return HdrBlocks }

// RequestID implements Answer.
func (m *Blocks) RequestID() uint64 { return m.ReqID }
func (*Blocks) isAnswer()           {}

func (m *Blocks) validate() error {
	if err := checkMax("blocks", len(m.Blocks), MaxBlocksPerRequest); err != nil {
		return err
	}
	for i, b := range m.Blocks {
		if len(b) == 0 {
			return fmt.Errorf("%w: block %d is empty", ErrMalformed, i)
		}
	}
	return nil
}
