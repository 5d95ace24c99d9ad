package api

import (
	"encoding/hex"
	"net/http"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// FinalityReader is what the finality routes read from the node: the
// newest finality certificate (GET /finality, account proofs), voting
// offences (GET /evidence) and the validators' activity (GET /validators).
type FinalityReader interface {
	// Finality is the newest certificate and the justified checkpoints
	// above its final one; ErrProofUnavailable before the first certificate.
	Finality() (FinalityInfo, error)
	VoteOffences() []VoteOffence
	Validators() ValidatorsInfo
}

// FinalityInfo is the newest finality certificate and what is justified
// above it.
type FinalityInfo struct {
	Cert           *types.Certificate
	Justified      []types.Checkpoint // above the final epoch, ascending
	Quorum, Miners int                // the genesis quorum and miner count
}

// VoteOffence is evidence that a validator broke the voting rule: two
// signed votes of one voter, Kind "double_vote" (one target epoch, two
// targets) or "surround_vote" (A's epochs strictly surround B's, or B's A's).
type VoteOffence struct {
	Kind  string
	Voter crypto.Address
	A, B  *types.Vote
}

// ValidatorsInfo is every miner's recent activity, in schedule order.
type ValidatorsInfo struct {
	Slot       uint64 // the current slot
	WindowFrom uint64 // the epochs (slots) counted: WindowFrom..WindowTo
	WindowTo   uint64
	Validators []ValidatorInfo
}

// ValidatorInfo is one miner's activity. A slot is missed when the miner
// led it and the canonical chain has no block of that slot; a vote is
// missed for an epoch of the window this node saw no vote of the miner for.
type ValidatorInfo struct {
	Address        crypto.Address
	LastSealedSlot *uint64 // nil: no canonical block of it within the scanned history
	LastVoteEpoch  *uint64 // nil: no vote of it seen by this node
	LedSlots       int     // slots it led in the window
	MissedSlots    int
	MissedVotes    int
	Evidence       int // sealing equivocations and voting offences on record
}

// CheckpointJSON is a (epoch, block id) pair.
type CheckpointJSON struct {
	Epoch uint64 `json:"epoch"`
	ID    string `json:"id"`
}

// VoteJSON is a signed finality vote. Encoding is its canonical signed
// encoding (the 9-element array); Unsigned is the 7-element array whose
// SHA-256 (ID) the voter signed with RSA-PSS, so a client checks the
// signature without a msgpack encoder.
type VoteJSON struct {
	ID        string         `json:"id"`
	Version   uint64         `json:"version"`
	ChainID   string         `json:"chain_id"`
	Source    CheckpointJSON `json:"source"`
	Target    CheckpointJSON `json:"target"`
	Voter     string         `json:"voter"`
	VoterKey  string         `json:"voter_key"` // hex of the PKIX DER public key
	Signature string         `json:"signature"` // hex
	Encoding  string         `json:"encoding"`  // hex
	Unsigned  string         `json:"unsigned"`  // hex
}

// CertificateJSON is a finality certificate: the final block's header, the
// link its votes sign (source = the final checkpoint, target = the next
// epoch's) and the votes, plus Raw, the certificate's canonical encoding
// [header, [votes]], which is all a verifier needs.
type CertificateJSON struct {
	ID        string         `json:"id"` // the final block's id
	Header    HeaderJSON     `json:"header"`
	HeaderHex string         `json:"header_hex"` // the header's encoding, whose SHA-256 is ID
	Source    CheckpointJSON `json:"source"`
	Target    CheckpointJSON `json:"target"`
	Votes     []VoteJSON     `json:"votes"`
	Raw       string         `json:"raw"`
}

// FinalityJSON is GET /finality.
type FinalityJSON struct {
	CertificateJSON
	Quorum    int              `json:"quorum"`
	Miners    int              `json:"miners"`
	Justified []CheckpointJSON `json:"justified"`
}

// VoteOffenceJSON is one voting offence with both signed votes.
type VoteOffenceJSON struct {
	Kind  string   `json:"kind"`
	Voter string   `json:"voter"`
	A     VoteJSON `json:"a"`
	B     VoteJSON `json:"b"`
}

// ValidatorJSON is one miner in GET /validators.
type ValidatorJSON struct {
	Address        string  `json:"address"`
	LastSealedSlot *uint64 `json:"last_sealed_slot"`
	LastVoteEpoch  *uint64 `json:"last_vote_epoch"`
	LedSlots       int     `json:"led_slots"`
	MissedSlots    int     `json:"missed_slots"`
	MissedVotes    int     `json:"missed_votes"`
	Evidence       int     `json:"evidence"`
}

// ValidatorsJSON is GET /validators.
type ValidatorsJSON struct {
	Slot       uint64          `json:"slot"`
	WindowFrom uint64          `json:"window_from"`
	WindowTo   uint64          `json:"window_to"`
	Validators []ValidatorJSON `json:"validators"`
}

func checkpointJSON(c types.Checkpoint) CheckpointJSON {
	return CheckpointJSON{Epoch: c.Epoch, ID: c.ID.String()}
}

// VoteToJSON renders a signed vote.
func VoteToJSON(v *types.Vote) VoteJSON {
	return VoteJSON{
		ID: v.ID().String(), Version: v.Version, ChainID: v.ChainID.String(),
		Source: checkpointJSON(v.Source), Target: checkpointJSON(v.Target), Voter: v.Voter.String(),
		VoterKey: hex.EncodeToString(v.VoterKey), Signature: hex.EncodeToString(v.Signature),
		Encoding: hex.EncodeToString(v.Encode(nil)), Unsigned: hex.EncodeToString(v.EncodeUnsigned(nil)),
	}
}

// CertificateToJSON renders a certificate.
func CertificateToJSON(c *types.Certificate) CertificateJSON {
	j := CertificateJSON{ID: c.Header.ID().String(), Header: HeaderToJSON(&c.Header),
		HeaderHex: hex.EncodeToString(c.Header.Encode(nil)), Votes: make([]VoteJSON, len(c.Votes)),
		Raw: hex.EncodeToString(c.Encode(nil))}
	for i, v := range c.Votes {
		j.Votes[i] = VoteToJSON(v)
	}
	if len(c.Votes) > 0 {
		j.Source, j.Target = checkpointJSON(c.Votes[0].Source), checkpointJSON(c.Votes[0].Target)
	}
	return j
}

// CertificateFromJSON decodes Raw, trusting nothing else in j; verify the
// result with consensus.VerifyCertificate.
func CertificateFromJSON(j *CertificateJSON) (*types.Certificate, error) {
	raw, err := hex.DecodeString(j.Raw)
	if err != nil {
		return nil, err
	}
	return types.DecodeCertificate(raw)
}

func (s *readRoutes) finality(w http.ResponseWriter, _ *http.Request) {
	f, err := s.read.Finality()
	if err != nil { // ErrProofUnavailable: 503 proof_unavailable (toError)
		s.writeErr(w, err, CodeNotFound)
		return
	}
	out := FinalityJSON{CertificateJSON: CertificateToJSON(f.Cert), Quorum: f.Quorum, Miners: f.Miners,
		Justified: make([]CheckpointJSON, len(f.Justified))}
	for i, c := range f.Justified {
		out.Justified[i] = checkpointJSON(c)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *readRoutes) validators(w http.ResponseWriter, _ *http.Request) {
	vs := s.read.Validators()
	out := ValidatorsJSON{Slot: vs.Slot, WindowFrom: vs.WindowFrom, WindowTo: vs.WindowTo,
		Validators: make([]ValidatorJSON, len(vs.Validators))}
	for i, v := range vs.Validators {
		out.Validators[i] = ValidatorJSON{Address: v.Address.String(), LastSealedSlot: v.LastSealedSlot,
			LastVoteEpoch: v.LastVoteEpoch, LedSlots: v.LedSlots, MissedSlots: v.MissedSlots,
			MissedVotes: v.MissedVotes, Evidence: v.Evidence}
	}
	writeJSON(w, http.StatusOK, out)
}

func voteOffencesJSON(os []VoteOffence) []VoteOffenceJSON {
	out := make([]VoteOffenceJSON, len(os))
	for i, o := range os {
		out[i] = VoteOffenceJSON{Kind: o.Kind, Voter: o.Voter.String(), A: VoteToJSON(o.A), B: VoteToJSON(o.B)}
	}
	return out
}
