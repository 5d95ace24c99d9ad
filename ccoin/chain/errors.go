package chain

import "errors"

// Error kinds, usable with errors.Is.
var (
	ErrNotInitialized  = errors.New("data directory has no chain: run ccoin initc first")
	ErrGenesisMismatch = errors.New("data directory holds a different genesis")
	ErrCorrupt         = errors.New("database is corrupt")
	ErrKnownBlock      = errors.New("block already known")
	ErrUnknownParent   = errors.New("parent block unknown")
	ErrBelowFinalized  = errors.New("block does not extend the finalized chain")
	ErrInvalidBlock    = errors.New("invalid block")
	ErrBadStateRoot    = errors.New("state root mismatch")
	ErrNotFound        = errors.New("not found")
	ErrInUse           = errors.New("in use by another ccoin process")
	ErrNoFinality      = errors.New("chain: Config.Finality is required (consensus.Finality decides finality by votes; chain.ReadOnly for tools that only read)")
)

// ErrSchema means the data directory has another layout (schema.go).
var ErrSchema = errors.New("data directory was written by another version of ccoin and cannot be read; " +
	"to start afresh: stop the node, move its chaindata directory aside (keep keys/ and slotguard), " +
	"run `ccoin initc --genesis <file>` again and let the node sync (README: Upgrading)")
