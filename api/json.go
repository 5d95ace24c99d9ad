package api

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// The wire shapes. Ids, hashes, addresses and chain ids are lowercase hex
// without 0x; public keys and signatures are standard padded base64; data is
// a string; amounts, nonces and heights are JSON integers. openapi.yaml
// describes each of them, and the tests hold every response to it.
//
// Every byte that enters an id or a signature can be read back exactly, so a
// client can recompute ids and check signatures from the JSON alone: data is
// its UTF-8 text, and when the bytes are not valid UTF-8 (the genesis data is
// a 32-byte hash) data_hex carries them and data is only a display form with
// U+FFFD for the invalid bytes. Integers that JavaScript numbers cannot hold
// exactly and that carry no arithmetic meaning (peer ids) are decimal strings.

// TxJSON is a signed transaction. ID is optional on input; when present it
// must match the transaction.
type TxJSON struct {
	ID        string `json:"id,omitempty"`
	ChainID   string `json:"chain_id"`
	Nonce     uint64 `json:"nonce"`
	From      string `json:"from"`
	To        string `json:"to"`
	Amount    uint64 `json:"amount"`
	Data      string `json:"data"`
	DataHex   string `json:"data_hex,omitempty"`
	Time      uint64 `json:"time"`
	PublicKey string `json:"public_key"`
	Signature string `json:"signature"`
}

// TxStatusJSON is GET /txs/{id}: the transaction and where it stands. Block
// and BlockNumber are null while the transaction is pending.
type TxStatusJSON struct {
	TxJSON
	Status        string  `json:"status"`
	Block         *string `json:"block"`
	BlockNumber   *uint64 `json:"block_number"`
	Index         *int    `json:"index"`
	Confirmations uint64  `json:"confirmations"`
}

// HeaderJSON is a block header with its id. The genesis header has empty
// chain_id, parent and sealer.
type HeaderJSON struct {
	ID         string `json:"id"`
	Version    uint64 `json:"version"`
	ChainID    string `json:"chain_id"`
	Number     uint64 `json:"number"`
	Parent     string `json:"parent"`
	Slot       uint64 `json:"slot"`
	Time       uint64 `json:"time"`
	Sealer     string `json:"sealer"`
	TxRoot     string `json:"tx_root"`
	StateRoot  string `json:"state_root"`
	Reward     uint64 `json:"reward"`
	Difficulty uint64 `json:"difficulty"`
	Data       string `json:"data"`
	DataHex    string `json:"data_hex,omitempty"`
	PowNonce   uint64 `json:"pow_nonce"`
}

// BlockJSON is a block. Transactions is absent when the request said
// ?txs=false; TxCount is always there.
type BlockJSON struct {
	HeaderJSON
	SealerKey    string   `json:"sealer_key"`
	Signature    string   `json:"signature"`
	TxCount      int      `json:"tx_count"`
	Transactions []TxJSON `json:"transactions,omitzero"`
	Finalized    bool     `json:"finalized"`
	Canonical    bool     `json:"canonical"`
}

// BlocksJSON is GET /blocks.
type BlocksJSON struct {
	Blocks []BlockJSON `json:"blocks"`
}

// StatusJSON is GET /status.
type StatusJSON struct {
	Address         string `json:"address"`
	Type            string `json:"type"`
	NetworkID       uint64 `json:"network_id"`
	ChainID         string `json:"chain_id"`
	Height          uint64 `json:"height"`
	Head            string `json:"head"`
	FinalizedHeight uint64 `json:"finalized_height"`
	Finalized       string `json:"finalized"`
	Sync            string `json:"sync"`
	Peers           int    `json:"peers"`
	Version         string `json:"version"`
	Slot            uint64 `json:"slot"`
	Leader          string `json:"leader"`
	NextLeader      string `json:"next_leader"`
	PoolPending     int    `json:"pool_pending"`
	PoolQueued      int    `json:"pool_queued"`
	GenesisTime     uint64 `json:"genesis_time"`
	IntervalMs      uint64 `json:"interval_ms"`
}

// AccountJSON is GET /accounts/{address}.
type AccountJSON struct {
	Address   string `json:"address"`
	Balance   uint64 `json:"balance"`
	Nonce     uint64 `json:"nonce"`
	NextNonce uint64 `json:"next_nonce"`
}

// PoolJSON is GET /pool.
type PoolJSON struct {
	Pending      int      `json:"pending"`
	Queued       int      `json:"queued"`
	Transactions []TxJSON `json:"transactions"`
}

// PeerJSON is one entry of GET /peers. ConnectedAt is unix ms. ID is a
// random 64-bit number, so it travels as a decimal string: JavaScript numbers
// hold integers exactly only up to 2^53.
type PeerJSON struct {
	ID          uint64 `json:"id,string"`
	Address     string `json:"address"`
	ListenAddr  string `json:"listen_addr"`
	RemoteAddr  string `json:"remote_addr"`
	Type        string `json:"type"`
	Version     string `json:"version"`
	Inbound     bool   `json:"inbound"`
	Height      uint64 `json:"height"`
	ConnectedAt int64  `json:"connected_at"`
}

// PeersJSON is GET /peers.
type PeersJSON struct {
	Peers []PeerJSON `json:"peers"`
}

// EvidenceJSON is one equivocation: two headers by one sealer for one slot.
type EvidenceJSON struct {
	Sealer string     `json:"sealer"`
	Slot   uint64     `json:"slot"`
	A      HeaderJSON `json:"a"`
	B      HeaderJSON `json:"b"`
}

// EvidenceListJSON is GET /evidence: sealing equivocations and voting
// offences, each with both signed messages.
type EvidenceListJSON struct {
	Evidence     []EvidenceJSON    `json:"evidence"`
	VoteOffences []VoteOffenceJSON `json:"vote_offences"`
}

// BlockTxIDsJSON is GET /blocks/{ref}/txids: where a block sits and the ids
// of its transactions in block order, for a client that only tracks
// inclusion (the load generator). It costs the node a fraction of the full
// block JSON, which renders every transaction's key and signature.
type BlockTxIDsJSON struct {
	ID        string   `json:"id"`
	Number    uint64   `json:"number"`
	Parent    string   `json:"parent"`
	Canonical bool     `json:"canonical"`
	TxIDs     []string `json:"tx_ids"`
}

// BlockTxIDsToJSON reads the ids a decoded block already holds (decoding
// hashed each transaction once); nothing is re-encoded.
func BlockTxIDsToJSON(b *types.Block, canonical bool) BlockTxIDsJSON {
	j := BlockTxIDsJSON{Number: b.Header.Number, Canonical: canonical, TxIDs: make([]string, len(b.Txs))}
	j.ID = b.ID().String()
	if !b.Header.IsGenesis() { // as in HeaderToJSON: genesis has no parent
		j.Parent = b.Header.Parent.String()
	}
	for i, t := range b.Txs {
		j.TxIDs[i] = t.ID().String()
	}
	return j
}

// EventJSON is the data of one server-sent event. Block (without its
// transactions) comes with head and finalized events; a reorg has OldHead,
// NewHead and Depth.
type EventJSON struct {
	Kind    string     `json:"kind"`
	Block   *BlockJSON `json:"block,omitempty"`
	OldHead string     `json:"old_head,omitempty"`
	NewHead string     `json:"new_head,omitempty"`
	Depth   uint64     `json:"depth,omitempty"`
}

// SubmitResultJSON is the outcome for one submitted transaction. ID is empty
// when the item was too malformed to have one.
type SubmitResultJSON struct {
	ID       string     `json:"id"`
	Accepted bool       `json:"accepted"`
	Error    *ErrorBody `json:"error,omitempty"`
}

// SubmitResponseJSON is POST /txs: one result per submitted item, in order.
type SubmitResponseJSON struct {
	Results []SubmitResultJSON `json:"results"`
}

// ErrorBody is the code and message of an error.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse is every 4xx (and the readyz 503) body.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// The prototype's shapes, kept for its routes under /{node address}/.

// ProtoSendJSON is the body of POST /{addr}/txn/.
type ProtoSendJSON struct {
	SendtoAddress string `json:"sendto_address"`
	Amount        uint64 `json:"amount"`
	Data          string `json:"data"`
}

// ProtoTxQueryJSON is the body of POST /{addr}/txn/{id}/.
type ProtoTxQueryJSON struct {
	BlockNumber *uint64 `json:"block_number"`
}

// ProtoTxJSON is a transaction as the prototype showed it: number is the nonce.
type ProtoTxJSON struct {
	ID        string `json:"id"`
	Number    uint64 `json:"number"`
	From      string `json:"from"`
	To        string `json:"to"`
	Amount    uint64 `json:"amount"`
	Data      string `json:"data"`
	DataHex   string `json:"data_hex,omitempty"`
	Time      uint64 `json:"time"`
	Signature string `json:"signature"`
	PublicKey string `json:"public_key"`
	ChainID   string `json:"chain_id"`
}

// ProtoAccountJSON is one entry of a prototype block's state.
type ProtoAccountJSON struct {
	Address string `json:"address"`
	Nonce   uint64 `json:"nonce"`
	Balance uint64 `json:"balance"`
}

// ProtoBlockJSON is a block as the prototype showed it, with the state of the
// accounts at that block (one page of them).
type ProtoBlockJSON struct {
	Number         uint64                      `json:"number"`
	ID             string                      `json:"id"`
	HashParent     string                      `json:"hash_parent"`
	HashState      string                      `json:"hash_state"`
	HashTxns       string                      `json:"hash_txns"`
	Coinbase       string                      `json:"coinbase"`
	Body           []ProtoTxJSON               `json:"body"`
	Data           string                      `json:"data"`
	DataHex        string                      `json:"data_hex,omitempty"`
	Nonce          uint64                      `json:"nonce"`
	Time           uint64                      `json:"time"`
	Reward         uint64                      `json:"reward"`
	Difficulty     uint64                      `json:"difficulty"`
	State          map[string]ProtoAccountJSON `json:"state"`
	StateTruncated bool                        `json:"state_truncated"`
	StateNext      string                      `json:"state_next,omitempty"`
}

var b64 = base64.StdEncoding.Strict()

// DataToJSON renders a data payload as the data and data_hex fields: the
// text, and the hex of the bytes when they are not valid UTF-8 (then the text
// has U+FFFD in place of each invalid byte, as encoding/json would write it).
func DataToJSON(p []byte) (data, dataHex string) {
	if utf8.Valid(p) {
		return string(p), ""
	}
	var b strings.Builder
	for rest := p; len(rest) > 0; {
		r, n := utf8.DecodeRune(rest)
		b.WriteRune(r) // utf8.RuneError for an invalid byte
		rest = rest[n:]
	}
	return b.String(), hex.EncodeToString(p)
}

// DataFromJSON parses the data and data_hex fields: data_hex, when present,
// is the payload (lowercase or uppercase hex) and data is then ignored, so a
// client may send back exactly what it read.
func DataFromJSON(field, data, dataHex string) ([]byte, error) {
	if dataHex == "" {
		return []byte(data), nil
	}
	p, err := hex.DecodeString(dataHex)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadHex, "%s_hex: want hex", field)
	}
	return p, nil
}

// TxToJSON renders a transaction.
func TxToJSON(t *types.Transaction) TxJSON {
	data, dataHex := DataToJSON(t.Data)
	return TxJSON{
		ID:        t.ID().String(),
		ChainID:   t.ChainID.String(),
		Nonce:     t.Nonce,
		From:      t.From.String(),
		To:        t.To.String(),
		Amount:    t.Amount,
		Data:      data,
		DataHex:   dataHex,
		Time:      t.Time,
		PublicKey: b64.EncodeToString(t.PublicKey),
		Signature: b64.EncodeToString(t.Signature),
	}
}

// TxFromJSON parses a client's transaction. It checks formats and the
// canonical size limits, not the signature (the pool does that). Errors are
// *Error with a stable code.
func TxFromJSON(j TxJSON) (*types.Transaction, error) {
	t := &types.Transaction{Nonce: j.Nonce, Amount: j.Amount, Time: j.Time}
	var err error
	if t.Data, err = DataFromJSON("data", j.Data, j.DataHex); err != nil {
		return nil, err
	}
	if t.ChainID, err = parseHash("chain_id", j.ChainID); err != nil {
		return nil, err
	}
	if t.From, err = parseAddress("from", j.From); err != nil {
		return nil, err
	}
	if t.To, err = parseAddress("to", j.To); err != nil {
		return nil, err
	}
	if len(t.Data) > types.MaxTxData {
		return nil, errorf(http.StatusBadRequest, CodeDataTooLarge, "data is %d bytes, the limit is %d", len(t.Data), types.MaxTxData)
	}
	if len(t.Data) == 0 {
		t.Data = nil
	}
	if t.PublicKey, err = parseBase64("public_key", j.PublicKey); err != nil {
		return nil, err
	}
	if t.Signature, err = parseBase64("signature", j.Signature); err != nil {
		return nil, err
	}
	if len(t.PublicKey) == 0 || len(t.Signature) == 0 {
		return nil, errorf(http.StatusBadRequest, CodeBadSignature, "public_key and signature are required")
	}
	// A canonical round trip applies the codec's field limits and caches the id.
	canon, err := types.DecodeTx(t.Encode(nil))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	if j.ID != "" && j.ID != canon.ID().String() {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "id %q does not match the transaction (%s)", j.ID, canon.ID())
	}
	return canon, nil
}

// HeaderToJSON renders a header with its id.
func HeaderToJSON(h *types.Header) HeaderJSON {
	data, dataHex := DataToJSON(h.Data)
	j := HeaderJSON{
		ID:         h.ID().String(),
		Version:    h.Version,
		Number:     h.Number,
		Slot:       h.Slot,
		Time:       h.Time,
		TxRoot:     h.TxRoot.String(),
		StateRoot:  h.StateRoot.String(),
		Reward:     h.Reward,
		Difficulty: h.Difficulty,
		Data:       data,
		DataHex:    dataHex,
		PowNonce:   h.PowNonce,
	}
	// Genesis has no chain id, parent or sealer; "" says so more honestly
	// than a string of zeros.
	if !h.IsGenesis() {
		j.ChainID, j.Parent, j.Sealer = h.ChainID.String(), h.Parent.String(), h.Sealer.String()
	}
	return j
}

// HeaderFromJSON parses a header and checks that it hashes to its id.
func HeaderFromJSON(j HeaderJSON) (types.Header, error) {
	h := types.Header{
		Version: j.Version, Number: j.Number, Slot: j.Slot, Time: j.Time, Reward: j.Reward,
		Difficulty: j.Difficulty, PowNonce: j.PowNonce,
	}
	var err error
	if h.Data, err = DataFromJSON("data", j.Data, j.DataHex); err != nil {
		return h, err
	}
	if len(h.Data) == 0 {
		h.Data = nil
	}
	if j.ChainID != "" {
		if h.ChainID, err = parseHash("chain_id", j.ChainID); err != nil {
			return h, err
		}
	}
	if j.Parent != "" {
		if h.Parent, err = parseHash("parent", j.Parent); err != nil {
			return h, err
		}
	}
	if j.Sealer != "" {
		if h.Sealer, err = parseAddress("sealer", j.Sealer); err != nil {
			return h, err
		}
	}
	if h.TxRoot, err = parseHash("tx_root", j.TxRoot); err != nil {
		return h, err
	}
	if h.StateRoot, err = parseHash("state_root", j.StateRoot); err != nil {
		return h, err
	}
	if _, err := types.DecodeHeader(h.Encode(nil)); err != nil {
		return h, errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	if id := h.ID().String(); j.ID != "" && j.ID != id {
		return h, errorf(http.StatusBadRequest, CodeBadRequest, "id %q does not match the header (%s)", j.ID, id)
	}
	return h, nil
}

// BlockToJSON renders a block; finalized and canonical come from the chain,
// and withTxs=false leaves the transactions out.
func BlockToJSON(b *types.Block, withTxs, finalized, canonical bool) BlockJSON {
	j := BlockJSON{
		HeaderJSON: HeaderToJSON(&b.Header),
		SealerKey:  b64.EncodeToString(b.SealerKey),
		Signature:  b64.EncodeToString(b.Signature),
		TxCount:    len(b.Txs),
		Finalized:  finalized,
		Canonical:  canonical,
	}
	j.ID = b.ID().String()
	if withTxs {
		j.Transactions = make([]TxJSON, len(b.Txs))
		for i, t := range b.Txs {
			j.Transactions[i] = TxToJSON(t)
		}
	}
	return j
}

// BlockFromJSON parses a block (its transactions, if present) and checks its
// id. It does not verify the seal.
func BlockFromJSON(j BlockJSON) (*types.Block, error) {
	h, err := HeaderFromJSON(j.HeaderJSON)
	if err != nil {
		return nil, err
	}
	b := &types.Block{Header: h}
	if b.SealerKey, err = parseBase64("sealer_key", j.SealerKey); err != nil {
		return nil, err
	}
	if b.Signature, err = parseBase64("signature", j.Signature); err != nil {
		return nil, err
	}
	for _, tj := range j.Transactions {
		t, err := TxFromJSON(tj)
		if err != nil {
			return nil, err
		}
		b.Txs = append(b.Txs, t)
	}
	canon, err := types.DecodeBlock(b.Encode(nil))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	return canon, nil
}

func statusToJSON(s Status) StatusJSON {
	return StatusJSON{
		Address: s.Address, Type: s.Type, NetworkID: s.NetworkID, ChainID: s.ChainID,
		Height: s.Height, Head: s.Head, FinalizedHeight: s.FinalizedHeight, Finalized: s.Finalized,
		Sync: s.Sync, Peers: s.Peers, Version: s.Version, Slot: s.Slot, Leader: s.Leader,
		NextLeader: s.NextLeader, PoolPending: s.PoolPending, PoolQueued: s.PoolQueued,
		GenesisTime: s.GenesisTime, IntervalMs: s.IntervalMs,
	}
}

func accountToJSON(a AccountInfo) AccountJSON {
	return AccountJSON{Address: a.Address.String(), Balance: a.Balance, Nonce: a.Nonce, NextNonce: a.NextNonce}
}

func txStatusToJSON(ti TxInfo) TxStatusJSON {
	j := TxStatusJSON{TxJSON: TxToJSON(ti.Tx), Status: ti.Status, Confirmations: ti.Confirmations}
	if ti.BlockID != nil {
		id, n, idx := ti.BlockID.String(), ti.BlockNumber, ti.Index
		j.Block, j.BlockNumber, j.Index = &id, &n, &idx
	}
	return j
}

func protoTxToJSON(t *types.Transaction) ProtoTxJSON {
	data, dataHex := DataToJSON(t.Data)
	return ProtoTxJSON{
		ID: t.ID().String(), Number: t.Nonce, From: t.From.String(), To: t.To.String(),
		Amount: t.Amount, Data: data, DataHex: dataHex, Time: t.Time,
		Signature: b64.EncodeToString(t.Signature), PublicKey: b64.EncodeToString(t.PublicKey),
		ChainID: t.ChainID.String(),
	}
}

func peerToJSON(p PeerInfo) PeerJSON {
	var at int64
	if !p.ConnectedAt.IsZero() {
		at = p.ConnectedAt.UnixMilli()
	}
	return PeerJSON{
		ID: p.ID, Address: p.Address, ListenAddr: p.ListenAddr, RemoteAddr: p.RemoteAddr,
		Type: p.Type, Version: p.Version, Inbound: p.Inbound, Height: p.Height, ConnectedAt: at,
	}
}

func parseHash(field, s string) (types.Hash, error) {
	h, err := types.ParseHash(s)
	if err != nil {
		return h, errorf(http.StatusBadRequest, CodeBadHex, "%s: want 64 hex characters", field)
	}
	return h, nil
}

func parseAddress(field, s string) (crypto.Address, error) {
	a, err := crypto.ParseAddress(s)
	if err != nil {
		return a, errorf(http.StatusBadRequest, CodeBadAddress, "%s: want 40 hex characters", field)
	}
	return a, nil
}

func parseBase64(field, s string) ([]byte, error) {
	p, err := b64.DecodeString(s)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "%s: want standard padded base64", field)
	}
	return p, nil
}

// parseBlockRef tells a decimal block number from a 64-hex block id.
func parseBlockRef(s string) (n uint64, id types.Hash, isID bool, err error) {
	if len(s) == 64 {
		if _, herr := hex.DecodeString(s); herr != nil {
			return 0, id, false, errorf(http.StatusBadRequest, CodeBadHex, "block id: want 64 hex characters")
		}
		id, _ = types.ParseHash(s)
		return 0, id, true, nil
	}
	n, perr := strconv.ParseUint(s, 10, 64)
	if perr != nil || n == 0 || s[0] == '+' {
		return 0, id, false, errorf(http.StatusBadRequest, CodeBadRequest, "want a block number (1 or more) or a 64-hex block id, got %q", truncate(s, 80))
	}
	return n, id, false, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
