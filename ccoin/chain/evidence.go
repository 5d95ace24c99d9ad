package chain

import (
	"encoding/binary"
	"fmt"

	"ccoin/ccoin/types"
)

// Evidence records are two length-prefixed header encodings.
func encodeEvidence(a, b *types.Header) []byte {
	ea, eb := a.Encode(nil), b.Encode(nil)
	v := binary.BigEndian.AppendUint32(nil, uint32(len(ea)))
	v = append(v, ea...)
	return append(v, eb...)
}

func decodeEvidence(v []byte) ([2]*types.Header, error) {
	var out [2]*types.Header
	if len(v) < 4 || int(binary.BigEndian.Uint32(v)) > len(v)-4 {
		return out, fmt.Errorf("%w: evidence record", types.ErrEncoding)
	}
	n := int(binary.BigEndian.Uint32(v))
	var err error
	if out[0], err = types.DecodeHeader(v[4 : 4+n]); err != nil {
		return out, err
	}
	out[1], err = types.DecodeHeader(v[4+n:])
	return out, err
}
