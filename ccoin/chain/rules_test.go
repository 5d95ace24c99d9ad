package chain

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math"
	"testing"

	ccrypto "ccoin/ccoin/crypto"
	"ccoin/ccoin/state"
	"ccoin/ccoin/types"
)

// weakTx signs a transfer with a key the protocol refuses.
func weakTx(t *testing.T, e *env, bits int, exp int) *types.Transaction {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PublicKey
	pub.E = exp
	der, err := x509.MarshalPKIXPublicKey(&pub)
	if err != nil {
		t.Fatal(err)
	}
	tx := &types.Transaction{ChainID: e.g.ChainID, Nonce: 1, From: ccrypto.AddressOf(der), To: e.users[0].Address(), Amount: 1}
	id := tx.ID()
	sig, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, id[:], &rsa.PSSOptions{SaltLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	tx.PublicKey, tx.Signature = der, sig
	return tx
}

// TestRuleCorpus is the data-driven corpus of DESIGN section 4: each row is
// a block (mostly one transaction) and the error kind it must produce.
func TestRuleCorpus(t *testing.T) {
	e := newEnv(t, 1, 3)
	m, a, b, rich := e.miners[0], e.users[0], e.users[1], e.users[2]
	included := e.tx(a, b.Address(), 1, 10)
	e.mustImport(e.block(e.head(), m, included))

	rows := []struct {
		name string
		txs  func() []*types.Transaction
		want error
	}{
		{"valid transfer", func() []*types.Transaction { return []*types.Transaction{e.tx(a, b.Address(), 2, 5)} }, nil},
		{"replay of an included transaction", func() []*types.Transaction { return []*types.Transaction{included} }, state.ErrNonceTooLow},
		{"nonce gap", func() []*types.Transaction { return []*types.Transaction{e.tx(a, b.Address(), 9, 5)} }, state.ErrNonceGap},
		{"nonce zero", func() []*types.Transaction { return []*types.Transaction{e.tx(b, a.Address(), 0, 5)} }, state.ErrNonceTooLow},
		{"overspend", func() []*types.Transaction { return []*types.Transaction{e.tx(b, a.Address(), 1, 2_000_000)} }, state.ErrInsufficientFunds},
		{"amount 2^64-1", func() []*types.Transaction { return []*types.Transaction{e.tx(rich, a.Address(), 1, math.MaxUint64)} }, state.ErrInsufficientFunds},
		{"overspend across two txs", func() []*types.Transaction {
			return []*types.Transaction{e.tx(rich, a.Address(), 1, 600_000), e.tx(rich, a.Address(), 2, 600_000)}
		}, state.ErrInsufficientFunds},
		{"same tx twice in a block", func() []*types.Transaction {
			tx := e.tx(rich, a.Address(), 1, 1)
			return []*types.Transaction{tx, tx}
		}, state.ErrDuplicateTx},
		{"wrong chain id", func() []*types.Transaction {
			tx := &types.Transaction{ChainID: types.Hash{1}, Nonce: 1, From: rich.Address(), To: a.Address(), Amount: 1}
			if err := tx.Sign(rich); err != nil {
				t.Fatal(err)
			}
			return []*types.Transaction{tx}
		}, state.ErrWrongChain},
		{"public key does not hash to from", func() []*types.Transaction {
			tx := e.tx(rich, a.Address(), 1, 1)
			tx.PublicKey = a.Public().DER()
			return []*types.Transaction{tx}
		}, types.ErrFromMismatch},
		{"1024-bit key", func() []*types.Transaction { return []*types.Transaction{weakTx(t, e, 1024, 65537)} }, ccrypto.ErrWeakKey},
		{"exponent 3", func() []*types.Transaction { return []*types.Transaction{weakTx(t, e, 2048, 3)} }, ccrypto.ErrWeakKey},
		{"altered amount after signing", func() []*types.Transaction {
			tx := e.tx(rich, a.Address(), 1, 1)
			forged := *tx
			forged.Amount = 500
			return []*types.Transaction{types.MustRedecode(&forged)}
		}, ccrypto.ErrBadSignature},
		{"altered data after signing", func() []*types.Transaction {
			tx := e.tx(rich, a.Address(), 1, 1)
			forged := *tx
			forged.Data = []byte("evil")
			return []*types.Transaction{types.MustRedecode(&forged)}
		}, ccrypto.ErrBadSignature},
		{"unsigned", func() []*types.Transaction {
			tx := &types.Transaction{ChainID: e.g.ChainID, Nonce: 1, From: rich.Address(), To: a.Address(), Amount: 1}
			return []*types.Transaction{tx}
		}, types.ErrUnsigned},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			before := e.head()
			_, err := e.c.ImportBlock(e.block(before, m, row.txs()...), nil)
			if row.want == nil {
				if err != nil {
					t.Fatalf("want accept, got %v", err)
				}
				return
			}
			if !errors.Is(err, row.want) || !errors.Is(err, ErrInvalidBlock) {
				t.Fatalf("want %v, got %v", row.want, err)
			}
			if e.head() != before {
				t.Fatal("a refused block moved the head")
			}
		})
	}
}

func TestBlockRules(t *testing.T) {
	e := newEnv(t, 1, 2)
	m, a := e.miners[0], e.users[0]
	good := e.block(e.head(), m, e.tx(a, a.Address(), 1, 1))
	e.mustImport(good)

	badRoot := e.block(e.head(), m)
	badRoot.Header.StateRoot = types.Hash{9}
	_ = badRoot.Seal(m)

	orphan := e.block(e.head(), m)
	orphan.Header.Parent = types.Hash{7}
	_ = orphan.Seal(m)

	rows := []struct {
		name string
		b    *types.Block
		want error
	}{
		{"known block", good, ErrKnownBlock},
		{"bad state root", badRoot, ErrBadStateRoot},
		{"unknown parent", orphan, ErrUnknownParent},
		{"second genesis", &types.Block{Header: types.Header{Version: 1, Number: 1, Data: []byte("other")}}, ErrInvalidBlock},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			_, err := e.c.ImportBlock(row.b, nil)
			if (row.want == nil) != (err == nil) || (row.want != nil && !errors.Is(err, row.want)) {
				t.Fatalf("want %v, got %v", row.want, err)
			}
		})
	}
}

func TestOverflowRule(t *testing.T) {
	o := state.NewOverlay(fixedReader{math.MaxUint64 - 5})
	tx := &types.Transaction{Nonce: 1, From: [20]byte{1}, To: [20]byte{2}, Amount: 10}
	if err := o.ApplyTx(tx, types.Hash{}); !errors.Is(err, state.ErrOverflow) {
		t.Fatalf("want ErrOverflow, got %v", err)
	}
	if err := o.Credit([20]byte{3}, 6); !errors.Is(err, state.ErrOverflow) {
		t.Fatalf("want ErrOverflow on reward, got %v", err)
	}
	if len(o.Changes()) != 0 {
		t.Fatal("a refused transaction changed state")
	}
}

type fixedReader struct{ balance uint64 }

func (r fixedReader) Account(ccrypto.Address) (types.Account, error) {
	return types.Account{Balance: r.balance}, nil
}
