package api

import (
	"errors"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// ErrNotFound is what Reader lookups return for an unknown block or
// transaction.
var ErrNotFound = errors.New("not found")

// Deps are the parts of the node the server uses. Each is given only to the
// handlers of its role, so that a read route cannot submit and the event
// stream cannot read the pool: a node (or a test) implements the roles it
// serves, and a reviewer sees from the type what a handler can touch.
type Deps struct {
	Reader    Reader    // the GET routes; also the chain id for POST /txs and a block's standing for /events
	Submitter Submitter // POST /txs and POST /{node}/txn/
	Stream    Stream    // GET /events
	// AccountTxs is optional: without it (a node that keeps no index by
	// address) GET /accounts/{address}/txs answers 404 not_found.
	AccountTxs AccountTxsReader
}

// Reader is what the read routes need from the node: chain, state, pool
// and peer views, the genesis file, and finality (FinalityReader,
// finality.go). None of it changes the node.
type Reader interface {
	Status() Status
	Ready() bool // synced
	Head() *types.Block
	Finalized() *types.Block
	BlockByNumber(n uint64) (*types.Block, error)  // canonical chain; ErrNotFound
	BlockByID(id types.Hash) (*types.Block, error) // any stored block; ErrNotFound
	IsCanonical(id types.Hash) bool
	Tx(id types.Hash) (TxInfo, error)                                                                          // ErrNotFound
	Account(a crypto.Address) (AccountInfo, error)                                                             // unknown address = zero balance/nonce, not an error
	AccountsAt(number uint64, after *crypto.Address, limit int) (accounts []AccountInfo, more bool, err error) // state at a canonical block, key order, paged
	AccountProof(a crypto.Address) (AccountProof, error)                                                       // state at the finalized block with its proofs; ErrProofUnavailable
	Pool(limit int) (txs []*types.Transaction, pending, queued int)
	Peers() []PeerInfo
	Evidence() []Evidence
	GenesisFile() ([]byte, error) // the genesis JSON exactly as given to initc (GET /genesis)
	FinalityReader
}

// Submitter is what the submitting routes need: the pool (and gossip) for
// client transactions, and the node's own key for the prototype's send.
// Errors are nil or of the kinds package rulekind names, per transaction.
type Submitter interface {
	// SubmitVerifiedTxs adds transactions whose signatures the API has
	// checked (POST /txs stops a batch at the first bad one and bounds what
	// a client may make the node verify) to the pool and gossips the
	// accepted ones.
	SubmitVerifiedTxs(txs []*types.Transaction) []error
	// SignAndSubmit signs a transfer from the node's account and submits
	// it (POST /{node}/txn/).
	SignAndSubmit(to crypto.Address, amount uint64, data []byte) (*types.Transaction, error)
	// Overloaded reports whether the pool refuses new transactions for
	// now (txpool.ErrOverloaded) and when to try again: POST /txs then
	// answers 503 overloaded before spending any verification on a batch.
	Overloaded() (retry time.Duration, overloaded bool)
}

// Stream is what GET /events needs besides rendering blocks (Reader).
type Stream interface {
	// Subscribe returns a bounded channel: a slow subscriber gets dropped
	// events, never blocks the node. cancel ends the subscription.
	Subscribe() (events <-chan Event, cancel func())
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
