package crypto

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// AddressLen is the byte length of an address: the first 20 bytes of the
// SHA-256 of the DER public key.
const AddressLen = 20

// Address identifies an account.
type Address [AddressLen]byte

// AddressOf derives the address of a PKIX DER public key.
func AddressOf(der []byte) Address {
	sum := sha256.Sum256(der)
	var a Address
	copy(a[:], sum[:AddressLen])
	return a
}

// String is the lowercase hex form used in JSON, file names and logs.
func (a Address) String() string { return hex.EncodeToString(a[:]) }

// IsZero reports whether a is the all-zero address (used for "no sealer").
func (a Address) IsZero() bool { return a == Address{} }

// ParseAddress accepts 40 hex characters (either case) and nothing else.
func ParseAddress(s string) (Address, error) {
	var a Address
	if len(s) != 2*AddressLen {
		return a, fmt.Errorf("%w: want %d hex characters, got %d", ErrBadAddress, 2*AddressLen, len(s))
	}
	if _, err := hex.Decode(a[:], []byte(s)); err != nil {
		return a, fmt.Errorf("%w: %v", ErrBadAddress, err)
	}
	return a, nil
}

// MarshalText and UnmarshalText make Address a JSON string of lowercase hex.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

func (a *Address) UnmarshalText(b []byte) error {
	v, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
