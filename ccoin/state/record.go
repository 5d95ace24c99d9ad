package state

import (
	"encoding/binary"
	"fmt"

	"ccoin/ccoin/types"
)

const changeLen = 20 + 4*8

// EncodeChanges serialises a block's changes as its undo/redo record:
// fixed 52-byte entries (address, balance and nonce before, after).
func EncodeChanges(cs []Change) []byte {
	b := make([]byte, 0, len(cs)*changeLen)
	for _, c := range cs {
		b = append(b, c.Addr[:]...)
		b = binary.BigEndian.AppendUint64(b, c.Before.Balance)
		b = binary.BigEndian.AppendUint64(b, c.Before.Nonce)
		b = binary.BigEndian.AppendUint64(b, c.After.Balance)
		b = binary.BigEndian.AppendUint64(b, c.After.Nonce)
	}
	return b
}

// DecodeChanges parses an undo/redo record.
func DecodeChanges(b []byte) ([]Change, error) {
	if len(b)%changeLen != 0 {
		return nil, fmt.Errorf("%w: undo record of %d bytes", types.ErrEncoding, len(b))
	}
	cs := make([]Change, len(b)/changeLen)
	for i := range cs {
		p := b[i*changeLen:]
		copy(cs[i].Addr[:], p[:20])
		cs[i].Before = types.Account{Balance: binary.BigEndian.Uint64(p[20:]), Nonce: binary.BigEndian.Uint64(p[28:])}
		cs[i].After = types.Account{Balance: binary.BigEndian.Uint64(p[36:]), Nonce: binary.BigEndian.Uint64(p[44:])}
	}
	return cs, nil
}
