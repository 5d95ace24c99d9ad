package types

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"ccoin/ccoin/crypto"
)

// VoteVersion is the version field of every vote this code signs.
const VoteVersion = 1

// MaxCertVotes bounds the votes a decoded certificate may carry (a quorum
// of at most MaxMiners-ish validators; generous).
const MaxCertVotes = 256

// ErrBadVoteSig is returned for a vote whose key or signature does not check.
var ErrBadVoteSig = errors.New("bad vote signature")

// Checkpoint is a pair (epoch, block id): the epoch is a slot number and the
// block is a chain's last block whose slot is at most the epoch.
type Checkpoint struct {
	Epoch uint64
	ID    Hash
}

func (c Checkpoint) String() string { return fmt.Sprintf("%d/%s", c.Epoch, c.ID.String()[:12]) }

// Vote is a validator's signed finality vote for the link Source -> Target.
type Vote struct {
	Version   uint64
	ChainID   Hash
	Source    Checkpoint
	Target    Checkpoint
	Voter     crypto.Address
	VoterKey  []byte // PKIX DER
	Signature []byte // RSA-PSS/SHA-256 over the unsigned encoding

	id    Hash
	hasID bool
}

// EncodeUnsigned appends [version, chain_id, source_epoch, source_id,
// target_epoch, target_id, voter]: what is hashed and signed.
func (v *Vote) EncodeUnsigned(b []byte) []byte {
	b = appendArray(b, 7)
	return v.appendFields(b)
}

func (v *Vote) appendFields(b []byte) []byte {
	b = appendUint(b, v.Version)
	b = appendBin(b, v.ChainID[:])
	b = appendUint(b, v.Source.Epoch)
	b = appendBin(b, v.Source.ID[:])
	b = appendUint(b, v.Target.Epoch)
	b = appendBin(b, v.Target.ID[:])
	return appendBin(b, v.Voter[:])
}

// Encode appends the 9-element signed form: the unsigned fields, then
// voter_key and signature.
func (v *Vote) Encode(b []byte) []byte {
	b = appendArray(b, 9)
	b = v.appendFields(b)
	b = appendBin(b, v.VoterKey)
	return appendBin(b, v.Signature)
}

// ID is the SHA-256 of the unsigned encoding: what the voter signs.
func (v *Vote) ID() Hash {
	if v.hasID {
		return v.id
	}
	return sha256.Sum256(v.EncodeUnsigned(nil))
}

// Sign fills VoterKey and Signature with k, which must be the voter's key.
func (v *Vote) Sign(k *crypto.PrivateKey) error {
	if k.Address() != v.Voter {
		return fmt.Errorf("%w: key %s signs for voter %s", ErrBadVoteSig, k.Address(), v.Voter)
	}
	v.hasID = false
	id := v.ID()
	sig, err := k.Sign(id)
	if err != nil {
		return err
	}
	v.VoterKey, v.Signature = k.Public().DER(), sig
	v.id, v.hasID = id, true
	return nil
}

// VerifySignature checks that the key hashes to the voter and signed the
// vote. keys may be nil.
func (v *Vote) VerifySignature(keys *crypto.KeyCache) error {
	var (
		pub *crypto.PublicKey
		err error
	)
	if keys != nil {
		pub, err = keys.Parse(v.VoterKey)
	} else {
		pub, err = crypto.ParsePublicKey(v.VoterKey)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadVoteSig, err)
	}
	if pub.Address() != v.Voter {
		return fmt.Errorf("%w: key hashes to %s, voter is %s", ErrBadVoteSig, pub.Address(), v.Voter)
	}
	if err := keys.Verify(pub, v.ID(), v.Signature); err != nil {
		return fmt.Errorf("%w: %w", ErrBadVoteSig, err)
	}
	return nil
}

// DecodeVote parses one signed vote and refuses trailing bytes.
func DecodeVote(p []byte) (*Vote, error) {
	r := reader{b: p}
	v := readVote(&r)
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("vote: %w", err)
	}
	return v, nil
}

func readVote(r *reader) *Vote {
	start := r.off
	r.array(9)
	v := &Vote{}
	v.Version = r.uint()
	r.fixed(v.ChainID[:], false)
	v.Source.Epoch = r.uint()
	r.fixed(v.Source.ID[:], false)
	v.Target.Epoch = r.uint()
	r.fixed(v.Target.ID[:], false)
	r.fixed(v.Voter[:], false)
	unsignedEnd := r.off
	v.VoterKey = bytes.Clone(r.bin(maxPublicKeyLen))
	v.Signature = bytes.Clone(r.bin(maxSignatureLen))
	if r.err != nil {
		return nil
	}
	// As for transactions: the unsigned form differs only in the array
	// header byte (0x99 -> 0x97).
	u := append([]byte{0x97}, r.b[start+1:unsignedEnd]...)
	v.id, v.hasID = sha256.Sum256(u), true
	return v
}

// Certificate proves a block final: the sealed header of the final block
// and a quorum of votes for one link from it (epoch e) to epoch e+1.
type Certificate struct {
	Header Header
	Votes  []*Vote
}

// Encode appends [header, [votes]].
func (c *Certificate) Encode(b []byte) []byte {
	b = appendArray(b, 2)
	b = c.Header.Encode(b)
	return EncodeVotes(b, c.Votes)
}

// DecodeCertificate parses a certificate and refuses trailing bytes.
func DecodeCertificate(p []byte) (*Certificate, error) {
	r := reader{b: p}
	r.array(2)
	h := readHeader(&r)
	n := r.arrayLen(MaxCertVotes)
	c := &Certificate{}
	for i := 0; i < n && r.err == nil; i++ {
		c.Votes = append(c.Votes, readVote(&r))
	}
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if h != nil {
		c.Header = *h
	}
	return c, nil
}

// EncodeVotes appends an array of signed votes.
func EncodeVotes(b []byte, votes []*Vote) []byte {
	b = appendArray(b, len(votes))
	for _, v := range votes {
		b = v.Encode(b)
	}
	return b
}

// DecodeVotes parses an array of at most MaxCertVotes signed votes.
func DecodeVotes(p []byte) ([]*Vote, error) {
	r := reader{b: p}
	n := r.arrayLen(MaxCertVotes)
	var out []*Vote
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, readVote(&r))
	}
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("votes: %w", err)
	}
	return out, nil
}
