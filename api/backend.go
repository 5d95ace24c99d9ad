package api

import (
	"errors"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// ErrNotFound is what Backend lookups return for an unknown block or
// transaction.
var ErrNotFound = errors.New("not found")

// Backend is everything the API needs from the node.
type Backend interface {
	Status() Status
	Head() *types.Block
	Finalized() *types.Block
	BlockByNumber(n uint64) (*types.Block, error)  // canonical chain; ErrNotFound
	BlockByID(id types.Hash) (*types.Block, error) // any stored block; ErrNotFound
	IsCanonical(id types.Hash) bool
	Tx(id types.Hash) (TxInfo, error)                                                                          // ErrNotFound
	Account(a crypto.Address) (AccountInfo, error)                                                             // unknown address = zero balance/nonce, not an error
	AccountsAt(number uint64, after *crypto.Address, limit int) (accounts []AccountInfo, more bool, err error) // state at a canonical block, key order, paged
	AccountProof(a crypto.Address) (AccountProof, error)                                                       // state at the finalized block with its proofs; ErrProofUnavailable
	SubmitTxs(txs []*types.Transaction) []error                                                                // pool + gossip; nil or txpool error kinds per tx
	SubmitVerifiedTxs(txs []*types.Transaction) []error                                                        // as SubmitTxs for transactions whose signatures the API has checked
	SignAndSubmit(to crypto.Address, amount uint64, data []byte) (*types.Transaction, error)                   // the node's own key (POST txn/)
	Pool(limit int) (txs []*types.Transaction, pending, queued int)
	Peers() []PeerInfo
	Evidence() []Evidence
	Subscribe() (events <-chan Event, cancel func()) // bounded channel; a slow subscriber gets dropped events, never blocks the node
	Ready() bool                                     // synced
	GenesisFile() ([]byte, error)                    // the genesis JSON exactly as given to initc (GET /genesis)
	FinalityBackend                                  // finality.go
}

// Status is the node's summary for GET /status.
type Status struct {
	Address, Type   string
	NetworkID       uint64
	ChainID         string
	Height          uint64
	Head            string
	FinalizedHeight uint64
	Finalized       string
	Sync            string // boot|syncing|ready
	Peers           int
	Version         string
	Slot            uint64
	Leader          string
	NextLeader      string
	PoolPending     int
	PoolQueued      int
	GenesisTime     uint64
	IntervalMs      uint64
}

// Transaction statuses.
const (
	TxPending   = "pending"
	TxIncluded  = "included"
	TxFinalized = "finalized"
)

// TxInfo is a transaction and where it stands.
type TxInfo struct {
	Tx            *types.Transaction
	Status        string // pending|included|finalized
	BlockID       *types.Hash
	BlockNumber   uint64
	Index         int
	Confirmations uint64
}

// AccountInfo is an account's state; NextNonce also counts pooled
// transactions, so a wallet knows which nonce to sign next.
type AccountInfo struct {
	Address                   crypto.Address
	Balance, Nonce, NextNonce uint64
}

// PeerInfo describes one connected peer.
type PeerInfo struct {
	ID                                             uint64
	Address, ListenAddr, RemoteAddr, Type, Version string
	Inbound                                        bool
	Height                                         uint64
	ConnectedAt                                    time.Time
}

// Evidence is two different headers signed by one sealer for one slot.
type Evidence struct {
	Sealer string
	Slot   uint64
	A, B   types.Header
}

// Event kinds.
const (
	EventHead      = "head"
	EventFinalized = "finalized"
	EventReorg     = "reorg"
)

// Event is a chain event streamed over GET /events.
type Event struct {
	Kind             string // head|finalized|reorg
	Block            *types.Block
	OldHead, NewHead types.Hash
	Depth            uint64
}
