package node

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"ccoin/api"
	"ccoin/ccoin/chain"
	"ccoin/ccoin/rulekind"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

func TestNotFoundKeepsOneMessage(t *testing.T) {
	err := notFound(fmt.Errorf("%w: no block %d", chain.ErrNotFound, 99999))
	if got, want := err.Error(), "not found: no block 99999"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if !errors.Is(err, api.ErrNotFound) || !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("%v must be both api.ErrNotFound and chain.ErrNotFound", err)
	}
	other := errors.New("disk on fire")
	if notFound(other) != other || notFound(nil) != nil {
		t.Error("other errors must pass through unchanged")
	}
}

// The API's parts over a running node: the reader sees the node's state,
// the submitter pools and counts refusals by rule kind, and the stream's
// subscription ends when cancelled.
func TestBackendParts(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	tn := c.add("N", TypeBasic, outsiderKey(t))
	tn.start()
	waitFor(t, 10*time.Second, "ready", func() bool { return tn.N().SyncState() == StateReady })
	n := tn.N()
	d := n.apiDeps()

	st := d.Reader.Status()
	if st.ChainID != n.Genesis().ChainID.String() || st.Address != n.Address().String() || st.Type != TypeBasic ||
		st.Sync != StateReady || !d.Reader.Ready() {
		t.Fatalf("status %+v", st)
	}
	if raw, err := d.Reader.GenesisFile(); err != nil || len(raw) == 0 {
		t.Fatalf("genesis file: %d bytes, %v", len(raw), err)
	}

	rejected := func(reason string) float64 {
		mfs, err := n.metrics.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "ccoin_rejected_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["kind"] == "tx" && labels["reason"] == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	users := userKeys(t)
	tx := c.transfer(users[0], users[1].Address(), 1, 10)
	if errs := d.Submitter.SubmitVerifiedTxs([]*types.Transaction{tx}); errs[0] != nil {
		t.Fatalf("submit: %v", errs[0])
	}
	if ti, err := d.Reader.Tx(tx.ID()); err != nil || ti.Status != api.TxPending {
		t.Fatalf("tx after submit: %+v %v", ti, err)
	}
	known := rejected(rulekind.Known)
	if errs := d.Submitter.SubmitVerifiedTxs([]*types.Transaction{tx}); !errors.Is(errs[0], txpool.ErrKnown) {
		t.Fatalf("second submit: %v", errs[0])
	}
	if got := rejected(rulekind.Known); got != known+1 {
		t.Errorf("rejected{reason=known} %v, want %v", got, known+1)
	}
	// The outsider's account is empty: the node cannot pay.
	if _, err := d.Submitter.SignAndSubmit(users[1].Address(), 5, nil); rulekind.Of(err) != rulekind.InsufficientFunds {
		t.Fatalf("SignAndSubmit from an empty account: %v", err)
	}

	ch, cancel := d.Stream.Subscribe()
	cancel()
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end after cancel")
	}
}
