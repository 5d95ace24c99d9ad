package chain

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/kv/blockfile"
	kvleveldb "ccoin/ccoin/kv/leveldb"
	"ccoin/ccoin/rawdb"
	"ccoin/ccoin/state"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// HeaderVerifier checks the stateless rules of a block (the consensus
// engine). ErrFuture-like errors are passed through unchanged so the
// caller can hold the block.
type HeaderVerifier interface {
	VerifyHeader(parent *types.Header, b *types.Block, nowMs uint64) error
	// VerifyAuthor checks, without the parent, only that b was sealed by
	// the leader of its slot on this chain: enough to trust it as evidence
	// of equivocation before it is refused for its parent or branch.
	VerifyAuthor(b *types.Block) error
}

// TxSource lets block validation skip signatures the pool already checked.
type TxSource interface {
	Get(id types.Hash) (*types.Transaction, bool)
}

// Config wires a chain.
type Config struct {
	Genesis  *genesis.Genesis
	Verifier HeaderVerifier
	Pool     TxSource // optional
	Keys     *crypto.KeyCache
	// Finality decides finality and the justified part of fork choice by
	// votes (DESIGN section 5): consensus.Finality. Required; a tool that
	// only reads a chain passes ReadOnly.
	Finality Finality
	Logger   hclog.Logger
	Now      func() time.Time
	// OnEvent is called after each commit that moved the head or finality;
	// it must not block.
	OnEvent func(Event)
	// AddressIndexBlocks is how many of the newest canonical blocks the
	// index by address covers (0: DefaultAddressIndexBlocks).
	AddressIndexBlocks uint64
}

// Event reports head, finality and reorg changes.
type Event struct {
	Kind    string // "head", "finalized" or "reorg"
	Header  *types.Header
	ID      types.Hash
	OldHead types.Hash
	Depth   uint64
}

// Chain is the block store and fork choice.
type Chain struct {
	cfg  Config
	db   kv.Store
	tree *smt.Tree
	log  hclog.Logger

	writeMu sync.Mutex // serialises imports and builds
	last    lastChoice // guarded by writeMu
	// stateSeq is odd while a commit rewrites the flat account table and
	// moves the head: AccountAt reads the table only between commits
	// (a sequence lock), and the state tree otherwise.
	stateSeq atomic.Uint64

	mu      sync.RWMutex // guards the fields below
	head    *types.Header
	headID  types.Hash
	final   *types.Header
	finalID types.Hash
	headers *lru[types.Hash, *types.Header]
	blocks  *lru[types.Hash, *types.Block]
	built   map[types.Hash]*built // by state root of blocks we built
	baseID  types.Hash            // snapshot block the chain started from (see snapshot.go)
	hasBase bool
}

type built struct {
	parent  types.Hash
	txRoot  types.Hash
	changes []state.Change
	nodes   *smt.MemStore
}

// OpenDB opens (or creates) the LevelDB at path with checksums verified on
// every read, so a damaged file is reported instead of served, and block
// encodings kept in segment files under path/blocks (kv/blockfile):
// LevelDB rewrote every multi-megabyte block in compaction after
// compaction.
func OpenDB(path string) (kv.Store, error) {
	ldb, err := kvleveldb.Open(path)
	if err != nil {
		if errors.Is(err, kv.ErrCorrupt) {
			return nil, fmt.Errorf("%w: %s: %v (restore a backup, or delete the directory and resync)", ErrCorrupt, path, err)
		}
		if errors.Is(err, kv.ErrLocked) {
			return nil, inUse(path)
		}
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// LevelDB's own LOCK file is the lock (released by the kernel when the
	// holder dies); the pid beside it only names the holder to whoever
	// finds the lock taken, so a stale one is harmless.
	_ = os.WriteFile(filepath.Join(path, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	db, err := blockfile.Wrap(ldb, filepath.Join(path, "blocks"), rawdb.IsBlockKey)
	if err != nil {
		ldb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// ownerFile, in the database directory, holds the pid of the process that
// last opened it. LevelDB ignores files it did not name.
const ownerFile = "OWNER.pid"

// inUse is the error for a database another process holds. It names the
// data directory (the parent of chaindata), which is what users pass.
func inUse(path string) error {
	dir := path
	if filepath.Base(path) == "chaindata" {
		dir = filepath.Dir(path)
	}
	pid := "unknown"
	if b, err := os.ReadFile(filepath.Join(path, ownerFile)); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			pid = strconv.Itoa(n)
		}
	}
	return fmt.Errorf("data directory %s is %w (pid %s)", dir, ErrInUse, pid)
}

// Init writes the genesis block and state into an empty database. With
// the same genesis already present it does nothing and reports false; with
// another it refuses and changes nothing.
func Init(db kv.Store, g *genesis.Genesis, raw []byte) (bool, error) {
	_, err := rawdb.ReadHeadID(db)
	switch {
	case err == nil || errors.Is(err, rawdb.ErrMalformed):
		have, err := rawdb.ReadCanonicalIDRaw(db, 1)
		if err != nil {
			return false, fmt.Errorf("%w: head without genesis: %v", ErrCorrupt, err)
		}
		if err := checkSchema(db); err != nil {
			return false, err
		}
		if !bytes.Equal(have, g.ChainID[:]) {
			return false, fmt.Errorf("%w: it has chain id %x, this genesis is %s", ErrGenesisMismatch, have, g.ChainID)
		}
		return false, nil
	case !errors.Is(err, kv.ErrNotFound):
		return false, fmt.Errorf("read head: %w", err)
	}
	b, err := kv.NewBulk(db)
	if err != nil {
		return false, err
	}
	defer b.Discard()
	gid := g.ChainID
	root, err := smt.New(state.NodeStore(db), 0).Update(smt.Hash{}, g.AllocUpdates(), state.NodeWriter(b))
	if err != nil {
		return false, err
	}
	if root != g.Block.Header.StateRoot {
		return false, fmt.Errorf("genesis state root mismatch")
	}
	for addr, acc := range g.Alloc {
		state.WriteAccountRaw(b, addr, acc.Encode(nil))
	}
	rawdb.WriteBlock(b, gid, g.Block.Encode(nil))
	rawdb.WriteHeader(b, gid, &g.Block.Header)
	rawdb.WriteCanonicalID(b, 1, gid)
	rawdb.WriteHeadID(b, gid)
	rawdb.WriteFinalizedID(b, gid)
	rawdb.WriteGenesisJSON(b, raw)
	rawdb.WriteSchemaVersion(b)
	if err := b.Commit(); err != nil {
		return false, fmt.Errorf("write genesis: %w", err)
	}
	return true, nil
}

// StoredGenesis returns the genesis JSON that initc stored.
func StoredGenesis(db kv.Store) ([]byte, error) {
	raw, err := rawdb.ReadGenesisJSON(db)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	return raw, nil
}

// StoredGenesisBlock returns block 1 as initc wrote it.
func StoredGenesisBlock(db kv.Store) (*types.Block, error) {
	id, err := rawdb.ReadCanonicalIDRaw(db, 1)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read genesis id: %v", ErrCorrupt, err)
	}
	if len(id) != 32 {
		return nil, fmt.Errorf("%w: genesis id of %d bytes", ErrCorrupt, len(id))
	}
	raw, err := rawdb.ReadBlock(db, types.Hash(id))
	if err != nil {
		return nil, fmt.Errorf("%w: read genesis block: %v", ErrCorrupt, err)
	}
	b, err := types.DecodeBlock(raw)
	if err != nil || types.Hash(id) != b.ID() {
		return nil, fmt.Errorf("%w: genesis block does not decode to its id", ErrCorrupt)
	}
	return b, nil
}

// Open loads the chain from an initialised database and checks that the
// head, the finalized block and the head state are present and agree.
func Open(db kv.Store, cfg Config) (*Chain, error) {
	if cfg.Finality == nil {
		return nil, ErrNoFinality
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AddressIndexBlocks == 0 {
		cfg.AddressIndexBlocks = DefaultAddressIndexBlocks
	}
	if cfg.Keys == nil {
		cfg.Keys = crypto.NewKeyCache(4096)
	}
	c := &Chain{
		cfg:     cfg,
		db:      db,
		tree:    smt.New(state.NodeStore(db), smt.DefaultCacheNodes),
		log:     cfg.Logger,
		headers: newLRU[types.Hash, *types.Header](1 << 16),
		blocks:  newLRU[types.Hash, *types.Block](8), // full blocks can be megabytes each
		built:   make(map[types.Hash]*built),
	}
	gid, err := rawdb.ReadCanonicalIDRaw(db, 1)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, c.corrupt("read genesis id", err)
	}
	if err := checkSchema(db); err != nil {
		return nil, err
	}
	if !bytes.Equal(gid, cfg.Genesis.ChainID[:]) {
		return nil, fmt.Errorf("%w: database chain id %x, genesis %s", ErrGenesisMismatch, gid, cfg.Genesis.ChainID)
	}
	if c.headID, c.head, err = c.loadPointer("m/head", rawdb.ReadHeadID); err != nil {
		return nil, err
	}
	if c.finalID, c.final, err = c.loadPointer("m/finalized", rawdb.ReadFinalizedID); err != nil {
		return nil, err
	}
	if err := c.loadBase(); err != nil {
		return nil, err
	}
	if err := c.checkConsistency(); err != nil {
		return nil, err
	}
	c.log.Info("chain opened", "height", c.head.Number, "head", c.headID, "finalized", c.final.Number)
	return c, nil
}

func (c *Chain) corrupt(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
}

func (c *Chain) loadPointer(name string, read func(kv.Reader) (types.Hash, error)) (types.Hash, *types.Header, error) {
	id, err := read(c.db)
	if err != nil {
		return types.Hash{}, nil, c.corrupt("read "+name, err)
	}
	h, err := c.Header(id)
	if err != nil {
		return id, nil, c.corrupt("load "+name+" header", err)
	}
	return id, h, nil
}

// checkConsistency verifies what a crash or a damaged file could break:
// the canonical index reaches the head, the finalized block is canonical,
// the head's state root is readable and the flat table agrees with it for
// the accounts the head block touched.
func (c *Chain) checkConsistency() error {
	if id, err := c.CanonicalID(c.head.Number); err != nil || id != c.headID {
		return c.corrupt("canonical index", fmt.Errorf("head %d not indexed (%v)", c.head.Number, err))
	}
	if id, err := c.CanonicalID(c.final.Number); err != nil || id != c.finalID {
		return c.corrupt("canonical index", fmt.Errorf("finalized block %d not canonical (%v)", c.final.Number, err))
	}
	if c.hasBase && c.headID == c.baseID {
		return nil // a snapshot base has no block body and no undo record
	}
	if _, err := c.Block(c.headID); err != nil {
		return c.corrupt("head block", err)
	}
	rec, err := c.undo(c.headID)
	if err != nil && !c.head.IsGenesis() {
		return c.corrupt("head undo record", err)
	}
	for _, ch := range rec {
		flat, err := c.Account(ch.Addr)
		if err != nil {
			return c.corrupt("account table", err)
		}
		v, _, err := c.tree.Get(c.head.StateRoot, ch.Addr)
		if err != nil {
			return c.corrupt("state tree", err)
		}
		tree, err := types.DecodeAccount(v)
		if err != nil || tree != flat || flat != ch.After {
			return c.corrupt("state", fmt.Errorf("account %s differs between table and tree", ch.Addr))
		}
	}
	return nil
}

// Close releases nothing itself; the database belongs to the caller.
func (c *Chain) Genesis() *genesis.Genesis { return c.cfg.Genesis }

// Head returns the canonical head header and id.
func (c *Chain) Head() (*types.Header, types.Hash) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.head, c.headID
}

// Finalized returns the finalized header and id.
func (c *Chain) Finalized() (*types.Header, types.Hash) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.final, c.finalID
}

// Header returns any stored header by id.
func (c *Chain) Header(id types.Hash) (*types.Header, error) {
	if h, ok := c.headers.get(id); ok {
		return h, nil
	}
	v, err := rawdb.ReadHeader(c.db, id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w: header %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, c.corrupt("read header", err)
	}
	h, err := types.DecodeHeader(v)
	if err != nil {
		return nil, c.corrupt("decode header", err)
	}
	c.headers.add(id, h)
	return h, nil
}

// HasBlock reports whether a block is stored (valid blocks only are stored).
func (c *Chain) HasBlock(id types.Hash) bool {
	if _, ok := c.headers.get(id); ok {
		return true
	}
	ok, _ := rawdb.HasHeader(c.db, id)
	return ok
}

// Block returns any stored block by id.
func (c *Chain) Block(id types.Hash) (*types.Block, error) {
	if b, ok := c.blocks.get(id); ok {
		return b, nil
	}
	v, err := rawdb.ReadBlock(c.db, id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w: block %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, c.corrupt("read block", err)
	}
	b, err := types.DecodeBlock(v)
	if err != nil || b.ID() != id {
		return nil, c.corrupt("decode block", fmt.Errorf("block %s: %v", id, err))
	}
	c.blocks.add(id, b)
	return b, nil
}

// RawBlock returns the stored encoding of a block, for serving peers
// without re-encoding.
func (c *Chain) RawBlock(id types.Hash) ([]byte, error) {
	v, err := rawdb.ReadBlock(c.db, id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w: block %s", ErrNotFound, id)
	}
	return v, err
}

// CanonicalID returns the id of the canonical block at number.
func (c *Chain) CanonicalID(n uint64) (types.Hash, error) {
	id, err := rawdb.ReadCanonicalID(c.db, n)
	if errors.Is(err, kv.ErrNotFound) {
		return id, fmt.Errorf("%w: no block %d", ErrNotFound, n)
	}
	if err != nil {
		return id, c.corrupt("read canonical index", err)
	}
	return id, nil
}

// BlockByNumber returns the canonical block at number.
func (c *Chain) BlockByNumber(n uint64) (*types.Block, error) {
	id, err := c.CanonicalID(n)
	if err != nil {
		return nil, err
	}
	return c.Block(id)
}

// IsCanonical reports whether id is on the canonical chain.
func (c *Chain) IsCanonical(id types.Hash) bool {
	h, err := c.Header(id)
	if err != nil {
		return false
	}
	cid, err := c.CanonicalID(h.Number)
	return err == nil && cid == id
}

// TxLocation finds a transaction on the canonical chain.
func (c *Chain) TxLocation(id types.Hash) (block types.Hash, index int, err error) {
	block, index, err = rawdb.ReadTxLocation(c.db, id)
	if errors.Is(err, kv.ErrNotFound) {
		return block, 0, fmt.Errorf("%w: tx %s", ErrNotFound, id)
	}
	if err != nil {
		return block, 0, c.corrupt("read tx index", err)
	}
	return block, index, nil
}

// Account reads an account at the head; unknown accounts are zero.
func (c *Chain) Account(a crypto.Address) (types.Account, error) {
	v, err := state.ReadAccountRaw(c.db, a)
	if errors.Is(err, kv.ErrNotFound) {
		return types.Account{}, nil
	}
	if err != nil {
		return types.Account{}, c.corrupt("read account", err)
	}
	acc, err := types.DecodeAccount(v)
	if err != nil {
		return acc, c.corrupt("decode account", err)
	}
	return acc, nil
}

// AccountAt reads an account in the state of any stored block by its root.
// At the head's root it is one lookup in the flat account table; for
// another root, or when a commit rewrote the table during the read, it
// walks the state tree. So a reader pinned to a root (the pool, until it
// is told of the new head) never sees a later head's accounts.
func (c *Chain) AccountAt(root types.Hash, a crypto.Address) (types.Account, error) {
	if seq := c.stateSeq.Load(); seq%2 == 0 {
		c.mu.RLock()
		atHead := c.head.StateRoot == root
		c.mu.RUnlock()
		if atHead {
			acc, err := c.Account(a)
			if c.stateSeq.Load() == seq {
				return acc, err
			}
		}
	}
	return treeReader{c.tree, root}.Account(a)
}

// writeHead commits batch, which may rewrite the flat account table, then
// runs setHead under mu to publish the new head. AccountAt sees the two
// as one step.
func (c *Chain) writeHead(batch kv.Batch, setHead func()) error {
	c.stateSeq.Add(1)
	defer c.stateSeq.Add(1)
	if err := c.db.Write(batch, true); err != nil {
		return err
	}
	c.mu.Lock()
	setHead()
	c.mu.Unlock()
	return nil
}

// Tree exposes the state tree for proofs and snapshots.
func (c *Chain) Tree() *smt.Tree { return c.tree }

// AccountsAt lists accounts in the state with the given root, in address
// order, starting after `after` (nil = from the start), at most limit.
func (c *Chain) AccountsAt(root types.Hash, after *crypto.Address, limit int) ([]crypto.Address, []types.Account, bool, error) {
	var (
		start  [20]byte
		addrs  []crypto.Address
		accs   []types.Account
		more   bool
		stopIt = errors.New("stop")
	)
	if after != nil {
		start = *after
	}
	err := c.tree.IterateFrom(root, start, func(k [20]byte, v []byte) error {
		if after != nil && k == *after {
			return nil
		}
		if len(addrs) == limit {
			more = true
			return stopIt
		}
		acc, err := types.DecodeAccount(v)
		if err != nil {
			return c.corrupt("decode account", err)
		}
		addrs, accs = append(addrs, k), append(accs, acc)
		return nil
	})
	if err != nil && !errors.Is(err, stopIt) {
		return nil, nil, false, err
	}
	return addrs, accs, more, nil
}

func (c *Chain) undo(id types.Hash) ([]state.Change, error) {
	return state.ReadUndo(c.db, id)
}

// Evidence lists recorded equivocations: pairs of headers one sealer
// signed for one slot. At most limit are returned.
func (c *Chain) Evidence(limit int) ([][2]*types.Header, error) {
	var out [][2]*types.Header
	it := rawdb.NewEvidenceIterator(c.db)
	defer it.Release()
	for it.Next() && len(out) < limit {
		pair, err := decodeEvidence(it.Value())
		if err != nil {
			return nil, c.corrupt("decode evidence", err)
		}
		out = append(out, pair)
	}
	return out, it.Error()
}

// flatReader reads the head state from the account table.
type flatReader struct{ c *Chain }

func (r flatReader) Account(a crypto.Address) (types.Account, error) { return r.c.Account(a) }

// treeReader reads the state of any stored root from the state tree.
type treeReader struct {
	t    *smt.Tree
	root types.Hash
}

func (r treeReader) Account(a crypto.Address) (types.Account, error) {
	v, found, err := r.t.Get(r.root, a)
	if err != nil || !found {
		return types.Account{}, err
	}
	return types.DecodeAccount(v)
}
