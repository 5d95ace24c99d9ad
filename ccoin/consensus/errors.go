package consensus

import "errors"

// Error kinds returned (wrapped) by this package; use errors.Is.
var (
	ErrWrongChain    = errors.New("block belongs to another chain")
	ErrBadNumber     = errors.New("block number is not parent number + 1")
	ErrBadSlot       = errors.New("block slot is not after the parent's slot")
	ErrBadTime       = errors.New("block time is outside its slot")
	ErrFuture        = errors.New("block slot has not started yet")
	ErrFarFuture     = errors.New("block slot is more than 2 slots ahead of the local clock")
	ErrNotMiner      = errors.New("sealer is not a genesis miner")
	ErrWrongLeader   = errors.New("sealer is not the leader of the slot")
	ErrBadParams     = errors.New("block parameters differ from genesis block_mining")
	ErrTooManyTxs    = errors.New("block has more transactions than max_bound")
	ErrBlockTooLarge = errors.New("block encoding exceeds max_block_bytes")
	ErrBadTxRoot     = errors.New("tx root does not match the transactions")
	ErrBadSeal       = errors.New("block seal is invalid")
	ErrAlreadySigned = errors.New("slot already signed by this validator")
)
