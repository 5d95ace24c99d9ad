package crypto

import "errors"

// Error kinds, usable with errors.Is.
var (
	ErrBadKey       = errors.New("malformed key")
	ErrWeakKey      = errors.New("key is not RSA-2048 with exponent 65537")
	ErrBadSignature = errors.New("signature does not verify")
	ErrBadAddress   = errors.New("malformed address")
	ErrPassphrase   = errors.New("wrong passphrase or encrypted key without passphrase")
	ErrKeyFilePerm  = errors.New("private key file is readable by group or others")
)
