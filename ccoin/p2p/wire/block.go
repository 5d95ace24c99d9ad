package wire

import "fmt"

// Block (BLK) announces a new block: its canonical encoding. Its size is
// bounded by the frame limit.
type Block struct {
	_msgpack struct{} `msgpack:",as_array"`
	Block    []byte
}

// Header implements Message.
func (*Block) Header() string { return HdrBlock }

func (m *Block) validate() error {
	if len(m.Block) == 0 {
		return fmt.Errorf("%w: empty block", ErrMalformed)
	}
	return nil
}
