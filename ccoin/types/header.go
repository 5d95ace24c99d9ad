package types

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"ccoin/ccoin/crypto"
)

// HeaderVersion is the only header version this software accepts.
const HeaderVersion = 1

// Limits on header fields.
const (
	MaxBlockData  = 1024
	MaxDifficulty = 64 // hex digits of a SHA-256
	maxHeaderLen  = 512 + MaxBlockData
)

// ErrBadPow means the block id does not start with difficulty hex zeros.
var ErrBadPow = errors.New("proof of work does not meet the difficulty")

// Header is a block header. The genesis header (Number 1) has an empty
// chain id, parent and sealer; every other header has all three.
type Header struct {
	Version    uint64
	ChainID    Hash
	Number     uint64
	Parent     Hash
	Slot       uint64
	Time       uint64 // unix ms
	Sealer     crypto.Address
	TxRoot     Hash
	StateRoot  Hash
	Reward     uint64
	Difficulty uint64
	Data       []byte
	PowNonce   uint64
}

// IsGenesis reports whether h is a genesis header.
func (h *Header) IsGenesis() bool { return h.Number == 1 }

func (h *Header) appendSealFields(b []byte) []byte {
	b = appendUint(b, h.Version)
	if h.IsGenesis() {
		b = appendBin(b, nil)
	} else {
		b = appendBin(b, h.ChainID[:])
	}
	b = appendUint(b, h.Number)
	if h.IsGenesis() {
		b = appendBin(b, nil)
	} else {
		b = appendBin(b, h.Parent[:])
	}
	b = appendUint(b, h.Slot)
	b = appendUint(b, h.Time)
	if h.IsGenesis() {
		b = appendBin(b, nil)
	} else {
		b = appendBin(b, h.Sealer[:])
	}
	b = appendBin(b, h.TxRoot[:])
	b = appendBin(b, h.StateRoot[:])
	b = appendUint(b, h.Reward)
	b = appendUint(b, h.Difficulty)
	return appendBin(b, h.Data)
}

// Encode appends the 13-field header encoding.
func (h *Header) Encode(b []byte) []byte {
	b = appendArray(b, 13)
	b = h.appendSealFields(b)
	return appendUint(b, h.PowNonce)
}

// SealHash is SHA-256 of the header without pow_nonce.
func (h *Header) SealHash() Hash {
	var buf [maxHeaderLen]byte
	b := appendArray(buf[:0], 12)
	return sha256.Sum256(h.appendSealFields(b))
}

// PowHash is SHA-256(seal hash ‖ 8-byte big-endian nonce).
func PowHash(seal Hash, nonce uint64) Hash {
	var buf [40]byte
	copy(buf[:], seal[:])
	binary.BigEndian.PutUint64(buf[32:], nonce)
	return sha256.Sum256(buf[:])
}

// ID is the block id: the proof-of-work hash.
func (h *Header) ID() Hash { return PowHash(h.SealHash(), h.PowNonce) }

// MeetsDifficulty reports whether id starts with d hex zeros.
func MeetsDifficulty(id Hash, d uint64) bool {
	if d > MaxDifficulty {
		return false
	}
	for i := uint64(0); i < d; i++ {
		c := id[i/2]
		if i%2 == 0 {
			c >>= 4
		}
		if c&0x0f != 0 {
			return false
		}
	}
	return true
}

// CheckPow verifies the header's proof of work and returns its id.
func (h *Header) CheckPow() (Hash, error) {
	id := h.ID()
	if !MeetsDifficulty(id, h.Difficulty) {
		return id, fmt.Errorf("%w: id %s, difficulty %d", ErrBadPow, id, h.Difficulty)
	}
	return id, nil
}

// Mine searches pow_nonce from start until the id meets the difficulty or
// stop returns true (checked every 4096 attempts). It returns false if stopped.
func (h *Header) Mine(start uint64, stop func() bool) bool {
	seal := h.SealHash()
	for n := start; ; n++ {
		if MeetsDifficulty(PowHash(seal, n), h.Difficulty) {
			h.PowNonce = n
			return true
		}
		if n%4096 == 0 && stop != nil && stop() {
			return false
		}
	}
}

// DecodeHeader parses a header on its own.
func DecodeHeader(p []byte) (*Header, error) {
	r := reader{b: p}
	h := readHeader(&r)
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return h, nil
}

func readHeader(r *reader) *Header {
	r.array(13)
	h := &Header{Version: r.uint()}
	if r.err == nil && h.Version != HeaderVersion {
		r.fail("unknown header version %d", h.Version)
	}
	hasChain := r.fixed(h.ChainID[:], true)
	h.Number = r.uint()
	hasParent := r.fixed(h.Parent[:], true)
	h.Slot = r.uint()
	h.Time = r.uint()
	hasSealer := r.fixed(h.Sealer[:], true)
	r.fixed(h.TxRoot[:], false)
	r.fixed(h.StateRoot[:], false)
	h.Reward = r.uint()
	h.Difficulty = r.uint()
	h.Data = bytes.Clone(r.bin(MaxBlockData))
	h.PowNonce = r.uint()
	if r.err != nil {
		return nil
	}
	if h.Number == 0 {
		r.fail("block number 0")
	}
	// Genesis has none of the three links; every other block has all three.
	want := !h.IsGenesis()
	if hasChain != want || hasParent != want || hasSealer != want {
		r.fail("chain_id, parent and sealer must be empty exactly for block 1")
	}
	if h.Difficulty > MaxDifficulty {
		r.fail("difficulty %d exceeds %d", h.Difficulty, MaxDifficulty)
	}
	if r.err != nil {
		return nil
	}
	return h
}
