package consensus

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

var update = flag.Bool("update", false, "rewrite testdata/finality-vectors.json (deterministic)")

const finalityVectorsPath = "../../testdata/finality-vectors.json"

// FinalityVectors is testdata/finality-vectors.json (PROTOCOL.md section
// 10.1): votes and a finality certificate on the devnet genesis, and votes
// and certificates a node refuses, each with the reason.
type FinalityVectors struct {
	Comment string `json:"comment"`
	Genesis struct {
		Comment  string   `json:"comment"`
		ChainID  string   `json:"chain_id"`
		Miners   []string `json:"miners"`
		Finality string   `json:"finality"`
		Quorum   int      `json:"quorum"`
	} `json:"genesis"`
	Block struct {
		Comment        string `json:"comment"`
		ID             string `json:"id"`
		Number         uint64 `json:"number"`
		Slot           uint64 `json:"slot"`
		HeaderEncoding string `json:"header_encoding_hex"`
	} `json:"block"`
	Vote          FinalityVote      `json:"vote"`
	Justification []string          `json:"justification_hex"`
	Certificate   FinalityCert      `json:"certificate"`
	RefusedVotes  []FinalityRefuse  `json:"refused_votes"`
	RefusedCerts  []FinalityRefuse  `json:"refused_certificates"`
	Offences      []FinalityOffence `json:"offences"`
}

// FinalityOffence is two valid votes of one voter that break the voting
// rule; a node records them as evidence (and still counts both).
type FinalityOffence struct {
	Comment string `json:"comment"`
	Kind    string `json:"kind"` // "double_vote" or "surround_vote"
	First   string `json:"first_hex"`
	Second  string `json:"second_hex"`
}

// FinalityVote is one signed vote with every intermediate value.
type FinalityVote struct {
	Comment          string `json:"comment"`
	Version          uint64 `json:"version"`
	ChainID          string `json:"chain_id"`
	SourceEpoch      uint64 `json:"source_epoch"`
	SourceID         string `json:"source_id"`
	TargetEpoch      uint64 `json:"target_epoch"`
	TargetID         string `json:"target_id"`
	Voter            string `json:"voter"`
	UnsignedEncoding string `json:"unsigned_encoding_hex"`
	ID               string `json:"id"`
	VoterKey         string `json:"voter_key_der_base64"`
	Signature        string `json:"signature_base64"`
	SignedEncoding   string `json:"signed_encoding_hex"`
}

// FinalityCert is a certificate, its parts and what it proves.
type FinalityCert struct {
	Comment     string   `json:"comment"`
	Header      string   `json:"header_encoding_hex"`
	Votes       []string `json:"votes_hex"`
	Encoding    string   `json:"encoding_hex"`
	FinalEpoch  uint64   `json:"final_epoch"`
	FinalID     string   `json:"final_id"`
	FinalNumber uint64   `json:"final_number"`
}

// FinalityRefuse is a vote or certificate encoding that a node refuses.
// Reason names the rule; "malformed" means the decoder refuses it.
type FinalityRefuse struct {
	Comment  string `json:"comment"`
	Reason   string `json:"reason"`
	Encoding string `json:"encoding_hex"`
}

// The reasons and what the Go error says for each: the test checks both
// the error kind and this text.
var voteReasons = map[string]string{
	"malformed":               "",
	"wrong_version":           "version",
	"wrong_chain":             "chain id",
	"voter_not_miner":         "is not a miner",
	"source_not_below_target": "not below target epoch",
	"bad_signature":           "bad vote signature",
	"slot_above_epoch":        "slot is above its checkpoint's epoch",
	"source_not_ancestor":     "is not an ancestor of target",
}

var certReasons = map[string]string{
	"malformed":           "",
	"no_votes":            "no votes",
	"source_not_header":   "is not the header's block",
	"non_consecutive":     "are not consecutive",
	"slot_above_epoch":    "above epoch",
	"mixed_links":         "is for another link",
	"voter_not_miner":     "is not a miner",
	"duplicate_voter":     "counted twice",
	"bad_signature":       "bad vote signature",
	"too_few_voters":      "distinct voters, quorum is",
	"header_wrong_chain":  "header of another chain",
	"vote_wrong_chain_id": "version or chain id",
}

// headerMap is a HeaderReader over a fixed set of headers.
type headerMap map[types.Hash]*types.Header

func (m headerMap) Header(id types.Hash) (*types.Header, error) {
	if h, ok := m[id]; ok {
		return h, nil
	}
	return nil, fmt.Errorf("no header %s", id)
}

// vectorInputs are the devnet genesis and the valid block 2 of
// testdata/execution-vectors.json, which the finality vectors build on.
func vectorInputs(t *testing.T) (*genesis.Genesis, *types.Block) {
	t.Helper()
	read := func(name string, v any) {
		raw, err := os.ReadFile("../../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	var gv struct {
		Cases []struct {
			GenesisJSON string `json:"genesis_json"`
		} `json:"cases"`
	}
	read("genesis-vectors.json", &gv)
	g, err := genesis.Parse([]byte(gv.Cases[0].GenesisJSON))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Block string `json:"block_hex"`
	}
	read("execution-vectors.json", &ev)
	raw, _ := hex.DecodeString(ev.Block)
	b, err := types.DecodeBlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	if b.Header.ChainID != g.ChainID || b.Header.Parent != g.ChainID {
		t.Fatal("execution vector block is not a child of the devnet genesis")
	}
	return g, b
}

// signVote signs deterministically, as Vote.Sign does with a random salt.
func signVote(k *crypto.PrivateKey, v types.Vote) *types.Vote {
	v.VoterKey = k.Public().DER()
	v.Signature = cryptotest.SignDeterministic(k, v.ID())
	return &v
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func makeFinalityVectors(t *testing.T) FinalityVectors {
	g, b2 := vectorInputs(t)
	keys := cryptotest.VectorKeys(t)
	wallet, miners := keys[0], keys[1:]
	for i, m := range miners {
		if g.Miners[i] != m.Address() {
			t.Fatal("vector keys are not the devnet miners in order")
		}
	}
	id2, gid := b2.ID(), g.ChainID
	s := b2.Header.Slot
	unsigned := func(voter *crypto.PrivateKey, src, tgt types.Checkpoint) types.Vote {
		return types.Vote{Version: types.VoteVersion, ChainID: gid, Source: src, Target: tgt, Voter: voter.Address()}
	}
	genesisCP := types.Checkpoint{Epoch: 0, ID: gid}
	cp1 := types.Checkpoint{Epoch: s, ID: id2}
	cp2 := types.Checkpoint{Epoch: s + 1, ID: id2}

	var v FinalityVectors
	v.Comment = "finality by votes, see PROTOCOL.md section 10.1. Made by `go test ./ccoin/consensus -run TestFinalityVectors -update` " +
		"from the devnet genesis (testdata/genesis-vectors.json case 0), the valid block 2 of testdata/execution-vectors.json " +
		"and the fixed keys (testdata/devnet-keys, testdata/vector-keys); regenerate those files first if they change. " +
		"Votes are signed RSA-PSS/SHA-256, MGF1-SHA-256, salt 32 bytes, over the vote id (SHA-256 of the unsigned 7-element " +
		"encoding), with the deterministic salt SHA-256(\"ccoin test vector salt\\x00\" || id) so that regenerating gives " +
		"the same bytes; a verifier must check signatures, never compare their bytes. *_hex is lowercase hex, *_base64 " +
		"standard padded base64."
	v.Genesis.Comment = "the devnet genesis.json: three miners, finality majority, so a quorum is 2 distinct miners"
	v.Genesis.ChainID = gid.String()
	for _, m := range g.Miners {
		v.Genesis.Miners = append(v.Genesis.Miners, m.String())
	}
	v.Genesis.Finality = g.File.Finality
	if v.Genesis.Finality == "" {
		v.Genesis.Finality = "majority"
	}
	v.Genesis.Quorum = g.Quorum
	v.Block.Comment = "block 2 of testdata/execution-vectors.json (slot 1); the checkpoints below name it"
	v.Block.ID, v.Block.Number, v.Block.Slot = id2.String(), b2.Header.Number, s
	v.Block.HeaderEncoding = hexOf(b2.Header.Encode(nil))

	// The first vote any miner casts after block 2: source the genesis
	// checkpoint, target (slot of block 2, block 2).
	just := []*types.Vote{
		signVote(miners[0], unsigned(miners[0], genesisCP, cp1)),
		signVote(miners[1], unsigned(miners[1], genesisCP, cp1)),
	}
	vt := just[0]
	v.Vote = FinalityVote{Comment: "the first devnet miner's vote for the link (0, genesis) -> (1, block 2); with the second " +
		"miner's (justification_hex) it is a quorum link that justifies (1, block 2)",
		Version: vt.Version, ChainID: vt.ChainID.String(), SourceEpoch: vt.Source.Epoch, SourceID: vt.Source.ID.String(),
		TargetEpoch: vt.Target.Epoch, TargetID: vt.Target.ID.String(), Voter: vt.Voter.String(),
		UnsignedEncoding: hexOf(vt.EncodeUnsigned(nil)), ID: vt.ID().String(),
		VoterKey: base64.StdEncoding.EncodeToString(vt.VoterKey), Signature: base64.StdEncoding.EncodeToString(vt.Signature),
		SignedEncoding: hexOf(vt.Encode(nil))}
	for _, x := range just {
		v.Justification = append(v.Justification, hexOf(x.Encode(nil)))
	}

	// The certificate: a quorum link from the justified (1, block 2) to
	// epoch 2. Slot 2 has no block on this chain, so the checkpoint of
	// epoch 2 is block 2 again.
	certVotes := []*types.Vote{
		signVote(miners[0], unsigned(miners[0], cp1, cp2)),
		signVote(miners[1], unsigned(miners[1], cp1, cp2)),
	}
	cert := &types.Certificate{Header: b2.Header, Votes: certVotes}
	v.Certificate = FinalityCert{Comment: "block 2 is final: the first two miners (a quorum of 2) voted (1, block 2) -> (2, block 2), " +
		"consecutive epochs from a justified source. The target may name the source's block: slot 2 is empty on this chain",
		Header: hexOf(b2.Header.Encode(nil)), Encoding: hexOf(cert.Encode(nil)),
		FinalEpoch: cp1.Epoch, FinalID: cp1.ID.String(), FinalNumber: b2.Header.Number}
	for _, x := range certVotes {
		v.Certificate.Votes = append(v.Certificate.Votes, hexOf(x.Encode(nil)))
	}

	refVote := func(comment, reason string, enc []byte) {
		v.RefusedVotes = append(v.RefusedVotes, FinalityRefuse{comment, reason, hexOf(enc)})
	}
	good := vt.Encode(nil)
	refVote("a voter that is not a genesis miner (the vector wallet key), correctly signed", "voter_not_miner",
		signVote(wallet, unsigned(wallet, genesisCP, cp1)).Encode(nil))
	refVote("source epoch equal to the target epoch (1 -> 1, both block 2)", "source_not_below_target",
		signVote(miners[0], unsigned(miners[0], cp1, cp1)).Encode(nil))
	refVote("source epoch above the target epoch (2 -> 1)", "source_not_below_target",
		signVote(miners[0], unsigned(miners[0], cp2, cp1)).Encode(nil))
	bad := *vt
	bad.Signature = certVotes[0].Signature // a valid signature of another vote
	refVote("the signature of another vote by the same miner", "bad_signature", bad.Encode(nil))
	bad = *vt
	bad.VoterKey = miners[1].Public().DER()
	refVote("voter_key of another miner than voter", "bad_signature", bad.Encode(nil))
	x := unsigned(miners[0], genesisCP, cp1)
	x.Version = 2
	refVote("vote version 2", "wrong_version", signVote(miners[0], x).Encode(nil))
	x = unsigned(miners[0], genesisCP, cp1)
	x.ChainID = types.Hash{0x01}
	refVote("another chain id", "wrong_chain", signVote(miners[0], x).Encode(nil))
	refVote("target (3, genesis) with source (1, block 2): block 2 is not an ancestor of the genesis", "source_not_ancestor",
		signVote(miners[0], unsigned(miners[0], cp1, types.Checkpoint{Epoch: 3, ID: gid})).Encode(nil))
	refVote("source (0, block 2): block 2's slot 1 is above epoch 0", "slot_above_epoch",
		signVote(miners[0], unsigned(miners[0], types.Checkpoint{Epoch: 0, ID: id2}, cp2)).Encode(nil))
	refVote("the unsigned 7-element encoding where a signed vote (9 elements) is expected", "malformed", vt.EncodeUnsigned(nil))
	refVote("a trailing byte after a valid vote", "malformed", append(bytes.Clone(good), 0))
	i := bytes.Index(good, append([]byte{0xc4, 0x20}, gid[:]...))
	refVote("chain_id as str 8 (d9) instead of bin 8 (c4)", "malformed", append(append(bytes.Clone(good[:i]), 0xd9), good[i+1:]...))

	refCert := func(comment, reason string, c *types.Certificate) {
		v.RefusedCerts = append(v.RefusedCerts, FinalityRefuse{comment, reason, hexOf(c.Encode(nil))})
	}
	with := func(votes ...*types.Vote) *types.Certificate {
		return &types.Certificate{Header: b2.Header, Votes: votes}
	}
	refCert("one vote: 1 distinct voter, the quorum is 2", "too_few_voters", with(certVotes[0]))
	refCert("the same vote twice: one voter counted twice", "duplicate_voter", with(certVotes[0], certVotes[0]))
	cp3 := types.Checkpoint{Epoch: s + 2, ID: id2}
	refCert("a quorum for (1, block 2) -> (3, block 2): epochs not consecutive (it justifies, it does not finalize)", "non_consecutive",
		with(signVote(miners[0], unsigned(miners[0], cp1, cp3)), signVote(miners[1], unsigned(miners[1], cp1, cp3))))
	refCert("a quorum whose second vote comes from the vector wallet, not a miner", "voter_not_miner",
		with(certVotes[0], signVote(wallet, unsigned(wallet, cp1, cp2))))
	refCert("the justification of (1, block 2) as a certificate of block 2: its source is the genesis, not the header's block",
		"source_not_header", with(just...))
	refCert("two votes for two different links", "mixed_links", with(certVotes[0], signVote(miners[1], unsigned(miners[1], cp1, cp3))))
	bad = *certVotes[1]
	bad.Signature = certVotes[0].Signature
	refCert("the second vote carries the first vote's signature", "bad_signature", with(certVotes[0], &bad))
	refCert("no votes", "no_votes", with())
	cp0b := types.Checkpoint{Epoch: 0, ID: id2}
	refCert("a quorum for (0, block 2) -> (1, block 2): block 2's slot 1 is above the source epoch 0", "slot_above_epoch",
		with(signVote(miners[0], unsigned(miners[0], cp0b, cp1)), signVote(miners[1], unsigned(miners[1], cp0b, cp1))))
	y0, y1 := unsigned(miners[0], cp1, cp2), unsigned(miners[1], cp1, cp2)
	y0.ChainID, y1.ChainID = types.Hash{0x01}, types.Hash{0x01}
	refCert("a quorum of votes for the right link but another chain id", "vote_wrong_chain_id",
		with(signVote(miners[0], y0), signVote(miners[1], y1)))
	other := b2.Header
	other.ChainID = types.Hash{0x01}
	ocp1, ocp2 := types.Checkpoint{Epoch: s, ID: other.ID()}, types.Checkpoint{Epoch: s + 1, ID: other.ID()}
	refCert("block 2's header with another chain_id (so another id), and a quorum of votes for it", "header_wrong_chain",
		&types.Certificate{Header: other, Votes: []*types.Vote{signVote(miners[0], unsigned(miners[0], ocp1, ocp2)),
			signVote(miners[1], unsigned(miners[1], ocp1, ocp2))}})
	refCert("a certificate with a trailing byte", "malformed", with(certVotes...))
	last := &v.RefusedCerts[len(v.RefusedCerts)-1]
	last.Encoding += "00"

	m2 := miners[2]
	gcp1 := types.Checkpoint{Epoch: s, ID: gid} // the genesis is also a valid checkpoint of epoch 1 (on a chain without block 2)
	v.Offences = append(v.Offences, FinalityOffence{"the third miner votes for two different targets of epoch 1", "double_vote",
		hexOf(signVote(m2, unsigned(m2, genesisCP, cp1)).Encode(nil)), hexOf(signVote(m2, unsigned(m2, genesisCP, gcp1)).Encode(nil))})
	v.Offences = append(v.Offences, FinalityOffence{"the third miner votes 0 -> 3, then 1 -> 2: the first surrounds the second",
		"surround_vote", hexOf(signVote(m2, unsigned(m2, genesisCP, cp3)).Encode(nil)), hexOf(signVote(m2, unsigned(m2, cp1, cp2)).Encode(nil))})
	return v
}

func loadFinalityVectors(t *testing.T) *FinalityVectors {
	t.Helper()
	if *update {
		out, err := json.MarshalIndent(makeFinalityVectors(t), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(finalityVectorsPath, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(finalityVectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var v FinalityVectors
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func mustHexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFinalityVectors(t *testing.T) {
	v := loadFinalityVectors(t)
	// The file is what the generator makes (signatures are deterministic).
	want, _ := json.Marshal(makeFinalityVectors(t))
	got, _ := json.Marshal(v)
	if !bytes.Equal(got, want) {
		t.Fatal("testdata/finality-vectors.json differs from what the code makes; run with -update if intended")
	}
	g, b2 := vectorInputs(t)
	if v.Genesis.ChainID != g.ChainID.String() || v.Genesis.Quorum != g.Quorum || len(v.Genesis.Miners) != len(g.Miners) {
		t.Fatal("genesis section")
	}
	auth := RSAVotes{}
	newFinality := func() *Finality {
		f, err := NewFinality(FinalityConfig{Genesis: g, Auth: auth,
			Headers: headerMap{g.ChainID: &g.Block.Header, b2.ID(): &b2.Header}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	const nowSlot = 100 // every vector's target epoch has started

	t.Run("vote", func(t *testing.T) {
		x := v.Vote
		vt := &types.Vote{Version: x.Version, ChainID: types.Hash(mustHexT(t, x.ChainID)),
			Source: types.Checkpoint{Epoch: x.SourceEpoch, ID: types.Hash(mustHexT(t, x.SourceID))},
			Target: types.Checkpoint{Epoch: x.TargetEpoch, ID: types.Hash(mustHexT(t, x.TargetID))},
			Voter:  crypto.Address(mustHexT(t, x.Voter))}
		if hexOf(vt.EncodeUnsigned(nil)) != x.UnsignedEncoding || vt.ID().String() != x.ID {
			t.Fatal("unsigned encoding or id")
		}
		d, err := types.DecodeVote(mustHexT(t, x.SignedEncoding))
		if err != nil {
			t.Fatal(err)
		}
		if d.ID() != vt.ID() || hexOf(d.Encode(nil)) != x.SignedEncoding ||
			base64.StdEncoding.EncodeToString(d.VoterKey) != x.VoterKey || base64.StdEncoding.EncodeToString(d.Signature) != x.Signature {
			t.Fatal("signed encoding disagrees with the fields")
		}
		if err := d.VerifySignature(nil); err != nil {
			t.Fatal(err)
		}
		if _, err := newFinality().AddVote(d, nowSlot); err != nil {
			t.Fatalf("valid vote refused: %v", err)
		}
	})

	t.Run("certificate", func(t *testing.T) {
		c, err := types.DecodeCertificate(mustHexT(t, v.Certificate.Encoding))
		if err != nil {
			t.Fatal(err)
		}
		if hexOf(c.Encode(nil)) != v.Certificate.Encoding || hexOf(c.Header.Encode(nil)) != v.Certificate.Header ||
			len(c.Votes) != len(v.Certificate.Votes) {
			t.Fatal("certificate does not round-trip")
		}
		for i, vh := range v.Certificate.Votes {
			if hexOf(c.Votes[i].Encode(nil)) != vh {
				t.Fatalf("vote %d", i)
			}
		}
		cp, err := VerifyCertificate(g, auth, c)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Epoch != v.Certificate.FinalEpoch || cp.ID.String() != v.Certificate.FinalID || c.Header.Number != v.Certificate.FinalNumber {
			t.Fatalf("certificate proves %v", cp)
		}
		// The gadget, fed the justification and then the certificate's
		// votes, finalizes the same checkpoint and makes the same bytes.
		f := newFinality()
		for _, raw := range append(append([]string{}, v.Justification...), v.Certificate.Votes...) {
			vote, err := types.DecodeVote(mustHexT(t, raw))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.AddVote(vote, nowSlot); err != nil {
				t.Fatal(err)
			}
		}
		if f.Final() != cp || f.Certificate() == nil || hexOf(f.Certificate().Encode(nil)) != v.Certificate.Encoding {
			t.Fatalf("gadget final %v, certificate %v", f.Final(), f.Certificate())
		}
		// A node that learns it from the certificate alone agrees.
		f = newFinality()
		if ok, err := f.AddCertificate(c); !ok || err != nil || f.Final() != cp {
			t.Fatalf("AddCertificate: %v %v", ok, err)
		}
	})

	t.Run("refused_votes", func(t *testing.T) {
		for _, r := range v.RefusedVotes {
			text, ok := voteReasons[r.Reason]
			if !ok {
				t.Fatalf("%s: unknown reason %q", r.Comment, r.Reason)
			}
			vote, err := types.DecodeVote(mustHexT(t, r.Encoding))
			if r.Reason == "malformed" {
				if !errors.Is(err, types.ErrEncoding) {
					t.Errorf("%s: decode err = %v", r.Comment, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", r.Comment, err)
			}
			_, err = newFinality().AddVote(vote, nowSlot)
			if !errors.Is(err, ErrBadVote) || !strings.Contains(err.Error(), text) {
				t.Errorf("%s: err = %v, want ErrBadVote with %q", r.Comment, err, text)
			}
		}
	})

	t.Run("refused_certificates", func(t *testing.T) {
		for _, r := range v.RefusedCerts {
			text, ok := certReasons[r.Reason]
			if !ok {
				t.Fatalf("%s: unknown reason %q", r.Comment, r.Reason)
			}
			c, err := types.DecodeCertificate(mustHexT(t, r.Encoding))
			if r.Reason == "malformed" {
				if !errors.Is(err, types.ErrEncoding) {
					t.Errorf("%s: decode err = %v", r.Comment, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", r.Comment, err)
			}
			_, err = VerifyCertificate(g, auth, c)
			if !errors.Is(err, ErrBadCertificate) || !strings.Contains(err.Error(), text) {
				t.Errorf("%s: err = %v, want ErrBadCertificate with %q", r.Comment, err, text)
			}
		}
	})

	t.Run("offences", func(t *testing.T) {
		for _, o := range v.Offences {
			f := newFinality()
			var last Change
			for _, raw := range []string{o.First, o.Second} {
				vote, err := types.DecodeVote(mustHexT(t, raw))
				if err != nil {
					t.Fatal(err)
				}
				if last, err = f.AddVote(vote, nowSlot); err != nil {
					t.Fatalf("%s: %v", o.Comment, err)
				}
			}
			if last.Offence == nil || last.Offence.Kind != o.Kind || len(f.Offences()) != 1 {
				t.Errorf("%s: offence %+v", o.Comment, last.Offence)
			}
		}
	})
}
