package wire

import "fmt"

// Transaction batch limits.
const (
	MaxTxs    = 20000
	MaxTxSize = 8 << 10
)

// Txs (TXN) gossips a batch of canonical transaction encodings.
type Txs struct {
	_msgpack struct{} `msgpack:",as_array"`
	Txs      [][]byte
}

// Header implements Message.
func (*Txs) Header() string { return HdrTxs }

func (m *Txs) validate() error { return checkTxList(m.Txs, MaxTxs) }

// checkTxList bounds a list of transaction encodings: at most max, each
// non-empty and at most MaxTxSize.
func checkTxList(txs [][]byte, max int) error {
	if err := checkMax("txs", len(txs), max); err != nil {
		return err
	}
	for i, tx := range txs {
		if len(tx) == 0 {
			return fmt.Errorf("%w: tx %d is empty", ErrMalformed, i)
		}
		if err := checkMax("tx", len(tx), MaxTxSize); err != nil {
			return err
		}
	}
	return nil
}
