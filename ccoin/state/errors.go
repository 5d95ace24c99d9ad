package state

import "errors"

// Rule violations, usable with errors.Is. Each names one rule of DESIGN
// section 4, so a rejected block or transaction says exactly why.
var (
	ErrWrongChain        = errors.New("wrong chain id")
	ErrNonceTooLow       = errors.New("nonce too low (already used)")
	ErrNonceGap          = errors.New("nonce gap (must be account nonce + 1)")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrOverflow          = errors.New("balance overflow")
	ErrBadSignature      = errors.New("invalid transaction signature")
	ErrDuplicateTx       = errors.New("transaction appears twice in the block")
)
