package txpool

import "errors"

// Rejection kinds. Add wraps one of them with the details, so callers use
// errors.Is and clients still see a precise reason.
var (
	ErrKnown             = errors.New("transaction already in pool")
	ErrWrongChain        = errors.New("transaction is for another chain")
	ErrBadSignature      = errors.New("transaction signature or key is invalid")
	ErrNonceTooLow       = errors.New("nonce too low")
	ErrNonceGap          = errors.New("nonce too far ahead")
	ErrNonceTaken        = errors.New("another transaction with this sender and nonce is pooled")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrPoolFull          = errors.New("transaction pool is full")
	ErrAccountFull       = errors.New("sender has too many pooled transactions")
	ErrQueueFull         = errors.New("future-nonce queue is full")
	// ErrOverloaded: the pool holds as many executable transactions as
	// the chain includes in a few slots (Config.MaxPending); the client
	// should retry after a slot rather than join a backlog it would wait
	// behind.
	ErrOverloaded   = errors.New("node overloaded: more transactions wait than the next blocks can include")
	ErrDataTooLarge = errors.New("transaction data too large")
	ErrNotVerified  = errors.New("transaction not verified")
)
