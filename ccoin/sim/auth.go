package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// simAuth authenticates votes with HMAC-SHA256 under a per-voter secret
// instead of RSA-PSS: a validator votes every slot, and 2,000 RSA
// signatures per schedule would make thousands of schedules impossible.
// Which scheme authenticates a vote does not change any finality rule the
// simulator tests; the RSA path has its own tests in consensus.
type simAuth struct{}

func voteMAC(v *types.Vote) []byte {
	m := hmac.New(sha256.New, v.Voter[:])
	id := v.ID()
	m.Write(id[:])
	return m.Sum(nil)
}

func (simAuth) SignVote(v *types.Vote) error {
	v.Signature = voteMAC(v)
	return nil
}

func (simAuth) Verify(v *types.Vote) error {
	if !hmac.Equal(v.Signature, voteMAC(v)) {
		return errors.New("bad vote mac")
	}
	return nil
}

// simSeals does the same for block seals: the proof of work is real, the
// signature a MAC of the block id under the sealer's address. Headers,
// ids and every other block rule are the protocol's.
type simSeals struct{}

func sealMAC(b *types.Block) []byte {
	m := hmac.New(sha256.New, b.Header.Sealer[:])
	id := b.Header.ID()
	m.Write(id[:])
	return m.Sum(nil)
}

func (simSeals) Sign(b *types.Block, key *crypto.PrivateKey) error {
	if key.Address() != b.Header.Sealer {
		return fmt.Errorf("key %s is not the sealer %s", key.Address(), b.Header.Sealer)
	}
	if _, err := b.Header.CheckPow(); err != nil {
		return err
	}
	b.SealerKey, b.Signature = key.Public().DER(), sealMAC(b)
	return nil
}

func (simSeals) Verify(b *types.Block) error {
	if _, err := b.Header.CheckPow(); err != nil {
		return err
	}
	if !hmac.Equal(b.Signature, sealMAC(b)) {
		return errors.New("bad seal mac")
	}
	return nil
}
