package consensus

import (
	"errors"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// tree is an in-memory block tree: the HeaderReader finality needs.
type tree struct {
	g   *genesis.Genesis
	hdr map[types.Hash]*types.Header
}

func newTree(g *genesis.Genesis) *tree {
	return &tree{g: g, hdr: map[types.Hash]*types.Header{g.ChainID: &g.Block.Header}}
}

func (t *tree) Header(id types.Hash) (*types.Header, error) {
	if h, ok := t.hdr[id]; ok {
		return h, nil
	}
	return nil, errors.New("unknown block")
}

// add puts a block at slot on parent and returns its id (headers only:
// finality never reads bodies).
func (t *tree) add(parent types.Hash, slot uint64) types.Hash { return t.addAt(parent, slot, 0) }

// addAt is add with the block time ms into the slot, for twin blocks.
func (t *tree) addAt(parent types.Hash, slot, ms uint64) types.Hash {
	p := t.hdr[parent]
	h := &types.Header{Version: types.HeaderVersion, ChainID: t.g.ChainID, Number: p.Number + 1, Parent: parent, Slot: slot,
		Time: t.g.TimeMs + slot*t.g.IntervalMs + ms, Sealer: t.g.Miners[slot%uint64(len(t.g.Miners))]}
	id := h.ID()
	t.hdr[id] = h
	return id
}

// memVotes is a VoteDB and VoteRecord in memory.
type memVotes struct {
	st   StoredFinality
	last *types.Vote
}

func (m *memVotes) PutVote(v *types.Vote) error { m.st.Votes = append(m.st.Votes, v); return nil }
func (m *memVotes) PutJustified(cp types.Checkpoint, votes []*types.Vote) error {
	if m.st.Justified == nil {
		m.st.Justified = map[types.Checkpoint][]*types.Vote{}
	}
	m.st.Justified[cp] = votes
	return nil
}
func (m *memVotes) PutCertificate(c *types.Certificate) error { m.st.Cert = c; return nil }
func (m *memVotes) PutOffence(o Offence) error                { m.st.Offences = append(m.st.Offences, o); return nil }
func (m *memVotes) PruneVotes(uint64) error                   { return nil }
func (m *memVotes) Load() (StoredFinality, error)             { return m.st, nil }
func (m *memVotes) LastVote() (*types.Vote, error)            { return m.last, nil }
func (m *memVotes) SaveVote(v *types.Vote) error              { m.last = v; return nil }

type fixture struct {
	g    *genesis.Genesis
	keys [4]*crypto.PrivateKey
	tr   *tree
	db   *memVotes
	f    *Finality
}

func newFixture(t *testing.T) *fixture {
	g := testGenesis(t, nil)
	fx := &fixture{g: g, keys: testKeys(t), tr: newTree(g), db: &memVotes{}}
	fx.f = fx.open(t)
	return fx
}

func (fx *fixture) open(t *testing.T) *Finality {
	t.Helper()
	f, err := NewFinality(FinalityConfig{Genesis: fx.g, Auth: RSAVotes{}, Headers: fx.tr, DB: fx.db})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (fx *fixture) vote(t *testing.T, voter int, src, tgt types.Checkpoint) *types.Vote {
	t.Helper()
	v := &types.Vote{Version: types.VoteVersion, ChainID: fx.g.ChainID, Source: src, Target: tgt, Voter: fx.keys[voter].Address()}
	if err := v.Sign(fx.keys[voter]); err != nil {
		t.Fatal(err)
	}
	return v
}

func cp(e uint64, id types.Hash) types.Checkpoint { return types.Checkpoint{Epoch: e, ID: id} }

// TestJustifyAndFinalize: two of three miners (majority) justify epoch 1
// from genesis, then link epoch 1 to 2, which makes epoch 1 final with a
// certificate a client can check from the genesis alone.
func TestJustifyAndFinalize(t *testing.T) {
	fx := newFixture(t)
	gen := cp(0, fx.g.ChainID)
	b1 := fx.tr.add(fx.g.ChainID, 1)
	b2 := fx.tr.add(b1, 2)
	add := func(v *types.Vote) Change {
		t.Helper()
		ch, err := fx.f.AddVote(v, 2)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	if ch := add(fx.vote(t, 0, gen, cp(1, b1))); len(ch.Justified) != 0 {
		t.Fatal("one vote of three justified a checkpoint")
	}
	if ch := add(fx.vote(t, 1, gen, cp(1, b1))); len(ch.Justified) != 1 || ch.Final {
		t.Fatalf("quorum link genesis -> 1: %+v", ch)
	}
	if fx.f.Final().Epoch != 0 {
		t.Fatal("epoch 1 final before a link from it")
	}
	add(fx.vote(t, 2, cp(1, b1), cp(2, b2)))
	ch := add(fx.vote(t, 0, cp(1, b1), cp(2, b2)))
	if !ch.Final || fx.f.Final() != cp(1, b1) {
		t.Fatalf("link 1 -> 2 did not finalize epoch 1: %+v, final %v", ch, fx.f.Final())
	}
	got, err := VerifyCertificate(fx.g, RSAVotes{}, fx.f.Certificate())
	if err != nil || got != cp(1, b1) {
		t.Fatalf("certificate: %v %v", got, err)
	}
	// Restart: the final checkpoint, its certificate and epoch 2's
	// justification come back from the store.
	f2 := fx.open(t)
	if f2.Final() != cp(1, b1) || !f2.IsJustified(cp(2, b2)) {
		t.Fatalf("after reload: final %v, epoch 2 justified %v", f2.Final(), f2.IsJustified(cp(2, b2)))
	}
}

func TestVoteChecks(t *testing.T) {
	fx := newFixture(t)
	gen := cp(0, fx.g.ChainID)
	b1 := fx.tr.add(fx.g.ChainID, 1)
	b3 := fx.tr.add(b1, 3)
	other := fx.tr.add(fx.g.ChainID, 2) // a sibling branch of b1
	outsider := func() *types.Vote {
		v := &types.Vote{Version: types.VoteVersion, ChainID: fx.g.ChainID, Source: gen, Target: cp(1, b1), Voter: fx.keys[3].Address()}
		_ = v.Sign(fx.keys[3])
		return v
	}
	forged := fx.vote(t, 0, gen, cp(1, b1))
	forged.Signature[10] ^= 1
	cases := []struct {
		name string
		v    *types.Vote
		want error
	}{
		{"non-miner voter", outsider(), ErrBadVote},
		{"bad signature", forged, ErrBadVote},
		{"source not below target", fx.vote(t, 0, cp(1, b1), cp(1, b1)), ErrBadVote},
		{"block slot above its epoch", fx.vote(t, 0, gen, cp(2, b3)), ErrBadVote},
		{"source not an ancestor", fx.vote(t, 0, cp(2, other), cp(3, b3)), ErrBadVote},
		{"far future target", fx.vote(t, 0, gen, cp(50, b1)), ErrVoteFarFuture},
		{"unknown block is held", fx.vote(t, 0, gen, cp(4, types.Hash{7})), ErrVoteUnknownBlock},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := fx.f.AddVote(c.v, 3); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if !fx.f.HasPending() {
		t.Fatal("the vote naming an unknown block was not held")
	}
}

// TestOffencesRecorded: a double vote and a surround vote are stored as
// evidence with both votes.
func TestOffencesRecorded(t *testing.T) {
	fx := newFixture(t)
	gen := cp(0, fx.g.ChainID)
	b1 := fx.tr.add(fx.g.ChainID, 1)
	c1 := fx.tr.addAt(fx.g.ChainID, 1, 5) // same slot, other block: a second target for epoch 1
	b2 := fx.tr.add(b1, 2)
	b3 := fx.tr.add(b2, 3)
	for _, v := range []*types.Vote{
		fx.vote(t, 0, gen, cp(1, b1)),
		fx.vote(t, 1, gen, cp(1, b1)), // justifies (1, b1)
		fx.vote(t, 0, gen, cp(1, c1)), // double vote by 0
		fx.vote(t, 2, cp(1, b1), cp(2, b2)),
		fx.vote(t, 2, gen, cp(3, b3)), // surrounds 2's 1 -> 2
	} {
		if _, err := fx.f.AddVote(v, 3); err != nil {
			t.Fatal(err)
		}
	}
	off := fx.f.Offences()
	if len(off) != 2 || off[0].Kind != "double_vote" || off[1].Kind != "surround_vote" {
		t.Fatalf("offences %+v", off)
	}
	if len(fx.db.st.Offences) != 2 {
		t.Fatal("offences not persisted")
	}
}

// TestVoterRule: a validator votes once per epoch, never below its last
// vote's target or source, and records the vote before returning it.
func TestVoterRule(t *testing.T) {
	fx := newFixture(t)
	b1 := fx.tr.add(fx.g.ChainID, 1)
	b3 := fx.tr.add(b1, 3)
	vt, err := NewVoter(fx.keys[0].Address(), fx.f, fx.tr, fx.db, KeySigner{Key: fx.keys[0]})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vt.Vote(2, b3) // head b3 (slot 3): epoch 2's checkpoint is b1
	if err != nil || v.Target != cp(2, b1) || v.Source != cp(0, fx.g.ChainID) {
		t.Fatalf("vote %+v, %v", v, err)
	}
	if fx.db.last != v {
		t.Fatal("vote not recorded before it was returned")
	}
	for _, epoch := range []uint64{2, 1} {
		if _, err := vt.Vote(epoch, b3); !errors.Is(err, ErrNoVote) {
			t.Fatalf("epoch %d after voting epoch 2: %v", epoch, err)
		}
	}
	// A restarted voter reloads its record and keeps the rule.
	vt2, err := NewVoter(fx.keys[0].Address(), fx.f, fx.tr, fx.db, KeySigner{Key: fx.keys[0]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vt2.Vote(2, b3); !errors.Is(err, ErrNoVote) {
		t.Fatalf("restarted voter voted epoch 2 again: %v", err)
	}
	if v, err := vt2.Vote(3, b3); err != nil || v.Target != cp(3, b3) {
		t.Fatalf("epoch 3: %+v %v", v, err)
	}
}

func TestVerifyCertificateRefuses(t *testing.T) {
	fx := newFixture(t)
	gen := cp(0, fx.g.ChainID)
	b1 := fx.tr.add(fx.g.ChainID, 1)
	b2 := fx.tr.add(b1, 2)
	hdr := *fx.tr.hdr[b1]
	good := func() *types.Certificate {
		return &types.Certificate{Header: hdr, Votes: []*types.Vote{
			fx.vote(t, 0, cp(1, b1), cp(2, b2)), fx.vote(t, 1, cp(1, b1), cp(2, b2))}}
	}
	if _, err := VerifyCertificate(fx.g, RSAVotes{}, good()); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(c *types.Certificate){
		"too few voters":  func(c *types.Certificate) { c.Votes = c.Votes[:1] },
		"duplicate voter": func(c *types.Certificate) { c.Votes[1] = c.Votes[0] },
		"not consecutive": func(c *types.Certificate) {
			c.Votes = []*types.Vote{fx.vote(t, 0, gen, cp(2, b2)), fx.vote(t, 1, gen, cp(2, b2))}
		},
		"another block":    func(c *types.Certificate) { c.Header = *fx.tr.hdr[b2] },
		"mixed links":      func(c *types.Certificate) { c.Votes[1] = fx.vote(t, 1, cp(1, b1), cp(2, b1)) },
		"forged signature": func(c *types.Certificate) { c.Votes[1].Signature[5] ^= 1 },
		"non-miner voter":  func(c *types.Certificate) { c.Votes[1] = outsiderVote(t, fx, cp(1, b1), cp(2, b2)) },
		"no votes":         func(c *types.Certificate) { c.Votes = nil },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			c := good()
			mod(c)
			if _, err := VerifyCertificate(fx.g, RSAVotes{}, c); !errors.Is(err, ErrBadCertificate) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
		})
	}
}

func outsiderVote(t *testing.T, fx *fixture, src, tgt types.Checkpoint) *types.Vote {
	v := &types.Vote{Version: types.VoteVersion, ChainID: fx.g.ChainID, Source: src, Target: tgt, Voter: fx.keys[3].Address()}
	if err := v.Sign(fx.keys[3]); err != nil {
		t.Fatal(err)
	}
	return v
}
