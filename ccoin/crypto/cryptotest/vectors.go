package cryptotest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"ccoin/ccoin/crypto"
)

// VectorKeys returns the fixed keys the published test vectors are made
// with: testdata/vector-keys/wallet.pem, then the three devnet miners of
// genesis.json in schedule order. They are read from the repository, so
// regenerating the vectors gives the same bytes.
func VectorKeys(tb testing.TB) []*crypto.PrivateKey {
	tb.Helper()
	root := RepoRoot(tb)
	paths := []string{filepath.Join(root, "testdata", "vector-keys", "wallet.pem")}
	for _, a := range []string{
		"7c8a44f90148b54d014eeae26db4fe96def364de",
		"e73f9f7a6c2a42bea4f5515671259869d509441a",
		"c3c3f903f5a8e71fee7113fd4329919ba33b01e1",
	} {
		paths = append(paths, filepath.Join(root, "testdata", "devnet-keys", "keys", a, crypto.PrivateKeyFile))
	}
	keys := make([]*crypto.PrivateKey, len(paths))
	for i, p := range paths {
		// Published test keys: read them as data, not through LoadKeyFile,
		// which refuses a key file others can read (git checks them out 0644).
		pem, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		k, err := crypto.DecodePrivateKeyPEM(pem, nil)
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		keys[i] = k
	}
	return keys
}

// RepoRoot is the repository's root directory (where testdata/ lives).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cryptotest: cannot locate the source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// VectorSalt is the PSS salt SignDeterministic uses for digest.
func VectorSalt(digest [32]byte) [32]byte {
	return sha256.Sum256(append([]byte("ccoin test vector salt\x00"), digest[:]...))
}

// SignDeterministic is RSA-PSS/SHA-256 (MGF1-SHA-256, 32-byte salt) over a
// SHA-256 digest, exactly what crypto.PrivateKey.Sign produces, except that
// the salt is VectorSalt(digest) instead of random bytes, so test vectors are
// reproducible. Any PSS verifier accepts the result; nodes never sign this way.
func SignDeterministic(k *crypto.PrivateKey, digest [32]byte) []byte {
	priv := k.RSA()
	salt := VectorSalt(digest)
	const emLen = crypto.KeyBits / 8 // emBits = 2047 fits in 256 bytes
	// EMSA-PSS-ENCODE (RFC 8017, 9.1.1).
	mp := make([]byte, 0, 8+32+32)
	mp = append(mp, make([]byte, 8)...)
	mp = append(mp, digest[:]...)
	mp = append(mp, salt[:]...)
	h := sha256.Sum256(mp)
	db := make([]byte, emLen-32-1)
	db[len(db)-32-1] = 0x01
	copy(db[len(db)-32:], salt[:])
	mask := mgf1(h[:], len(db))
	for i := range db {
		db[i] ^= mask[i]
	}
	db[0] &= 0x7f // 8*emLen - emBits = 1 leftmost bit
	em := append(append(db, h[:]...), 0xbc)
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), priv.D, priv.N)
	return s.FillBytes(make([]byte, emLen))
}

func mgf1(seed []byte, n int) []byte {
	var out []byte
	for c := uint32(0); len(out) < n; c++ {
		b := append([]byte{}, seed...)
		b = append(b, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
		sum := sha256.Sum256(b)
		out = append(out, sum[:]...)
	}
	return out[:n]
}

// Golden keeps a JSON vector file in step with the code that makes it:
// with update it first writes want to path (indented, deterministic); then
// it decodes path strictly (unknown fields refused) into got and fails
// unless that equals want.
func Golden(tb testing.TB, path string, want, got any, update bool) {
	tb.Helper()
	if update {
		out, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(got); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		tb.Fatalf("%s differs from what the code makes; run the test with -update if the change is intended\n got %s\nwant %s",
			filepath.Base(path), a, b)
	}
}
