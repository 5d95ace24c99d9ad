package genesis

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/jsonpos"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// ErrInvalid is the kind of every genesis validation failure.
var ErrInvalid = errors.New("invalid genesis")

// Finality rules.
const (
	FinalityMajority  = "majority"
	FinalityTwoThirds = "two_thirds"
)

// File mirrors genesis.json. Unknown fields are refused so that a typo in a
// consensus parameter is not silently ignored.
type File struct {
	NetworkID    uint64              `json:"network_id"`
	Timestamp    uint64              `json:"timestamp"`
	Miners       []string            `json:"miners"`
	BlockMining  BlockMining         `json:"block_mining"`
	Transaction  TransactionSettings `json:"transaction"`
	MaxPeers     int                 `json:"max_peers"`
	GenesisBlock GenesisBlock        `json:"genesis_block"`
	Alloc        map[string]Alloc    `json:"alloc"`
	Finality     string              `json:"finality,omitempty"`
}

// BlockMining holds the sealing parameters.
type BlockMining struct {
	Interval        float64     `json:"interval"` // seconds
	MaxBound        uint64      `json:"max_bound"`
	MinBound        uint64      `json:"min_bound"`
	Reward          uint64      `json:"reward"`
	Difficulty      uint64      `json:"difficulty"`
	AllowEmpty      bool        `json:"allow_empty"`
	PlaceholderData Placeholder `json:"placeholder_data"`
	// MaxBlockBytes caps a sealed block's encoding (DESIGN section 5);
	// absent means DefaultMaxBlockBytes.
	MaxBlockBytes uint64 `json:"max_block_bytes,omitempty"`
}

// Limits of block_mining.max_block_bytes.
const (
	// DefaultMaxBlockBytes is the cap when genesis names none.
	DefaultMaxBlockBytes = 2 << 20
	// MaxBlockBytesLimit keeps every sealed block below the P2P frame limit
	// (16 MiB, p2p/wire.DefaultMaxFrame) with room for the message
	// envelope, so that every block fits one sync answer (ABL). Gossip
	// carries blocks compact (header and transaction ids), far smaller.
	MaxBlockBytesLimit = 16<<20 - 64<<10
	// MinBlockBytes leaves room for a header, a seal and a few of the
	// largest transactions.
	MinBlockBytes = 16 << 10
)

// TransactionSettings holds transaction defaults.
type TransactionSettings struct {
	PlaceholderData Placeholder `json:"placeholder_data"`
}

// GenesisBlock holds the genesis block's own parameters.
type GenesisBlock struct {
	Difficulty uint64 `json:"difficulty"`
	Coinbase   string `json:"coinbase,omitempty"`
}

// Alloc is an initial account.
type Alloc struct {
	Balance uint64 `json:"balance"`
	Nonce   uint64 `json:"nonce"`
}

// Placeholder is the prototype's filler for empty data fields:
// ["rnd", n] gives n random hex characters, ["str", "text"] a fixed text,
// and an absent value gives nothing.
type Placeholder struct {
	Kind string
	N    int
	Text string
}

func (p *Placeholder) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = Placeholder{}
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 2 {
		return fmt.Errorf("placeholder_data must be [\"rnd\", n] or [\"str\", text]")
	}
	if err := json.Unmarshal(raw[0], &p.Kind); err != nil {
		return fmt.Errorf("placeholder_data kind: %w", err)
	}
	switch p.Kind {
	case "rnd":
		if err := json.Unmarshal(raw[1], &p.N); err != nil || p.N < 0 || p.N > 256 {
			return fmt.Errorf("placeholder_data [\"rnd\", n] needs 0 <= n <= 256")
		}
	case "str":
		if err := json.Unmarshal(raw[1], &p.Text); err != nil || len(p.Text) > 256 {
			return fmt.Errorf("placeholder_data [\"str\", text] needs a text of at most 256 bytes")
		}
	default:
		return fmt.Errorf("placeholder_data kind %q is not rnd or str", p.Kind)
	}
	return nil
}

func (p Placeholder) MarshalJSON() ([]byte, error) {
	switch p.Kind {
	case "rnd":
		return json.Marshal([]any{"rnd", p.N})
	case "str":
		return json.Marshal([]any{"str", p.Text})
	}
	return []byte("null"), nil
}

// Fill returns the placeholder's data (random for "rnd").
func (p Placeholder) Fill() []byte {
	switch p.Kind {
	case "rnd":
		b := make([]byte, (p.N+1)/2)
		_, _ = rand.Read(b)
		return []byte(hex.EncodeToString(b)[:p.N])
	case "str":
		return []byte(p.Text)
	}
	return nil
}

// Genesis is a validated genesis: the consensus parameters every component
// reads, and the genesis block.
type Genesis struct {
	File       File
	Miners     []crypto.Address
	IntervalMs uint64
	TimeMs     uint64
	Alloc      map[crypto.Address]types.Account
	Block      *types.Block
	ChainID    types.Hash // the genesis block id
	// Quorum is how many distinct miners a finality link needs.
	Quorum int
	// MaxBlockBytes is block_mining.max_block_bytes or its default.
	MaxBlockBytes uint64

	allocTotal uint64
}

// Load reads and validates a genesis file and builds its block.
func Load(path string) (*Genesis, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	g, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Parse validates genesis JSON and builds its block.
func Parse(data []byte) (*Genesis, error) {
	f, err := decodeFile(data)
	if err != nil {
		return nil, err
	}
	return New(f)
}

func decodeFile(data []byte) (File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("%w: %v", ErrInvalid, jsonpos.Annotate(data, err, dec.InputOffset()))
	}
	if dec.More() {
		return f, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	return f, nil
}

// Restore rebuilds the genesis a node was initialised with from the file
// initc stored and the genesis block in the node's own database, without
// recomputing the state root of the allocation: with a million accounts
// that takes minutes and gigabytes, and initc already did it. The block
// must carry this file's parameters (its data is their hash). Alloc is left
// empty (after initc the state lives in the database); TotalAlloc is kept.
func Restore(data []byte, blk *types.Block) (*Genesis, error) {
	// The allocation was validated by initc; decoding it again would only
	// cost memory the process keeps long after.
	var skip struct {
		File
		Alloc json.RawMessage `json:"alloc"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&skip); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	g, err := params(skip.File)
	if err == nil {
		g.allocTotal, err = sumAlloc(skip.Alloc)
	}
	if err != nil {
		return nil, err
	}
	cfg := g.ConfigHash()
	h := &blk.Header
	if !h.IsGenesis() || !bytes.Equal(h.Data, cfg[:]) || h.Time != g.TimeMs || h.Difficulty != g.File.GenesisBlock.Difficulty {
		return nil, invalid("the stored genesis block was not built from the stored genesis file")
	}
	if _, err := h.CheckPow(); err != nil {
		return nil, invalid("stored genesis block: %v", err)
	}
	g.Block, g.ChainID = blk, blk.ID()
	return g, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// New validates f and builds the genesis block.
func New(f File) (*Genesis, error) {
	g, err := params(f)
	if err != nil {
		return nil, err
	}
	blk, err := g.buildBlock()
	if err != nil {
		return nil, err
	}
	g.Block, g.ChainID = blk, blk.ID()
	return g, nil
}

// params validates f into consensus parameters, without the block.
func params(f File) (*Genesis, error) {
	g := &Genesis{File: f, Alloc: make(map[crypto.Address]types.Account)}
	if len(f.Miners) == 0 {
		return nil, invalid("miners is empty")
	}
	for _, m := range f.Miners {
		a, err := crypto.ParseAddress(strings.ToLower(m))
		if err != nil {
			return nil, invalid("miner %q: %v", m, err)
		}
		if slices.Contains(g.Miners, a) {
			return nil, invalid("miner %s listed twice", a)
		}
		g.Miners = append(g.Miners, a)
	}
	bm := f.BlockMining
	if math.IsNaN(bm.Interval) || bm.Interval < 0.05 || bm.Interval > 86400 {
		return nil, invalid("block_mining.interval must be between 0.05 and 86400 seconds")
	}
	g.IntervalMs = uint64(math.Round(bm.Interval * 1000))
	if bm.MaxBound == 0 || bm.MaxBound > types.MaxBlockTxs {
		return nil, invalid("block_mining.max_bound must be between 1 and %d", types.MaxBlockTxs)
	}
	if bm.MinBound > bm.MaxBound {
		return nil, invalid("block_mining.min_bound exceeds max_bound")
	}
	switch g.MaxBlockBytes = bm.MaxBlockBytes; {
	case bm.MaxBlockBytes == 0:
		g.MaxBlockBytes = DefaultMaxBlockBytes
	case bm.MaxBlockBytes > MaxBlockBytesLimit:
		return nil, invalid("block_mining.max_block_bytes %d is above %d: a block that large could not cross the P2P frame limit of 16 MiB",
			bm.MaxBlockBytes, MaxBlockBytesLimit)
	case bm.MaxBlockBytes < MinBlockBytes:
		return nil, invalid("block_mining.max_block_bytes %d is below %d", bm.MaxBlockBytes, MinBlockBytes)
	}
	if bm.Difficulty > 8 || f.GenesisBlock.Difficulty > 8 {
		return nil, invalid("difficulty above 8 hex digits would stall sealing")
	}
	if f.Timestamp > math.MaxUint64/1000 {
		return nil, invalid("timestamp out of range")
	}
	g.TimeMs = f.Timestamp * 1000
	if f.GenesisBlock.Coinbase != "" {
		if _, err := crypto.ParseAddress(strings.ToLower(f.GenesisBlock.Coinbase)); err != nil {
			return nil, invalid("genesis_block.coinbase: %v", err)
		}
	}
	switch f.Finality {
	case "", FinalityMajority:
		g.File.Finality = FinalityMajority
		g.Quorum = len(g.Miners)/2 + 1
	case FinalityTwoThirds:
		g.Quorum = len(g.Miners)*2/3 + 1
	default:
		return nil, invalid("finality %q is not %q or %q", f.Finality, FinalityMajority, FinalityTwoThirds)
	}
	// Total supply must leave room for a long run of rewards.
	var total uint64
	for s, a := range f.Alloc {
		addr, err := crypto.ParseAddress(strings.ToLower(s))
		if err != nil {
			return nil, invalid("alloc %q: %v", s, err)
		}
		if _, dup := g.Alloc[addr]; dup {
			return nil, invalid("alloc %s listed twice", addr)
		}
		if a.Balance > math.MaxUint64/2-total {
			return nil, invalid("alloc total exceeds 2^63")
		}
		total += a.Balance
		g.Alloc[addr] = types.Account{Balance: a.Balance, Nonce: a.Nonce}
	}
	g.allocTotal = total
	return g, nil
}

// TotalAlloc is the sum of the initial balances.
func (g *Genesis) TotalAlloc() uint64 { return g.allocTotal }

// sumAlloc adds up the balances of an encoded alloc object one entry at a
// time, without holding the whole allocation in memory.
func sumAlloc(raw json.RawMessage) (uint64, error) {
	if len(raw) == 0 {
		return 0, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, invalid("alloc is not an object")
	}
	var total uint64
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return 0, invalid("alloc: %v", err)
		}
		var a Alloc
		if err := dec.Decode(&a); err != nil {
			return 0, invalid("alloc: %v", err)
		}
		if a.Balance > math.MaxUint64/2-total {
			return 0, invalid("alloc total exceeds 2^63")
		}
		total += a.Balance
	}
	return total, nil
}

// AllocUpdates lists the initial accounts as state tree updates.
func (g *Genesis) AllocUpdates() []smt.Update {
	ups := make([]smt.Update, 0, len(g.Alloc))
	for addr, a := range g.Alloc {
		ups = append(ups, smt.Update{Key: addr, Value: a.Encode(nil)})
	}
	return ups
}

// ConfigHash commits to every consensus parameter, so networks that differ
// in any of them have different chain ids even with the same allocation.
func (g *Genesis) ConfigHash() types.Hash {
	f := g.File
	var b strings.Builder
	b.WriteString("ccoin-genesis-v1\n")
	fmt.Fprintf(&b, "network_id=%d\n", f.NetworkID)
	for _, m := range g.Miners {
		fmt.Fprintf(&b, "miner=%s\n", m)
	}
	bm := f.BlockMining
	fmt.Fprintf(&b, "interval_ms=%d\nmax_bound=%d\nmin_bound=%d\nreward=%d\ndifficulty=%d\nallow_empty=%s\n",
		g.IntervalMs, bm.MaxBound, bm.MinBound, bm.Reward, bm.Difficulty, strconv.FormatBool(bm.AllowEmpty))
	fmt.Fprintf(&b, "finality=%s\ncoinbase=%s\n", g.File.Finality, strings.ToLower(f.GenesisBlock.Coinbase))
	// Only a non-default cap enters the hash, so that the chain ids of
	// genesis files written before the setting existed stay the same.
	if g.MaxBlockBytes != DefaultMaxBlockBytes {
		fmt.Fprintf(&b, "max_block_bytes=%d\n", g.MaxBlockBytes)
	}
	return sha256.Sum256([]byte(b.String()))
}

func (g *Genesis) buildBlock() (*types.Block, error) {
	store := smt.NewMemStore()
	root, err := smt.New(store, 0).Update(types.Hash{}, g.AllocUpdates(), store)
	if err != nil {
		return nil, fmt.Errorf("genesis state root: %w", err)
	}
	cfg := g.ConfigHash()
	h := types.Header{
		Version:    types.HeaderVersion,
		Number:     1,
		Time:       g.TimeMs,
		StateRoot:  root,
		Difficulty: g.File.GenesisBlock.Difficulty,
		Data:       cfg[:],
	}
	h.Mine(0, nil)
	return &types.Block{Header: h}, nil
}

// IsMiner reports whether a is one of the authorities.
func (g *Genesis) IsMiner(a crypto.Address) bool { return slices.Contains(g.Miners, a) }
