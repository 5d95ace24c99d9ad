package state

import (
	"bytes"
	"fmt"
	"slices"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// Reader reads committed accounts; an unknown address is the zero account.
type Reader interface {
	Account(a crypto.Address) (types.Account, error)
}

// Change is one account's value before and after a block.
type Change struct {
	Addr          crypto.Address
	Before, After types.Account
}

// Overlay buffers account writes over a Reader.
type Overlay struct {
	base  Reader
	dirty map[crypto.Address]*Change
	order []crypto.Address
}

// NewOverlay starts an empty overlay on base.
func NewOverlay(base Reader) *Overlay {
	return &Overlay{base: base, dirty: make(map[crypto.Address]*Change)}
}

// Get returns the current value of an account.
func (o *Overlay) Get(a crypto.Address) (types.Account, error) {
	if c, ok := o.dirty[a]; ok {
		return c.After, nil
	}
	return o.base.Account(a)
}

func (o *Overlay) change(a crypto.Address) (*Change, error) {
	if c, ok := o.dirty[a]; ok {
		return c, nil
	}
	acc, err := o.base.Account(a)
	if err != nil {
		return nil, err
	}
	c := &Change{Addr: a, Before: acc, After: acc}
	o.dirty[a] = c
	o.order = append(o.order, a)
	return c, nil
}

// Changes lists the accounts whose value changed, sorted by address (the
// order the state tree wants, and a deterministic undo record). Accounts a
// failed transaction only looked at are left out, so a block builder that
// skips a bad transaction produces the same state as a replay without it.
func (o *Overlay) Changes() []Change {
	out := make([]Change, 0, len(o.dirty))
	for _, a := range o.order {
		if c := o.dirty[a]; c.After != c.Before {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return bytes.Compare(x.Addr[:], y.Addr[:]) })
	return out
}

// Updates turns changes into state tree updates.
func Updates(changes []Change) []smt.Update {
	ups := make([]smt.Update, len(changes))
	for i, c := range changes {
		ups[i] = smt.Update{Key: c.Addr, Value: c.After.Encode(nil)}
	}
	return ups
}

// ApplyTx checks a transaction against the current state and applies it;
// on error nothing changed. It does not verify the signature (see
// VerifyTxs): that is the expensive part and is done once, in parallel,
// before execution.
func (o *Overlay) ApplyTx(tx *types.Transaction, chainID types.Hash) error {
	if tx.ChainID != chainID {
		return fmt.Errorf("%w: %s", ErrWrongChain, tx.ChainID)
	}
	from, err := o.change(tx.From)
	if err != nil {
		return err
	}
	switch want := from.After.Nonce + 1; {
	case tx.Nonce < want:
		return fmt.Errorf("%w: nonce %d, account nonce %d", ErrNonceTooLow, tx.Nonce, from.After.Nonce)
	case tx.Nonce > want:
		return fmt.Errorf("%w: nonce %d, want %d", ErrNonceGap, tx.Nonce, want)
	}
	if from.After.Balance < tx.Amount {
		return fmt.Errorf("%w: balance %d, amount %d", ErrInsufficientFunds, from.After.Balance, tx.Amount)
	}
	to, err := o.change(tx.To)
	if err != nil {
		return err
	}
	if tx.To != tx.From && to.After.Balance > ^uint64(0)-tx.Amount {
		return fmt.Errorf("%w: recipient %s", ErrOverflow, tx.To)
	}
	from.After.Balance -= tx.Amount
	from.After.Nonce = tx.Nonce
	to.After.Balance += tx.Amount
	return nil
}

// Credit adds a block reward.
func (o *Overlay) Credit(a crypto.Address, amount uint64) error {
	c, err := o.change(a)
	if err != nil {
		return err
	}
	if c.After.Balance > ^uint64(0)-amount {
		return fmt.Errorf("%w: reward to %s", ErrOverflow, a)
	}
	c.After.Balance += amount
	return nil
}
