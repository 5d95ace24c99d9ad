package crypto

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"sync"
)

// Key parameters fixed by the protocol.
const (
	KeyBits        = 2048
	PublicExponent = 65537
	// SaltLen equals the SHA-256 output size, which is what WebCrypto and
	// most libraries use by default, so wallets elsewhere can sign.
	SaltLen = 32
)

var pssOpts = &rsa.PSSOptions{SaltLength: SaltLen, Hash: crypto.SHA256}

// PrivateKey is an account's signing key together with its derived public
// encoding and address, computed once.
type PrivateKey struct {
	key *rsa.PrivateKey
	pub *PublicKey
}

// PublicKey is a validated RSA-2048/e=65537 public key.
type PublicKey struct {
	key  *rsa.PublicKey
	der  []byte
	addr Address
}

// GenerateKey makes a fresh account key.
func GenerateKey() (*PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	return NewPrivateKey(k)
}

// NewPrivateKey wraps an RSA key after checking it meets the protocol.
func NewPrivateKey(k *rsa.PrivateKey) (*PrivateKey, error) {
	if err := checkRSA(&k.PublicKey); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	k.Precompute()
	return &PrivateKey{key: k, pub: &PublicKey{key: &k.PublicKey, der: der, addr: AddressOf(der)}}, nil
}

// Public returns the public half.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// Address is the account address of the key.
func (k *PrivateKey) Address() Address { return k.pub.addr }

// RSA exposes the underlying key for encoding into files.
func (k *PrivateKey) RSA() *rsa.PrivateKey { return k.key }

// Sign signs a SHA-256 digest with RSA-PSS.
func (k *PrivateKey) Sign(digest [32]byte) ([]byte, error) {
	sig, err := rsa.SignPSS(rand.Reader, k.key, crypto.SHA256, digest[:], pssOpts)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig, nil
}

// DER is the PKIX SubjectPublicKeyInfo encoding.
func (p *PublicKey) DER() []byte { return p.der }

// Address of the key.
func (p *PublicKey) Address() Address { return p.addr }

// Verify checks an RSA-PSS signature over a SHA-256 digest.
func (p *PublicKey) Verify(digest [32]byte, sig []byte) error {
	if len(sig) != KeyBits/8 {
		return fmt.Errorf("%w: signature is %d bytes, want %d", ErrBadSignature, len(sig), KeyBits/8)
	}
	if err := rsa.VerifyPSS(p.key, crypto.SHA256, digest[:], sig, pssOpts); err != nil {
		return ErrBadSignature
	}
	return nil
}

func checkRSA(k *rsa.PublicKey) error {
	if k.N.BitLen() != KeyBits {
		return fmt.Errorf("%w: modulus has %d bits", ErrWeakKey, k.N.BitLen())
	}
	if k.E != PublicExponent {
		return fmt.Errorf("%w: exponent is %d", ErrWeakKey, k.E)
	}
	return nil
}

// ParsePublicKey decodes a PKIX DER public key and refuses anything but
// RSA-2048 with exponent 65537.
func ParsePublicKey(der []byte) (*PublicKey, error) {
	if len(der) == 0 || len(der) > 1024 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadKey, len(der))
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an RSA key", ErrBadKey)
	}
	if err := checkRSA(rk); err != nil {
		return nil, err
	}
	// Re-encoding must give the same bytes, so one key has one address.
	again, err := x509.MarshalPKIXPublicKey(rk)
	if err != nil || string(again) != string(der) {
		return nil, fmt.Errorf("%w: non-canonical DER", ErrBadKey)
	}
	return &PublicKey{key: rk, der: again, addr: AddressOf(again)}, nil
}

// KeyCache remembers parsed public keys, because parsing DER costs about as
// much as verifying a signature and the same senders sign many transactions,
// and the signatures it has verified, because one node meets one
// transaction several times (API or gossip, pool, block import) and an RSA
// verification is most of what a transfer costs. Both parts are bounded:
// the keys are emptied when full, the signatures are evicted oldest first.
// A node shares one KeyCache between its pool, its API and its chain.
type KeyCache struct {
	mu  sync.RWMutex
	m   map[string]*PublicKey
	max int

	sigMu    sync.Mutex
	sigs     map[sigKey]struct{}
	sigRing  []sigKey // insertion order, for eviction
	sigNext  int
	inflight map[sigKey]*sigCall
}

// MaxVerifiedSigs bounds the verified signatures a KeyCache remembers
// (about 100 bytes each).
const MaxVerifiedSigs = 1 << 17

// sigKey names one verification: SHA-256 over key, digest and signature.
type sigKey [32]byte

// sigCall is a verification in progress; copies of the same one wait for
// it instead of verifying again.
type sigCall struct {
	done chan struct{}
	err  error
}

// NewKeyCache returns a cache holding at most max keys.
func NewKeyCache(max int) *KeyCache {
	return &KeyCache{m: make(map[string]*PublicKey), max: max, sigs: make(map[sigKey]struct{}),
		sigRing: make([]sigKey, 0, 1024), inflight: make(map[sigKey]*sigCall)}
}

// Parse returns the cached key for der or parses and caches it.
func (c *KeyCache) Parse(der []byte) (*PublicKey, error) {
	c.mu.RLock()
	p := c.m[string(der)]
	c.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	p, err := ParsePublicKey(der)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[string(p.der)] = p
	c.mu.Unlock()
	return p, nil
}

// Verify is p.Verify, remembered: a signature this cache has verified
// over digest with p is not verified again, and concurrent checks of one
// signature wait for the first. Only successes are remembered (a forgery
// gets its sender banned, so it is not met twice).
func (c *KeyCache) Verify(p *PublicKey, digest [32]byte, sig []byte) error {
	if c == nil {
		return p.Verify(digest, sig)
	}
	h := sha256.New()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(p.der)))
	h.Write(n[:])
	h.Write(p.der)
	h.Write(digest[:])
	h.Write(sig)
	var k sigKey
	h.Sum(k[:0])

	c.sigMu.Lock()
	if _, ok := c.sigs[k]; ok {
		c.sigMu.Unlock()
		return nil
	}
	if call, ok := c.inflight[k]; ok {
		c.sigMu.Unlock()
		<-call.done
		return call.err
	}
	call := &sigCall{done: make(chan struct{})}
	c.inflight[k] = call
	c.sigMu.Unlock()

	call.err = p.Verify(digest, sig)

	c.sigMu.Lock()
	delete(c.inflight, k)
	if call.err == nil {
		c.remember(k)
	}
	c.sigMu.Unlock()
	close(call.done)
	return call.err
}

// remember adds k, evicting the oldest entry when full. sigMu is held.
func (c *KeyCache) remember(k sigKey) {
	if len(c.sigRing) < MaxVerifiedSigs {
		c.sigRing = append(c.sigRing, k)
	} else {
		delete(c.sigs, c.sigRing[c.sigNext])
		c.sigRing[c.sigNext] = k
		c.sigNext = (c.sigNext + 1) % MaxVerifiedSigs
	}
	c.sigs[k] = struct{}{}
}
