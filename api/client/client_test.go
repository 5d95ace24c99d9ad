package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"ccoin/api"
	"ccoin/api/apitest"
	"ccoin/api/client"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

var (
	vOnce sync.Once
	v     *apitest.Validator
	vErr  error
)

func setup(t *testing.T) (*apitest.Fake, *client.Client) {
	t.Helper()
	vOnce.Do(func() { v, vErr = apitest.NewValidator() })
	if vErr != nil {
		t.Fatal(vErr)
	}
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{NodeAddress: f.Keys.Node.Address()}, f.Deps())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	hc := &http.Client{Transport: v.Transport(nil, func(err error) { t.Errorf("openapi: %v", err) })}
	return f, client.New(ts.URL+"/", hc)
}

func TestClientRoundTrip(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil || st.Height != 3 || st.ChainID != f.ChainID.String() {
		t.Fatalf("status %+v %v", st, err)
	}

	acc, err := c.Account(ctx, f.Keys.Alice.Address())
	if err != nil || acc.Address != f.Keys.Alice.Address() || acc.Nonce != 3 || acc.NextNonce != 5 {
		t.Fatalf("account %+v %v", acc, err)
	}

	for _, ref := range []string{"1", "2", "latest", "finalized", f.Canonical(3).ID().String(), f.SideBlock().ID().String()} {
		b, err := c.Block(ctx, ref)
		if err != nil {
			t.Fatalf("block %s: %v", ref, err)
		}
		want, _ := f.BlockByID(b.Block.ID())
		if want == nil || string(b.Block.Encode(nil)) != string(want.Encode(nil)) {
			t.Errorf("block %s does not round-trip", ref)
		}
		if b.Block.Header.Number > 1 {
			if err := b.Block.VerifySeal(nil); err != nil {
				t.Errorf("block %s seal: %v", ref, err)
			}
		}
	}
	if b, _ := c.Block(ctx, "2"); !b.Finalized || !b.Canonical || b.TxCount != 2 {
		t.Errorf("block 2 %+v", b)
	}

	t1 := f.Canonical(2).Txs[0]
	tx, err := c.Tx(ctx, t1.ID())
	if err != nil || tx.Status != api.TxFinalized || *tx.Block != f.Canonical(2).ID() || tx.BlockNumber != 2 || tx.Index != 0 {
		t.Fatalf("tx %+v %v", tx, err)
	}
	if string(tx.Tx.Encode(nil)) != string(t1.Encode(nil)) || tx.Tx.VerifySignature(nil) != nil {
		t.Error("tx does not round-trip")
	}

	// Errors surface as *APIError with the stable code.
	_, err = c.Tx(ctx, types.Hash{1})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Code != api.CodeUnknownTx {
		t.Fatalf("unknown tx: %v", err)
	}
	if _, err := c.Block(ctx, "nope"); !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
		t.Fatalf("bad block ref: %v", err)
	}
}

func TestClientSubmitAndWait(t *testing.T) {
	f, c := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bob := f.Keys.Bob.Address()
	good := f.MustSign(f.Keys.Alice, 5, bob, 10, "x")
	gap := f.MustSign(f.Keys.Alice, 9, bob, 10, "")
	res, err := c.SubmitTxs(ctx, []*types.Transaction{good, gap, good})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Accepted || res[0].ID != good.ID().String() || res[0].Error != nil {
		t.Errorf("good: %+v", res[0])
	}
	if res[1].Accepted || res[1].Error == nil || res[1].Error.Code != api.CodeNonceGap {
		t.Errorf("gap: %+v", res[1])
	}
	if res[2].Accepted || res[2].Error.Code != api.CodeKnown {
		t.Errorf("duplicate: %+v", res[2])
	}

	// WaitTx returns once the transaction is included, then finalized.
	waited := make(chan error, 1)
	go func() {
		tx, err := c.WaitTx(ctx, good.ID(), api.TxFinalized, 5*time.Millisecond)
		if err == nil && tx.Status != api.TxFinalized {
			err = errors.New("not finalized: " + tx.Status)
		}
		waited <- err
	}()
	if _, err := f.SealPool(); err != nil {
		t.Fatal(err)
	}
	tx, err := c.WaitTx(ctx, good.ID(), api.TxIncluded, 5*time.Millisecond)
	if err != nil || tx.Status != api.TxIncluded || tx.BlockNumber != 4 {
		t.Fatalf("wait included: %+v %v", tx, err)
	}
	f.Finalize()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}

	// An unknown transaction is waited for until the context ends.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := c.WaitTx(short, types.Hash{9}, api.TxIncluded, 5*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait unknown: %v", err)
	}
	if _, err := c.WaitTx(ctx, good.ID(), "soon", time.Millisecond); err == nil {
		t.Error("bad until accepted")
	}
}

func TestClientTransportError(t *testing.T) {
	c := client.New("http://127.0.0.1:1", nil)
	_, err := c.Account(context.Background(), crypto.Address{})
	var ae *client.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("want a transport error, got %v", err)
	}
}
