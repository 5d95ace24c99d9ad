package snapshot

import (
	"fmt"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// snapshotBase returns the sealed header of c's final block, which cert
// must certify; a snapshot of genesis is pointless.
func snapshotBase(c Chain, cert *types.Certificate) (SealedHeader, error) {
	cert, err := FinalCert(c, cert)
	if err != nil {
		return SealedHeader{}, err
	}
	if cert.Header.Number < 2 {
		return SealedHeader{}, fmt.Errorf("%w: the final block is still genesis", ErrUnavailable)
	}
	raw, err := c.SealedHeader(cert.Header.ID())
	if err != nil {
		return SealedHeader{}, fmt.Errorf("%w: block %d: %w", ErrUnavailable, cert.Header.Number, err)
	}
	return DecodeSealedHeader(raw)
}

// Build walks the state of c's final block, which cert must certify (see
// FinalCert), as Export does, but hands each chunk to emit (its index,
// first address and encoding) instead of writing a file, and returns the
// manifest. A node serving snapshots over P2P stores the chunks it is
// handed and serves them from there.
func Build(c Chain, g *genesis.Genesis, cert *types.Certificate, opts Options, emit func(index int, first crypto.Address, enc []byte) error) (*Manifest, error) {
	base, err := snapshotBase(c, cert)
	if err != nil {
		return nil, err
	}
	m, err := walk(c, g, base, cert, opts, func(i int, first []byte, enc []byte) error {
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
