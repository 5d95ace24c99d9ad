package rulekind

import (
	"errors"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/state"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// Kinds. The names are metric labels and the keys of the API's status
// table; a name never changes meaning.
const (
	Known             = "known"
	WrongChain        = "wrong_chain"
	BadSignature      = "bad_signature"
	BadAddress        = "bad_address"
	NonceTooLow       = "nonce_too_low"
	NonceGap          = "nonce_gap"
	NonceTaken        = "nonce_taken"
	InsufficientFunds = "insufficient_funds"
	PoolFull          = "pool_full"
	QueueFull         = "queue_full" // the pool's future-nonce queue; the API answers it as pool_full
	AccountFull       = "account_full"
	Overloaded        = "overloaded" // the pool holds a few blocks' worth of executable transactions
	DataTooLarge      = "data_too_large"
	BadNumber         = "bad_number"
	BadSlot           = "bad_slot"
	BadTime           = "bad_time"
	NotMiner          = "not_miner"
	WrongLeader       = "wrong_leader"
	BadParams         = "bad_params"
	TooManyTxs        = "too_many_txs"
	BadTxRoot         = "bad_tx_root"
	BadSeal           = "bad_seal"
	BadStateRoot      = "bad_state_root"
	BadVote           = "bad_vote"
	Overflow          = "overflow"
	DuplicateTx       = "duplicate_tx"
	Malformed         = "malformed" // does not decode
	Other             = "other"     // none of the above
)

// table maps sentinels to kinds. The first match wins, so the order
// matters for an error that wraps two sentinels: the pool's own kinds come
// first (they wrap the state machine's and the codecs'), and the decoder's
// ErrEncoding comes last, after the more precise signature and address
// errors a decode may wrap.
var table = []struct {
	err  error
	kind string
}{
	{txpool.ErrKnown, Known},
	{txpool.ErrWrongChain, WrongChain},
	{txpool.ErrBadSignature, BadSignature},
	{txpool.ErrNonceTooLow, NonceTooLow},
	{txpool.ErrNonceGap, NonceGap},
	{txpool.ErrNonceTaken, NonceTaken},
	{txpool.ErrInsufficientFunds, InsufficientFunds},
	{txpool.ErrPoolFull, PoolFull},
	{txpool.ErrQueueFull, QueueFull},
	{txpool.ErrAccountFull, AccountFull},
	{txpool.ErrOverloaded, Overloaded},
	{txpool.ErrDataTooLarge, DataTooLarge},

	{consensus.ErrWrongChain, WrongChain},
	{consensus.ErrBadNumber, BadNumber},
	{consensus.ErrBadSlot, BadSlot},
	{consensus.ErrBadTime, BadTime},
	{consensus.ErrNotMiner, NotMiner},
	{consensus.ErrWrongLeader, WrongLeader},
	{consensus.ErrBadParams, BadParams},
	{consensus.ErrTooManyTxs, TooManyTxs},
	{consensus.ErrBadTxRoot, BadTxRoot},
	{consensus.ErrBadSeal, BadSeal},
	{consensus.ErrBadVote, BadVote},
	{chain.ErrBadStateRoot, BadStateRoot},

	{state.ErrBadSignature, BadSignature},
	{state.ErrNonceTooLow, NonceTooLow},
	{state.ErrNonceGap, NonceGap},
	{state.ErrInsufficientFunds, InsufficientFunds},
	{state.ErrOverflow, Overflow},
	{state.ErrWrongChain, WrongChain},
	{state.ErrDuplicateTx, DuplicateTx},

	{types.ErrUnsigned, BadSignature},
	{types.ErrFromMismatch, BadSignature},
	{crypto.ErrBadSignature, BadSignature},
	{crypto.ErrBadKey, BadSignature},
	{crypto.ErrWeakKey, BadSignature},
	{crypto.ErrBadAddress, BadAddress},
	{types.ErrEncoding, Malformed},
}

// Of is the kind of err: the kind of the first sentinel in the table that
// err wraps, or Other (also for nil).
func Of(err error) string {
	if err == nil {
		return Other
	}
	for _, r := range table {
		if errors.Is(err, r.err) {
			return r.kind
		}
	}
	return Other
}

// All lists every kind Of can return, Other included, each once: the
// complete label set of a metric labelled by kind.
func All() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range table {
		if !seen[r.kind] {
			seen[r.kind] = true
			out = append(out, r.kind)
		}
	}
	return append(out, Other)
}
