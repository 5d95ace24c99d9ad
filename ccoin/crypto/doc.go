// Package crypto holds ccoin's account cryptography: RSA-2048 keys with
// public exponent 65537, addresses derived from the PKIX DER public key,
// RSA-PSS/SHA-256 signatures with a 32-byte salt, and key files on disk.
//
// Every place that accepts a key from outside goes through ParsePublicKey,
// so weak keys (fewer bits, another exponent) are refused in one spot.
package crypto
