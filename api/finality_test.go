package api_test

import (
	"testing"

	"ccoin/api"
	"ccoin/ccoin/types"
)

func TestFinalityRoutes(t *testing.T) {
	e := newEnv(t)
	f := e.f
	b2, b3 := f.Canonical(2), f.Canonical(3)
	bob := f.Keys.Bob.Address().String()
	runCases(t, e, []routeCase{
		{name: "finality", method: "GET", path: "/finality", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			j := decode[api.FinalityJSON](t, p)
			checkCertJSON(t, &j.CertificateJSON)
			if j.ID != b2.ID().String() || j.Header.Number != 2 || j.Header.StateRoot != b2.Header.StateRoot.String() ||
				j.Source.Epoch != b2.Header.Slot || j.Target.Epoch != b2.Header.Slot+1 {
				t.Errorf("finality %+v", j)
			}
			if j.Quorum != 2 || j.Miners != 2 || len(j.Justified) != 1 || j.Justified[0].ID != b3.ID().String() {
				t.Errorf("quorum %d of %d, justified %+v", j.Quorum, j.Miners, j.Justified)
			}
		}},
		{name: "evidence with a double vote", method: "GET", path: "/evidence", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			ev := decode[api.EvidenceListJSON](t, p)
			if len(ev.Evidence) != 1 || len(ev.VoteOffences) != 1 {
				t.Fatalf("evidence %+v", ev)
			}
			o := ev.VoteOffences[0]
			if o.Kind != "double_vote" || o.Voter != bob || o.A.Voter != bob || o.B.Voter != bob ||
				o.A.Target.Epoch != o.B.Target.Epoch || o.A.Target.ID == o.B.Target.ID {
				t.Fatalf("offence %+v", o)
			}
			// Both votes are there in full: anyone can check them.
			for _, v := range []api.VoteJSON{o.A, o.B} {
				d, err := types.DecodeVote(mustHex(t, v.Encoding))
				if err != nil || d.VerifySignature(nil) != nil || d.ID().String() != v.ID {
					t.Fatalf("vote %+v does not check: %v", v, err)
				}
			}
		}},
		{name: "validators", method: "GET", path: "/validators", status: 200, check: func(t *testing.T, _ *env, p []byte) {
			j := decode[api.ValidatorsJSON](t, p)
			if len(j.Validators) != 2 || j.Validators[0].Address != f.Keys.Node.Address().String() || j.Validators[1].Address != bob {
				t.Fatalf("validators %+v", j)
			}
			if j.Validators[0].LastSealedSlot == nil || j.Validators[1].LastSealedSlot != nil || j.Validators[1].MissedSlots != 2 {
				t.Errorf("validators %+v", j)
			}
		}},
	})

	// Without a certificate there is nothing to prove finality with.
	f.SetNoCertificate(true)
	alice := f.Keys.Alice.Address().String()
	runCases(t, e, []routeCase{
		{name: "finality without a certificate", method: "GET", path: "/finality", status: 503, code: "proof_unavailable"},
		{name: "proof without a certificate", method: "GET", path: "/accounts/" + alice + "?proof=true", status: 503, code: "proof_unavailable"},
	})
}
