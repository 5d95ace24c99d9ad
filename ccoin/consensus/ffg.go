package consensus

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// Vote errors. ErrBadVote is an offence by whoever relayed the vote (an
// honest node checks before relaying); the others are not.
var (
	ErrBadVote          = errors.New("invalid vote")
	ErrVoteKnown        = errors.New("vote already known")
	ErrVoteStale        = errors.New("vote target at or below the final epoch")
	ErrVoteFarFuture    = errors.New("vote target epoch too far ahead of the local clock")
	ErrVoteUnknownBlock = errors.New("vote names a block this node does not have")
	ErrBadCertificate   = errors.New("invalid finality certificate")
)

// HeaderReader is what finality needs from the block store: headers by
// id, to check a vote's blocks and their ancestry.
type HeaderReader interface {
	Header(id types.Hash) (*types.Header, error)
}

// VoteAuth checks that a vote's voter signed it. Production uses the
// voter's RSA-PSS signature (RSAVotes); the simulator substitutes a cheaper
// scheme so that it can run thousands of schedules, since the finality
// rules it tests do not depend on how a vote is authenticated.
type VoteAuth interface {
	Verify(v *types.Vote) error
}

// RSAVotes checks votes' RSA-PSS signatures.
type RSAVotes struct{ Keys *crypto.KeyCache }

// Verify implements VoteAuth.
func (a RSAVotes) Verify(v *types.Vote) error { return v.VerifySignature(a.Keys) }

// VoteDB keeps what finality must remember across restarts. chain.VoteStore
// implements it in the node's database; nil keeps nothing (tests).
type VoteDB interface {
	PutVote(v *types.Vote) error
	PutJustified(cp types.Checkpoint, votes []*types.Vote) error
	PutCertificate(c *types.Certificate) error
	PutOffence(o Offence) error
	PruneVotes(finalEpoch uint64) error
	Load() (StoredFinality, error)
}

// StoredFinality is what VoteDB.Load returns.
type StoredFinality struct {
	Cert      *types.Certificate
	Justified map[types.Checkpoint][]*types.Vote
	Votes     []*types.Vote
	Offences  []Offence
}

// Offence is evidence that a validator broke the voting rule: two votes of
// one voter with one target epoch and different targets (double), or one
// whose epochs strictly surround the other's (surround).
type Offence struct {
	Kind  string // "double_vote" or "surround_vote"
	Voter crypto.Address
	A, B  *types.Vote
}

type link struct{ src, tgt types.Checkpoint }

type linkVotes struct {
	votes  []*types.Vote
	voters map[crypto.Address]bool
}

// Finality is Casper FFG over slots (DESIGN section 5): it holds the valid
// votes above the final epoch, derives justified and final checkpoints from
// quorum links, keeps the newest finality certificate, and records voting
// offences. It is safe for concurrent use.
//
// What it persists (through VoteDB) lets a restarted node resume: every
// valid vote above the final epoch, every justified checkpoint above it,
// the newest certificate and the evidence.
type Finality struct {
	g      *genesis.Genesis
	auth   VoteAuth
	hdr    HeaderReader
	db     VoteDB
	log    hclog.Logger
	quorum int

	mu          sync.Mutex
	final       types.Checkpoint
	cert        *types.Certificate
	justified   map[types.Checkpoint]bool
	justifiedBy map[types.Checkpoint]link
	links       map[link]*linkVotes
	from        map[types.Checkpoint][]link // links by source
	byVoter     map[crypto.Address][]*types.Vote
	pending     []*types.Vote // naming blocks not yet here
	offences    []Offence
}

// maxPending bounds votes held for missing blocks, like orphan blocks.
const maxPending = 4096

// FinalityConfig wires a Finality.
type FinalityConfig struct {
	Genesis *genesis.Genesis
	Auth    VoteAuth
	Headers HeaderReader
	DB      VoteDB
	Logger  hclog.Logger
}

// NewFinality loads the finality state from db (empty: the genesis
// checkpoint is justified and final).
func NewFinality(cfg FinalityConfig) (*Finality, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	f := &Finality{
		g: cfg.Genesis, auth: cfg.Auth, hdr: cfg.Headers, db: cfg.DB, log: cfg.Logger,
		quorum:      cfg.Genesis.Quorum,
		justified:   make(map[types.Checkpoint]bool),
		justifiedBy: make(map[types.Checkpoint]link),
		links:       make(map[link]*linkVotes),
		from:        make(map[types.Checkpoint][]link),
		byVoter:     make(map[crypto.Address][]*types.Vote),
	}
	f.final = types.Checkpoint{Epoch: 0, ID: cfg.Genesis.ChainID}
	f.justified[f.final] = true
	if err := f.load(); err != nil {
		return nil, err
	}
	return f, nil
}

// load restores the certificate, the justified checkpoints with the votes
// that justified them, the votes above the final epoch and the evidence.
func (f *Finality) load() error {
	if f.db == nil {
		return nil
	}
	st, err := f.db.Load()
	if err != nil {
		return fmt.Errorf("load finality: %w", err)
	}
	if st.Cert != nil {
		cp, err := VerifyCertificate(f.g, f.auth, st.Cert)
		if err != nil {
			return fmt.Errorf("load finality: stored %w", err)
		}
		f.final, f.cert = cp, st.Cert
		f.justified = map[types.Checkpoint]bool{cp: true}
	}
	f.offences = st.Offences
	for cp, votes := range st.Justified {
		if cp.Epoch <= f.final.Epoch {
			continue
		}
		f.justified[cp] = true
		if len(votes) > 0 {
			l := link{votes[0].Source, cp}
			f.justifiedBy[cp] = l
			f.addLink(l, votes)
		}
	}
	for _, v := range st.Votes {
		if v.Target.Epoch <= f.final.Epoch {
			continue
		}
		f.byVoter[v.Voter] = append(f.byVoter[v.Voter], v)
		f.addLink(link{v.Source, v.Target}, []*types.Vote{v})
	}
	// Links whose sources were justified before the restart count again.
	var ch Change
	for l := range f.links {
		if err := f.evaluate(l, &ch); err != nil {
			return err
		}
	}
	return nil
}

// addLink counts votes for a link, once per voter.
func (f *Finality) addLink(l link, votes []*types.Vote) *linkVotes {
	lv := f.links[l]
	if lv == nil {
		lv = &linkVotes{voters: make(map[crypto.Address]bool)}
		f.links[l] = lv
		f.from[l.src] = append(f.from[l.src], l)
	}
	for _, v := range votes {
		if !lv.voters[v.Voter] {
			lv.voters[v.Voter] = true
			lv.votes = append(lv.votes, v)
		}
	}
	return lv
}

// Final returns the newest final checkpoint.
func (f *Finality) Final() types.Checkpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.final
}

// Certificate returns the newest finality certificate (nil before the
// first finality after genesis).
func (f *Finality) Certificate() *types.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cert
}

// JustifiedBlocks maps each block that is the block of a justified
// checkpoint at or above the final epoch to the highest such epoch: what
// fork choice needs.
func (f *Finality) JustifiedBlocks() map[types.Hash]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[types.Hash]uint64, len(f.justified))
	for cp := range f.justified {
		if e, ok := out[cp.ID]; !ok || cp.Epoch > e {
			out[cp.ID] = cp.Epoch
		}
	}
	return out
}

// Justified lists the justified checkpoints at or above the final epoch.
func (f *Finality) Justified() []types.Checkpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]types.Checkpoint, 0, len(f.justified))
	for cp := range f.justified {
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b types.Checkpoint) int {
		if a.Epoch != b.Epoch {
			return int(int64(a.Epoch) - int64(b.Epoch))
		}
		return slices.Compare(a.ID[:], b.ID[:])
	})
	return out
}

// IsJustified reports whether cp is a known justified checkpoint.
func (f *Finality) IsJustified(cp types.Checkpoint) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.justified[cp] || cp == f.final
}

// Justification returns the votes of the quorum link that justified cp, so
// a peer that lacks that evidence can check it (nil if unknown or final).
func (f *Finality) Justification(cp types.Checkpoint) []*types.Vote {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.justifiedBy[cp]
	if !ok {
		return nil
	}
	if lv := f.links[l]; lv != nil {
		return slices.Clone(lv.votes)
	}
	return nil
}

// Offences returns the voting offences recorded since start or load.
func (f *Finality) Offences() []Offence {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.offences)
}

// Change says what a vote or certificate changed.
type Change struct {
	Justified []types.Checkpoint // newly justified
	Final     bool               // the final checkpoint advanced
	Offence   *Offence
	// Counted lists held votes that Retry counted now their blocks are
	// here: the caller relays them, as it relays any valid vote once.
	Counted []*types.Vote
	// NeedSource is set when the vote counted but its source is not known
	// as justified: the caller should ask the sender for its justification.
	NeedSource *types.Checkpoint
}

// AddVote checks a vote and counts it. nowSlot is the local clock's slot.
// ErrVoteUnknownBlock means the vote is held until Retry finds its blocks.
func (f *Finality) AddVote(v *types.Vote, nowSlot uint64) (Change, error) {
	if err := f.precheck(v, nowSlot); err != nil {
		return Change{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(v, true)
}

// precheck does the checks that need no state, the signature last.
func (f *Finality) precheck(v *types.Vote, nowSlot uint64) error {
	switch {
	case v.Version != types.VoteVersion:
		return fmt.Errorf("%w: version %d", ErrBadVote, v.Version)
	case v.ChainID != f.g.ChainID:
		return fmt.Errorf("%w: chain id %s", ErrBadVote, v.ChainID)
	case !f.g.IsMiner(v.Voter):
		return fmt.Errorf("%w: voter %s is not a miner", ErrBadVote, v.Voter)
	case v.Source.Epoch >= v.Target.Epoch:
		return fmt.Errorf("%w: source epoch %d not below target epoch %d", ErrBadVote, v.Source.Epoch, v.Target.Epoch)
	case v.Target.Epoch > nowSlot+MaxFutureSlots:
		return fmt.Errorf("%w: target epoch %d, local slot %d", ErrVoteFarFuture, v.Target.Epoch, nowSlot)
	}
	if err := f.auth.Verify(v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadVote, err)
	}
	return nil
}

func (f *Finality) addLocked(v *types.Vote, persist bool) (Change, error) {
	var ch Change
	if v.Target.Epoch <= f.final.Epoch {
		return ch, ErrVoteStale
	}
	for _, o := range f.byVoter[v.Voter] {
		if o.Source == v.Source && o.Target == v.Target {
			return ch, ErrVoteKnown
		}
	}
	src, err1 := f.hdr.Header(v.Source.ID)
	tgt, err2 := f.hdr.Header(v.Target.ID)
	if err1 != nil || err2 != nil {
		if len(f.pending) < maxPending && !slices.ContainsFunc(f.pending, func(p *types.Vote) bool { return p.ID() == v.ID() }) {
			f.pending = append(f.pending, v)
		}
		return ch, ErrVoteUnknownBlock
	}
	if src.Slot > v.Source.Epoch || tgt.Slot > v.Target.Epoch {
		return ch, fmt.Errorf("%w: a block's slot is above its checkpoint's epoch", ErrBadVote)
	}
	anc, err := f.isAncestor(v.Source.ID, src, v.Target.ID, tgt)
	if err != nil {
		return ch, err
	}
	if !anc {
		return ch, fmt.Errorf("%w: source %s is not an ancestor of target %s", ErrBadVote, v.Source, v.Target)
	}
	// Offences are recorded; the vote still counts (safety rests on the
	// fault bound, and the evidence names who broke it).
	for _, o := range f.byVoter[v.Voter] {
		kind := ""
		switch {
		case o.Target.Epoch == v.Target.Epoch && o.Target.ID != v.Target.ID:
			kind = "double_vote"
		case surrounds(o, v) || surrounds(v, o):
			kind = "surround_vote"
		}
		if kind != "" {
			off := Offence{Kind: kind, Voter: v.Voter, A: o, B: v}
			f.offences = append(f.offences, off)
			ch.Offence = &off
			f.log.Warn("voting offence", "kind", kind, "voter", v.Voter, "a", o.Source.String()+"->"+o.Target.String(),
				"b", v.Source.String()+"->"+v.Target.String())
			if f.db != nil {
				_ = f.db.PutOffence(off)
			}
			break
		}
	}
	f.byVoter[v.Voter] = append(f.byVoter[v.Voter], v)
	if persist && f.db != nil {
		if err := f.db.PutVote(v); err != nil {
			return ch, err
		}
	}
	l := link{v.Source, v.Target}
	f.addLink(l, []*types.Vote{v})
	if !f.justified[v.Source] {
		src := v.Source
		ch.NeedSource = &src
		return ch, nil
	}
	if err := f.evaluate(l, &ch); err != nil {
		return ch, err
	}
	return ch, nil
}

func surrounds(a, b *types.Vote) bool {
	return a.Source.Epoch < b.Source.Epoch && b.Target.Epoch < a.Target.Epoch
}

// isAncestor reports whether block a is b or an ancestor of b.
func (f *Finality) isAncestor(aID types.Hash, a *types.Header, bID types.Hash, b *types.Header) (bool, error) {
	for b.Number > a.Number {
		bID = b.Parent
		var err error
		if b, err = f.hdr.Header(bID); err != nil {
			return false, fmt.Errorf("%w: ancestor %s: %w", ErrVoteUnknownBlock, bID, err)
		}
	}
	return bID == aID, nil
}

// evaluate justifies a link's target when its source is justified and it
// has a quorum, then everything that follows from that, recursively.
func (f *Finality) evaluate(l link, ch *Change) error {
	work := []link{l}
	for len(work) > 0 {
		l := work[len(work)-1]
		work = work[:len(work)-1]
		lv := f.links[l]
		if lv == nil || len(lv.voters) < f.quorum || !f.justified[l.src] || l.tgt.Epoch <= f.final.Epoch {
			continue
		}
		// A quorum link between consecutive epochs finalizes its source,
		// whether or not another link justified its target first.
		if l.tgt.Epoch == l.src.Epoch+1 && l.src.Epoch > f.final.Epoch {
			if err := f.finalize(l.src, lv.votes); err != nil {
				return err
			}
			ch.Final = true
		}
		if f.justified[l.tgt] {
			continue
		}
		f.justified[l.tgt] = true
		f.justifiedBy[l.tgt] = l
		ch.Justified = append(ch.Justified, l.tgt)
		if f.db != nil {
			if err := f.db.PutJustified(l.tgt, lv.votes); err != nil {
				return err
			}
		}
		work = append(work, f.from[l.tgt]...)
	}
	return nil
}

// finalize makes cp final with the link votes as its certificate and
// prunes what lies at or below it.
func (f *Finality) finalize(cp types.Checkpoint, votes []*types.Vote) error {
	h, err := f.hdr.Header(cp.ID)
	if err != nil {
		return fmt.Errorf("final block %s: %w", cp.ID, err)
	}
	cert := &types.Certificate{Header: *h, Votes: slices.Clone(votes)}
	if f.db != nil {
		if err := f.db.PutCertificate(cert); err != nil {
			return err
		}
	}
	f.final, f.cert = cp, cert
	f.prune()
	f.log.Debug("finalized", "checkpoint", cp.String())
	return nil
}

// prune drops votes, links and justifications at or below the final epoch
// (the final checkpoint itself stays justified).
func (f *Finality) prune() {
	fe := f.final.Epoch
	for cp := range f.justified {
		if cp.Epoch < fe || (cp.Epoch == fe && cp != f.final) {
			delete(f.justified, cp)
			delete(f.justifiedBy, cp)
		}
	}
	f.justified[f.final] = true
	for l := range f.links {
		if l.tgt.Epoch <= fe {
			delete(f.links, l)
		}
	}
	for src, ls := range f.from {
		ls = slices.DeleteFunc(ls, func(l link) bool { return l.tgt.Epoch <= fe })
		if len(ls) == 0 {
			delete(f.from, src)
		} else {
			f.from[src] = ls
		}
	}
	for a, vs := range f.byVoter {
		vs = slices.DeleteFunc(vs, func(v *types.Vote) bool { return v.Target.Epoch <= fe })
		if len(vs) == 0 {
			delete(f.byVoter, a)
		} else {
			f.byVoter[a] = vs
		}
	}
	f.pending = slices.DeleteFunc(f.pending, func(v *types.Vote) bool { return v.Target.Epoch <= fe })
	if f.db != nil {
		_ = f.db.PruneVotes(fe)
	}
}

// Retry counts held votes whose blocks have arrived.
func (f *Finality) Retry() (Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var total Change
	held := f.pending
	f.pending = nil
	for _, v := range held {
		ch, err := f.addLocked(v, true)
		switch {
		case errors.Is(err, ErrVoteUnknownBlock), errors.Is(err, ErrVoteKnown), errors.Is(err, ErrVoteStale):
		case errors.Is(err, ErrBadVote):
			f.log.Warn("held vote turned out invalid", "voter", v.Voter, "error", err)
		case err != nil:
			return total, err
		}
		if err == nil {
			total.Counted = append(total.Counted, v)
		}
		total.Justified = append(total.Justified, ch.Justified...)
		total.Final = total.Final || ch.Final
	}
	return total, nil
}

// HasPending reports whether votes wait for blocks.
func (f *Finality) HasPending() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending) > 0
}

// VerifyCertificate checks a certificate with the genesis alone: every
// signature, every voter a miner, distinct voters reaching the quorum, one
// link between consecutive epochs whose source is the header's block. It
// returns the final checkpoint.
func VerifyCertificate(g *genesis.Genesis, auth VoteAuth, c *types.Certificate) (types.Checkpoint, error) {
	if c == nil || len(c.Votes) == 0 {
		return types.Checkpoint{}, fmt.Errorf("%w: %w: no votes", ErrBadCertificate, CheckVotes)
	}
	id := c.Header.ID()
	if c.Header.ChainID != g.ChainID && !c.Header.IsGenesis() {
		return types.Checkpoint{}, fmt.Errorf("%w: %w: header of another chain", ErrBadCertificate, CheckChain)
	}
	first := c.Votes[0]
	src, tgt := first.Source, first.Target
	switch {
	case src.ID != id:
		return types.Checkpoint{}, fmt.Errorf("%w: %w: votes' source %s is not the header's block %s", ErrBadCertificate, CheckHeaderID, src.ID, id)
	case tgt.Epoch != src.Epoch+1:
		return types.Checkpoint{}, fmt.Errorf("%w: %w: epochs %d -> %d are not consecutive", ErrBadCertificate, CheckEpochs, src.Epoch, tgt.Epoch)
	case c.Header.Slot > src.Epoch:
		return types.Checkpoint{}, fmt.Errorf("%w: %w: block slot %d above epoch %d", ErrBadCertificate, CheckHeaderID, c.Header.Slot, src.Epoch)
	}
	voters := make(map[crypto.Address]bool)
	for i, v := range c.Votes {
		switch {
		case v.Source != src || v.Target != tgt:
			return types.Checkpoint{}, fmt.Errorf("%w: %w: vote %d is for another link", ErrBadCertificate, CheckLink, i)
		case v.Version != types.VoteVersion || v.ChainID != g.ChainID:
			return types.Checkpoint{}, fmt.Errorf("%w: %w: vote %d: version or chain id", ErrBadCertificate, CheckChain, i)
		case !g.IsMiner(v.Voter):
			return types.Checkpoint{}, fmt.Errorf("%w: %w: vote %d: voter %s is not a miner", ErrBadCertificate, CheckMiner, i, v.Voter)
		case voters[v.Voter]:
			return types.Checkpoint{}, fmt.Errorf("%w: %w: vote %d: voter %s counted twice", ErrBadCertificate, CheckDistinct, i, v.Voter)
		}
		if err := auth.Verify(v); err != nil {
			return types.Checkpoint{}, fmt.Errorf("%w: %w: vote %d: %w", ErrBadCertificate, CheckSignature, i, err)
		}
		voters[v.Voter] = true
	}
	if len(voters) < g.Quorum {
		return types.Checkpoint{}, fmt.Errorf("%w: %w: %d distinct voters, quorum is %d", ErrBadCertificate, CheckQuorum, len(voters), g.Quorum)
	}
	return src, nil
}

// AddCertificate learns finality from a verified certificate, as a
// syncing node does: its source becomes final and justified, its target
// justified. It reports whether the final checkpoint advanced.
func (f *Finality) AddCertificate(c *types.Certificate) (bool, error) {
	cp, err := VerifyCertificate(f.g, f.auth, c)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if cp.Epoch <= f.final.Epoch {
		return false, nil
	}
	if f.db != nil {
		if err := f.db.PutCertificate(c); err != nil {
			return false, err
		}
	}
	f.final, f.cert = cp, c
	f.prune()
	// The certificate's link also justifies its target; whatever stored
	// links start there may now count.
	tgt := c.Votes[0].Target
	l := link{cp, tgt}
	f.addLink(l, c.Votes)
	var ch Change
	if err := f.evaluate(l, &ch); err != nil {
		return true, err
	}
	return true, nil
}
