package snapshot

import (
	"fmt"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
)

// Build walks the state of c's finalized block as Export does, but hands
// each chunk to emit (its index, first address and encoding) instead of
// writing a file, and returns the manifest. A node serving snapshots over
// P2P stores the chunks it is handed and serves them from there.
func Build(c Chain, g *genesis.Genesis, opts Options, emit func(index int, first crypto.Address, enc []byte) error) (*Manifest, error) {
	headers, err := FinalityHeaders(c, g)
	if err != nil {
		return nil, err
	}
	if headers[0].Header.Number < 2 {
		return nil, fmt.Errorf("%w: the finalized block is still genesis", ErrUnavailable)
	}
	m, err := walk(c, g, headers, opts, func(i int, first []byte, enc []byte) error {
		return emit(i, crypto.Address(first), enc)
	})
	if err != nil {
		return nil, err
	}
	if n := len(m.Encode()); n > MaxManifest {
		return nil, fmt.Errorf("%w: manifest of %d bytes (use larger chunks)", ErrFormat, n)
	}
	return m, nil
}
