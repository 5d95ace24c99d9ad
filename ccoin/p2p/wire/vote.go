package wire

import "fmt"

// Finality message limits: a signed vote is about 600 bytes; a certificate
// carries a quorum of them and a header.
const (
	MaxVoteSize    = 2 << 10
	MaxCertSize    = 256 << 10
	MaxJustVotes   = 256
	CheckpointSize = 32
)

// Vote (VOT) gossips one signed finality vote: its canonical encoding
// (types.Vote). Every node relays each valid vote it has not seen, once.
type Vote struct {
	_msgpack struct{} `msgpack:",as_array"`
	Vote     []byte
}

// GetFinality (FIN) asks a peer for finality evidence: with an empty ID,
// its newest certificate; with a checkpoint (Epoch, ID), also the votes of
// the quorum link that justified that checkpoint, so a node that got a
// vote whose source it does not know as justified can check it.
type GetFinality struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	Epoch    uint64
	ID       []byte
}

// Finality (CRT) answers GetFinality: the newest certificate (empty if the
// peer has none beyond genesis) and the justification votes asked for
// (empty if unknown).
type Finality struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	Cert     []byte
	Votes    [][]byte
}

// Header implements Message.
func (*Vote) Header() string { return HdrVote }

// Header implements Message.
func (*GetFinality) Header() string { return HdrGetFinality }

// Header implements Message.
func (*Finality) Header() string { return HdrFinality }

// RequestID implements Request.
func (m *GetFinality) RequestID() uint64 { return m.ReqID }

// RequestID implements Answer.
func (m *Finality) RequestID() uint64 { return m.ReqID }

func (*Finality) isAnswer() {}

func (m *Vote) validate() error {
	if len(m.Vote) == 0 {
		return fmt.Errorf("%w: empty vote", ErrMalformed)
	}
	return checkMax("vote", len(m.Vote), MaxVoteSize)
}

func (m *GetFinality) validate() error {
	if len(m.ID) != 0 {
		return checkExact("checkpoint id", m.ID, CheckpointSize)
	}
	return nil
}

func (m *Finality) validate() error {
	if err := checkMax("certificate", len(m.Cert), MaxCertSize); err != nil {
		return err
	}
	if err := checkMax("votes", len(m.Votes), MaxJustVotes); err != nil {
		return err
	}
	for i, v := range m.Votes {
		if len(v) == 0 {
			return fmt.Errorf("%w: vote %d is empty", ErrMalformed, i)
		}
		if err := checkMax("vote", len(v), MaxVoteSize); err != nil {
			return err
		}
	}
	return nil
}
