package node

import (
	"testing"
	"time"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/types"
)

// The vote record is bounded: a ring of voteRing epochs per miner.
func TestVoteActivityRing(t *testing.T) {
	var a voteActivity
	m := crypto.Address{1}
	for _, e := range []uint64{3, 4, 7, 7 + voteRing} {
		a.note(&types.Vote{Voter: m, Target: types.Checkpoint{Epoch: e}}, 5)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	last, voted := a.snapshot(m)
	if last == nil || *last != 7+voteRing || a.since != 5 {
		t.Fatalf("last %v since %d", last, a.since)
	}
	for e, want := range map[uint64]bool{3: true, 4: true, 5: false, 7: false, 7 + voteRing: true} {
		if voted(e) != want {
			t.Errorf("voted(%d) = %v, want %v", e, !want, want)
		}
	}
	if l, v := a.snapshot(crypto.Address{2}); l != nil || v(3) {
		t.Fatal("a miner never seen has votes")
	}
}

// A live network: the basic node's /validators view shows every miner
// sealing and voting, then the stopped one missing its slots and votes;
// its certificate, account proofs and snapshots verify from the genesis.
func TestValidatorsAndFinalityOnLiveNetwork(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	vals := c.validators(validatorKeys(t))
	basic := c.add("D", TypeBasic, outsiderKey(t))
	all := append(vals, basic)
	for _, n := range all {
		n.start()
	}
	waitPeers(t, all...)
	waitFor(t, 30*time.Second, "a certificate of the final block on D", func() bool {
		_, err := basic.N().apiReader().Finality()
		return err == nil && basic.finalized() >= 3
	})
	b := basic.N().apiReader()
	waitFor(t, 20*time.Second, "D saw every miner seal and vote", func() bool {
		for _, v := range b.Validators().Validators {
			if v.LastSealedSlot == nil || v.LastVoteEpoch == nil {
				return false
			}
		}
		return true
	})

	// The certificate and an account proof verify from the genesis alone.
	f, err := b.Finality()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consensus.VerifyCertificate(c.g, consensus.RSAVotes{}, f.Cert); err != nil {
		t.Fatalf("certificate: %v", err)
	}
	user := userKeys(t)[0].Address()
	waitFor(t, 10*time.Second, "an account proof", func() bool {
		p, err := b.AccountProof(user)
		if err != nil {
			return false
		}
		sp := &snapshot.AccountProof{Address: user, Found: p.Found, Account: types.Account{Balance: p.Balance, Nonce: p.Nonce}, Cert: p.Certificate}
		for _, s := range p.Siblings {
			sp.Proof.Siblings = append(sp.Proof.Siblings, s)
		}
		if _, err := snapshot.VerifyAccount(c.g, sp); err != nil {
			t.Fatalf("account proof: %v", err)
		}
		return true
	})

	// C goes offline: it misses its slots and its votes from now on.
	off := vals[2]
	off.stop()
	stopSlot := basic.N().nowSlot()
	waitFor(t, 30*time.Second, "C's missed slots and votes counted", func() bool {
		v := b.Validators()
		return v.WindowTo >= stopSlot+6
	})
	vs := b.Validators()
	if len(vs.Validators) != 3 {
		t.Fatalf("%d validators", len(vs.Validators))
	}
	for i, v := range vs.Validators {
		if v.Address != c.g.Miners[i] {
			t.Fatalf("validator %d is %s, schedule says %s", i, v.Address, c.g.Miners[i])
		}
		t.Logf("%s: last sealed %v, last vote %v, led %d, missed %d slots and %d votes, evidence %d",
			v.Address, deref(v.LastSealedSlot), deref(v.LastVoteEpoch), v.LedSlots, v.MissedSlots, v.MissedVotes, v.Evidence)
		if v.Address == off.key.Address() {
			if v.MissedSlots < 1 || v.MissedVotes < 5 || *v.LastVoteEpoch > stopSlot+1 {
				t.Errorf("the stopped validator is not shown offline: %+v", v)
			}
			continue
		}
		if v.MissedVotes > v.LedSlots+3 && v.MissedVotes > (int(vs.WindowTo-vs.WindowFrom)+1)/3 {
			t.Errorf("a running validator missed %d votes: %+v", v.MissedVotes, v)
		}
		if *v.LastVoteEpoch+3 < vs.WindowTo {
			t.Errorf("a running validator's last vote is at %d, window ends at %d", *v.LastVoteEpoch, vs.WindowTo)
		}
	}
}

func deref(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}
