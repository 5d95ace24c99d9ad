package crypto

import (
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
)

func TestKeyCacheRemembersVerifiedSignatures(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("transfer"))
	sig, err := k.Sign(digest)
	if err != nil {
		t.Fatal(err)
	}
	c := NewKeyCache(4)
	pub, err := c.Parse(k.Public().DER())
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent copies of one signature: all succeed, one entry.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = c.Verify(pub, digest, sig) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(c.sigs) != 1 || len(c.inflight) != 0 {
		t.Fatalf("%d remembered, %d in flight; want 1 and 0", len(c.sigs), len(c.inflight))
	}
	// A forgery is refused every time and never remembered.
	bad := append([]byte(nil), sig...)
	bad[10] ^= 1
	for range 2 {
		if err := c.Verify(pub, digest, bad); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("forged signature: %v", err)
		}
	}
	// The same signature over another digest is another verification.
	if err := c.Verify(pub, sha256.Sum256([]byte("other")), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signature moved to another digest: %v", err)
	}
	if len(c.sigs) != 1 {
		t.Fatalf("%d remembered after refusals, want 1", len(c.sigs))
	}
	// A nil cache verifies directly.
	var none *KeyCache
	if err := none.Verify(pub, digest, sig); err != nil {
		t.Fatal(err)
	}
}

func TestKeyCacheEvictsOldestSignature(t *testing.T) {
	c := NewKeyCache(4)
	key := func(i int) sigKey { return sigKey{byte(i), byte(i >> 8), byte(i >> 16)} }
	for i := range MaxVerifiedSigs + 3 {
		c.remember(key(i))
	}
	if len(c.sigs) != MaxVerifiedSigs {
		t.Fatalf("%d remembered, bound %d", len(c.sigs), MaxVerifiedSigs)
	}
	if _, ok := c.sigs[key(0)]; ok {
		t.Fatal("the oldest entry survived eviction")
	}
	if _, ok := c.sigs[key(MaxVerifiedSigs+2)]; !ok {
		t.Fatal("the newest entry is missing")
	}
}
