package types

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"testing"
	"unicode/utf8"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the fixed vector keys (deterministic)")

const vectorsPath = "../../testdata/vectors.json"

// Vectors is the published test-vector file other clients check against
// (PROTOCOL.md points into it). The first three sections keep the shape of
// the first published version; the rest were added for PROTOCOL.md.
type Vectors struct {
	Comment     string    `json:"comment"`
	Key         VectorKey `json:"key"`
	Transaction struct {
		ChainID           string `json:"chain_id"`
		Nonce             uint64 `json:"nonce"`
		From              string `json:"from"`
		To                string `json:"to"`
		Amount            uint64 `json:"amount"`
		Data              string `json:"data"`
		Time              uint64 `json:"time"`
		UnsignedEncoding  string `json:"unsigned_encoding_hex"`
		ID                string `json:"id"`
		Signature         string `json:"signature_base64"`
		SignedEncodingHex string `json:"signed_encoding_hex"`
	} `json:"transaction"`
	Block struct {
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
		PowNonce   uint64 `json:"pow_nonce"`
		SealHash   string `json:"seal_hash"`
		ID         string `json:"id"`
		Signature  string `json:"signature_base64"`
		Encoding   string `json:"encoding_hex"`
	} `json:"block"`

	// Keys are the other fixed keys: the devnet miners, in genesis.json order.
	Keys         []VectorKey     `json:"keys"`
	Transactions []VectorTx      `json:"transactions"`
	BlockWithTxs VectorBlock     `json:"block_with_txs"`
	TxRoots      []VectorTxRoot  `json:"tx_roots"`
	Accounts     []VectorAccount `json:"accounts"`
	Rejected     []VectorReject  `json:"rejected"`
}

// VectorKey is a key pair and its address.
type VectorKey struct {
	PrivateKeyPEM string `json:"private_key_pem"`
	PublicKeyDER  string `json:"public_key_der_base64"`
	Address       string `json:"address"`
}

// VectorTx is one signed transaction. Data is the payload as text when it is
// valid UTF-8 (as the HTTP API shows it); DataHex always holds its bytes.
type VectorTx struct {
	Comment          string `json:"comment"`
	ChainID          string `json:"chain_id"`
	Nonce            uint64 `json:"nonce"`
	From             string `json:"from"`
	To               string `json:"to"`
	Amount           uint64 `json:"amount"`
	Data             string `json:"data,omitempty"`
	DataHex          string `json:"data_hex"`
	Time             uint64 `json:"time"`
	UnsignedEncoding string `json:"unsigned_encoding_hex"`
	ID               string `json:"id"`
	PublicKey        string `json:"public_key_der_base64"`
	Signature        string `json:"signature_base64"`
	SignedEncoding   string `json:"signed_encoding_hex"`
}

// VectorBlock is a sealed block with every intermediate value.
type VectorBlock struct {
	Comment          string   `json:"comment"`
	Version          uint64   `json:"version"`
	ChainID          string   `json:"chain_id"`
	Number           uint64   `json:"number"`
	Parent           string   `json:"parent"`
	Slot             uint64   `json:"slot"`
	Time             uint64   `json:"time"`
	Sealer           string   `json:"sealer"`
	TxRoot           string   `json:"tx_root"`
	StateRoot        string   `json:"state_root"`
	Reward           uint64   `json:"reward"`
	Difficulty       uint64   `json:"difficulty"`
	DataHex          string   `json:"data_hex"`
	PowNonce         uint64   `json:"pow_nonce"`
	TxIDs            []string `json:"tx_ids"`
	SealEncoding     string   `json:"seal_encoding_hex"`
	SealHash         string   `json:"seal_hash"`
	PowInput         string   `json:"pow_input_hex"`
	ID               string   `json:"id"`
	HeaderEncoding   string   `json:"header_encoding_hex"`
	SealerKey        string   `json:"sealer_key_der_base64"`
	Signature        string   `json:"signature_base64"`
	Encoding         string   `json:"encoding_hex"`
	SealedHeaderEnc  string   `json:"sealed_header_encoding_hex"`
	TransactionsSeen int      `json:"transaction_count"`
}

// VectorTxRoot is tx_root over a list of ids, with the RFC 6962 leaf hashes.
type VectorTxRoot struct {
	IDs        []string `json:"ids"`
	LeafHashes []string `json:"leaf_hashes"`
	Root       string   `json:"root"`
}

// VectorAccount is an account state and its canonical encoding (the state
// tree's leaf value).
type VectorAccount struct {
	Balance  uint64 `json:"balance"`
	Nonce    uint64 `json:"nonce"`
	Encoding string `json:"encoding_hex"`
}

// VectorReject is an encoding a decoder must refuse.
type VectorReject struct {
	Comment string `json:"comment"`
	Kind    string `json:"kind"` // "transaction", "block" or "header"
	Hex     string `json:"hex"`
}

func mustHash(t *testing.T, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustAddr(t *testing.T, s string) crypto.Address {
	t.Helper()
	a, err := crypto.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func vectorKey(k *crypto.PrivateKey, withPrivate bool) VectorKey {
	v := VectorKey{PublicKeyDER: b64(k.Public().DER()), Address: k.Address().String()}
	if withPrivate {
		pem, _ := crypto.EncodePrivateKeyPEM(k, nil)
		v.PrivateKeyPEM = string(pem)
	}
	return v
}

// signTx signs deterministically, as Transaction.Sign does with a random salt.
func signTx(t *testing.T, tx *Transaction, k *crypto.PrivateKey) {
	t.Helper()
	if k.Address() != tx.From {
		t.Fatal("vector key does not own from")
	}
	tx.PublicKey = k.Public().DER()
	tx.Signature = cryptotest.SignDeterministic(k, tx.ID())
}

func vectorTx(t *testing.T, v *Vectors) *Transaction {
	return &Transaction{
		ChainID: mustHash(t, v.Transaction.ChainID),
		Nonce:   v.Transaction.Nonce,
		From:    mustAddr(t, v.Transaction.From),
		To:      mustAddr(t, v.Transaction.To),
		Amount:  v.Transaction.Amount,
		Data:    []byte(v.Transaction.Data),
		Time:    v.Transaction.Time,
	}
}

func txVector(comment string, tx *Transaction) VectorTx {
	v := VectorTx{Comment: comment, ChainID: tx.ChainID.String(), Nonce: tx.Nonce, From: tx.From.String(),
		To: tx.To.String(), Amount: tx.Amount, DataHex: hex.EncodeToString(tx.Data), Time: tx.Time,
		UnsignedEncoding: hex.EncodeToString(tx.EncodeUnsigned(nil)), ID: tx.ID().String(),
		PublicKey: b64(tx.PublicKey), Signature: b64(tx.Signature), SignedEncoding: hex.EncodeToString(tx.Encode(nil))}
	if utf8.Valid(tx.Data) {
		v.Data = string(tx.Data)
	}
	return v
}

const vectorChainID = "0000a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e"

// rfc6962Root is the RFC 6962 (section 2.1) Merkle tree hash, written from
// the RFC independently of TxRoot: the largest power of two below n splits.
func rfc6962Root(ids []Hash) Hash {
	switch len(ids) {
	case 0:
		return Hash{} // RFC 6962 hashes the empty list to SHA-256(""); ccoin uses zeros
	case 1:
		return sha256.Sum256(append([]byte{0}, ids[0][:]...))
	}
	k := 1
	for k*2 < len(ids) {
		k *= 2
	}
	l, r := rfc6962Root(ids[:k]), rfc6962Root(ids[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func writeVectors(t *testing.T) {
	keys := cryptotest.VectorKeys(t)
	wallet, miners := keys[0], keys[1:]
	var v Vectors
	v.Comment = "ccoin canonical encoding test vectors, see PROTOCOL.md. Made by `go test ./ccoin/types -run TestVectors -update` " +
		"from the fixed keys in testdata/vector-keys and testdata/devnet-keys; regenerating gives the same bytes. " +
		"Signatures are RSA-PSS/SHA-256, MGF1-SHA-256, salt 32 bytes, over the SHA-256 digest of the unsigned encoding " +
		"(the transaction id; for blocks the block id). PSS is randomised: these were made with the salt " +
		"SHA-256(\"ccoin test vector salt\\x00\" || digest) so that they are reproducible, but a verifier must only check " +
		"that they verify, never compare signature bytes. *_hex fields are lowercase hex, *_base64 standard padded base64."
	v.Key = vectorKey(wallet, true)
	for _, k := range miners {
		v.Keys = append(v.Keys, vectorKey(k, true))
	}

	v.Transaction.ChainID = vectorChainID
	v.Transaction.Nonce = 1
	v.Transaction.From = wallet.Address().String()
	v.Transaction.To = "00112233445566778899aabbccddeeff00112233"
	v.Transaction.Amount = 250
	v.Transaction.Data = "hello ccoin"
	v.Transaction.Time = 1767225600000
	tx := vectorTx(t, &v)
	signTx(t, tx, wallet)
	v.Transaction.UnsignedEncoding = hex.EncodeToString(tx.EncodeUnsigned(nil))
	v.Transaction.ID = tx.ID().String()
	v.Transaction.Signature = b64(tx.Signature)
	v.Transaction.SignedEncodingHex = hex.EncodeToString(tx.Encode(nil))

	chain := mustHash(t, vectorChainID)
	to := mustAddr(t, v.Transaction.To)
	big := bytes.Repeat([]byte("0123456789abcdef"), 20) // 320 bytes: bin 16
	cases := []struct {
		comment string
		tx      Transaction
		key     *crypto.PrivateKey
	}{
		{"empty data: bin 8 of length 0 (c4 00), never nil", Transaction{Nonce: 2, Amount: 1, Time: 1767225601000}, wallet},
		{"data that is not UTF-8 (the HTTP API adds data_hex for it); amount 127 is the largest positive fixint", Transaction{Nonce: 3, Amount: 127, Data: []byte{0xff, 0x00, 0xfe, 0x80}, Time: 1767225602000}, wallet},
		{"integers 128 (cc), 256 (cd), 65536 (ce): always the shortest form; UTF-8 text data", Transaction{Nonce: 128, Amount: 256, Data: []byte("caf\u00e9 \u2615"), Time: 65536}, wallet},
		{"amount 2^32 and time 2^64-1 (cf); data of 320 bytes (bin 16, c5)", Transaction{Nonce: 255, Amount: 1 << 32, Data: big, Time: math.MaxUint64}, wallet},
		{"another sender: a devnet miner", Transaction{Nonce: 1, Amount: 1000, Data: []byte("miner pays"), Time: 1767225603000}, miners[0]},
	}
	var blockTxs []*Transaction
	for _, c := range cases {
		tx := c.tx
		tx.ChainID, tx.From, tx.To = chain, c.key.Address(), to
		signTx(t, &tx, c.key)
		v.Transactions = append(v.Transactions, txVector(c.comment, &tx))
		if tx.Nonce < 100 {
			blockTxs = append(blockTxs, &tx)
		}
	}

	// The first-published block: one transaction.
	h := Header{Version: HeaderVersion, ChainID: chain, Number: 2, Slot: 7, Time: 1767225607000, Sealer: miners[1].Address(),
		TxRoot: TxRoot([]Hash{tx.ID()}), StateRoot: mustHash(t, "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"),
		Reward: 100, Difficulty: 2, Data: []byte("block data")}
	h.Parent = chain
	h.Mine(0, nil)
	blk := &Block{Header: h, Txs: []*Transaction{tx}, SealerKey: miners[1].Public().DER()}
	blk.Signature = cryptotest.SignDeterministic(miners[1], blk.ID())
	b := &v.Block
	b.ChainID, b.Number, b.Parent, b.Slot, b.Time = h.ChainID.String(), h.Number, h.Parent.String(), h.Slot, h.Time
	b.Sealer, b.TxRoot, b.StateRoot, b.Reward, b.Difficulty = h.Sealer.String(), h.TxRoot.String(), h.StateRoot.String(), h.Reward, h.Difficulty
	b.Data, b.PowNonce, b.SealHash, b.ID = string(h.Data), h.PowNonce, h.SealHash().String(), blk.ID().String()
	b.Signature = b64(blk.Signature)
	b.Encoding = hex.EncodeToString(blk.Encode(nil))

	// A block with several transactions from two senders, in block order.
	all := append([]*Transaction{tx}, blockTxs...)
	ids := make([]Hash, len(all))
	for i, t := range all {
		ids[i] = t.ID()
	}
	h2 := Header{Version: HeaderVersion, ChainID: chain, Number: 3, Parent: blk.ID(), Slot: 9, Time: 1767225609000,
		Sealer: miners[0].Address(), TxRoot: TxRoot(ids), StateRoot: sha256.Sum256([]byte("any state root")),
		Reward: 100, Difficulty: 3, Data: []byte{0xde, 0xad, 0xbe, 0xef}}
	h2.Mine(0, nil)
	blk2 := &Block{Header: h2, Txs: all, SealerKey: miners[0].Public().DER()}
	blk2.Signature = cryptotest.SignDeterministic(miners[0], blk2.ID())
	v.BlockWithTxs = blockVector("block 3 sealed by the first devnet miner with the first-published transaction and the "+
		"other transactions of nonce below 100, in that order; pow_nonce is the smallest that meets difficulty 3", blk2)

	for n := 0; n <= 7; n++ {
		r := VectorTxRoot{IDs: []string{}, LeafHashes: []string{}}
		var ids []Hash
		for i := 0; i < n; i++ {
			id := Hash(sha256.Sum256([]byte{byte(i)}))
			ids = append(ids, id)
			leaf := sha256.Sum256(append([]byte{0}, id[:]...))
			r.IDs = append(r.IDs, id.String())
			r.LeafHashes = append(r.LeafHashes, hex.EncodeToString(leaf[:]))
		}
		r.Root = TxRoot(ids).String()
		v.TxRoots = append(v.TxRoots, r)
	}

	for _, a := range []Account{{0, 0}, {127, 1}, {1000000000, 0}, {1 << 40, 65536}, {math.MaxUint64, math.MaxUint64}} {
		v.Accounts = append(v.Accounts, VectorAccount{a.Balance, a.Nonce, hex.EncodeToString(a.Encode(nil))})
	}

	good := tx.Encode(nil)
	hdr := blk.Header.Encode(nil)
	reject := func(comment, kind string, b []byte) {
		v.Rejected = append(v.Rejected, VectorReject{comment, kind, hex.EncodeToString(b)})
	}
	reject("trailing byte after a valid transaction", "transaction", append(bytes.Clone(good), 0))
	i := bytes.Index(good, []byte{0xcc, 0xfa}) // amount 250
	reject("amount 250 as cd 00 fa instead of cc fa: not the shortest form", "transaction",
		append(append(bytes.Clone(good[:i]), 0xcd, 0x00, 0xfa), good[i+2:]...))
	reject("nonce 1 as a signed int (d0 01)", "transaction", append(append(bytes.Clone(good[:35]), 0xd0, 0x01), good[36:]...))
	s := bytes.Clone(good)
	s[1] = 0xd9 // chain_id as str 8
	reject("chain_id as str 8 (d9) instead of bin 8 (c4)", "transaction", s)
	reject("unsigned (7-element) encoding where a signed transaction is expected", "transaction", tx.EncodeUnsigned(nil))
	s = bytes.Clone(good)
	s[2] = 31
	reject("chain_id of 31 bytes", "transaction", append(s[:34], s[35:]...))
	hv := bytes.Clone(hdr)
	hv[1] = 2
	reject("header version 2", "header", hv)
	reject("block with a trailing byte", "block", append(blk.Encode(nil), 0))
	g := bytes.Clone(hdr)
	g[36] = 1 // [0x9d, version, c4 20 chain_id(32), number...]
	reject("block number 1 (genesis) with a chain_id, parent and sealer", "header", g)

	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsPath, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func blockVector(comment string, b *Block) VectorBlock {
	h := &b.Header
	seal := h.appendSealFields(appendArray(nil, 12))
	sh := h.SealHash()
	pow := append(bytes.Clone(sh[:]), 0, 0, 0, 0, 0, 0, 0, 0)
	for i := 0; i < 8; i++ {
		pow[32+i] = byte(h.PowNonce >> (56 - 8*i))
	}
	v := VectorBlock{Comment: comment, Version: h.Version, ChainID: h.ChainID.String(), Number: h.Number,
		Parent: h.Parent.String(), Slot: h.Slot, Time: h.Time, Sealer: h.Sealer.String(), TxRoot: h.TxRoot.String(),
		StateRoot: h.StateRoot.String(), Reward: h.Reward, Difficulty: h.Difficulty, DataHex: hex.EncodeToString(h.Data),
		PowNonce: h.PowNonce, TxIDs: []string{}, SealEncoding: hex.EncodeToString(seal), SealHash: sh.String(),
		PowInput: hex.EncodeToString(pow), ID: b.ID().String(), HeaderEncoding: hex.EncodeToString(h.Encode(nil)),
		SealerKey: b64(b.SealerKey), Signature: b64(b.Signature), Encoding: hex.EncodeToString(b.Encode(nil)),
		TransactionsSeen: len(b.Txs)}
	sealed := Block{Header: b.Header, SealerKey: b.SealerKey, Signature: b.Signature}
	v.SealedHeaderEnc = hex.EncodeToString(sealed.Encode(nil))
	for _, id := range b.TxIDs() {
		v.TxIDs = append(v.TxIDs, id.String())
	}
	return v
}

func loadVectors(t *testing.T) *Vectors {
	t.Helper()
	if *update {
		writeVectors(t)
	}
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var v Vectors
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func checkKey(t *testing.T, v VectorKey) {
	t.Helper()
	k, err := crypto.DecodePrivateKeyPEM([]byte(v.PrivateKeyPEM), nil)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(v.PublicKeyDER)
	if k.Address().String() != v.Address || b64(k.Public().DER()) != v.PublicKeyDER || crypto.AddressOf(der).String() != v.Address {
		t.Fatalf("key %s: private key, public key and address disagree", v.Address)
	}
	// Address = first 20 bytes of SHA-256(DER), lowercase hex.
	sum := sha256.Sum256(der)
	if hex.EncodeToString(sum[:20]) != v.Address {
		t.Fatalf("address %s is not the SHA-256 prefix of its key", v.Address)
	}
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	checkKey(t, v.Key)
	for _, k := range v.Keys {
		checkKey(t, k)
	}
	k, _ := crypto.DecodePrivateKeyPEM([]byte(v.Key.PrivateKeyPEM), nil)

	tx := vectorTx(t, v)
	if got := hex.EncodeToString(tx.EncodeUnsigned(nil)); got != v.Transaction.UnsignedEncoding {
		t.Fatalf("unsigned encoding\n got %s\nwant %s", got, v.Transaction.UnsignedEncoding)
	}
	if tx.ID().String() != v.Transaction.ID {
		t.Fatalf("tx id %s, want %s", tx.ID(), v.Transaction.ID)
	}
	signed, _ := hex.DecodeString(v.Transaction.SignedEncodingHex)
	dtx, err := DecodeTx(signed)
	if err != nil {
		t.Fatal(err)
	}
	if dtx.ID() != tx.ID() || hex.EncodeToString(dtx.Encode(nil)) != v.Transaction.SignedEncodingHex {
		t.Fatal("signed transaction does not round-trip")
	}
	if err := dtx.VerifySignature(nil); err != nil {
		t.Fatalf("vector signature: %v", err)
	}
	// A fresh signature differs (PSS is randomised) but verifies too.
	if err := tx.Sign(k); err != nil || tx.VerifySignature(nil) != nil {
		t.Fatal("fresh signature does not verify")
	}

	enc, _ := hex.DecodeString(v.Block.Encoding)
	blk, err := DecodeBlock(enc)
	if err != nil {
		t.Fatal(err)
	}
	h := blk.Header
	if h.SealHash().String() != v.Block.SealHash || blk.ID().String() != v.Block.ID || h.PowNonce != v.Block.PowNonce {
		t.Fatal("block seal hash, id or nonce differ from the vectors")
	}
	if h.TxRoot != TxRoot(blk.TxIDs()) || h.TxRoot.String() != v.Block.TxRoot {
		t.Fatal("tx root differs")
	}
	if err := blk.VerifySeal(nil); err != nil {
		t.Fatalf("block seal: %v", err)
	}
	if hex.EncodeToString(blk.Encode(nil)) != v.Block.Encoding {
		t.Fatal("block does not round-trip")
	}

	t.Run("transactions", func(t *testing.T) { checkTxVectors(t, v.Transactions) })
	t.Run("block_with_txs", func(t *testing.T) { checkBlockVector(t, v.BlockWithTxs) })
	t.Run("tx_roots", func(t *testing.T) {
		for _, r := range v.TxRoots {
			ids := make([]Hash, len(r.IDs))
			for i, s := range r.IDs {
				ids[i] = mustHash(t, s)
				leaf := sha256.Sum256(append([]byte{0}, ids[i][:]...))
				if hex.EncodeToString(leaf[:]) != r.LeafHashes[i] {
					t.Fatalf("%d ids: leaf %d", len(ids), i)
				}
			}
			if got := TxRoot(ids); got.String() != r.Root || rfc6962Root(ids) != got {
				t.Fatalf("%d ids: root %s, vector %s, RFC 6962 %s", len(ids), got, r.Root, rfc6962Root(ids))
			}
		}
	})
	t.Run("accounts", func(t *testing.T) {
		for _, a := range v.Accounts {
			acc := Account{a.Balance, a.Nonce}
			if hex.EncodeToString(acc.Encode(nil)) != a.Encoding {
				t.Fatalf("account %+v encodes differently", acc)
			}
			if d, err := DecodeAccount(mustHex(t, a.Encoding)); err != nil || d != acc {
				t.Fatalf("account %+v: decode %v %v", acc, d, err)
			}
		}
	})
	t.Run("rejected", func(t *testing.T) {
		for _, r := range v.Rejected {
			var err error
			switch r.Kind {
			case "transaction":
				_, err = DecodeTx(mustHex(t, r.Hex))
			case "block":
				_, err = DecodeBlock(mustHex(t, r.Hex))
			case "header":
				_, err = DecodeHeader(mustHex(t, r.Hex))
			default:
				t.Fatalf("unknown kind %q", r.Kind)
			}
			if !errors.Is(err, ErrEncoding) {
				t.Errorf("%s: want ErrEncoding, got %v", r.Comment, err)
			}
		}
	})
}

func checkTxVectors(t *testing.T, txs []VectorTx) {
	for _, c := range txs {
		data := mustHex(t, c.DataHex)
		if utf8.Valid(data) != (c.Data != "" || len(data) == 0) || (c.Data != "" && c.Data != string(data)) {
			t.Fatalf("%s: data and data_hex disagree", c.Comment)
		}
		tx := &Transaction{ChainID: mustHash(t, c.ChainID), Nonce: c.Nonce, From: mustAddr(t, c.From), To: mustAddr(t, c.To),
			Amount: c.Amount, Data: data, Time: c.Time}
		if got := hex.EncodeToString(tx.EncodeUnsigned(nil)); got != c.UnsignedEncoding {
			t.Fatalf("%s: unsigned encoding\n got %s\nwant %s", c.Comment, got, c.UnsignedEncoding)
		}
		id := sha256.Sum256(mustHex(t, c.UnsignedEncoding))
		if tx.ID().String() != c.ID || hex.EncodeToString(id[:]) != c.ID {
			t.Fatalf("%s: id", c.Comment)
		}
		d, err := DecodeTx(mustHex(t, c.SignedEncoding))
		if err != nil {
			t.Fatalf("%s: %v", c.Comment, err)
		}
		if d.ID() != tx.ID() || b64(d.PublicKey) != c.PublicKey || b64(d.Signature) != c.Signature {
			t.Fatalf("%s: signed encoding disagrees with its fields", c.Comment)
		}
		if err := d.VerifySignature(nil); err != nil {
			t.Fatalf("%s: %v", c.Comment, err)
		}
	}
}

func checkBlockVector(t *testing.T, v VectorBlock) {
	b, err := DecodeBlock(mustHex(t, v.Encoding))
	if err != nil {
		t.Fatal(err)
	}
	h := &b.Header
	if h.Version != v.Version || h.ChainID.String() != v.ChainID || h.Number != v.Number || h.Parent.String() != v.Parent ||
		h.Slot != v.Slot || h.Time != v.Time || h.Sealer.String() != v.Sealer || h.TxRoot.String() != v.TxRoot ||
		h.StateRoot.String() != v.StateRoot || h.Reward != v.Reward || h.Difficulty != v.Difficulty ||
		hex.EncodeToString(h.Data) != v.DataHex || h.PowNonce != v.PowNonce || len(b.Txs) != v.TransactionsSeen {
		t.Fatal("decoded header fields differ from the vector")
	}
	ids := make([]Hash, len(v.TxIDs))
	for i, s := range v.TxIDs {
		ids[i] = mustHash(t, s)
		if b.Txs[i].ID() != ids[i] {
			t.Fatalf("tx %d id", i)
		}
	}
	if TxRoot(ids).String() != v.TxRoot {
		t.Fatal("tx_root")
	}
	seal := mustHex(t, v.SealEncoding)
	if sh := sha256.Sum256(seal); hex.EncodeToString(sh[:]) != v.SealHash || h.SealHash().String() != v.SealHash {
		t.Fatal("seal hash")
	}
	if !bytes.HasPrefix(mustHex(t, v.HeaderEncoding), append([]byte{0x9d}, seal[1:]...)) {
		t.Fatal("the header encoding is not the seal encoding with pow_nonce appended")
	}
	pow := mustHex(t, v.PowInput)
	if id := Hash(sha256.Sum256(pow)); id.String() != v.ID || b.ID().String() != v.ID || hex.EncodeToString(pow[:32]) != v.SealHash {
		t.Fatal("pow input or id")
	}
	if !MeetsDifficulty(b.ID(), h.Difficulty) {
		t.Fatal("difficulty")
	}
	for n := uint64(0); n < h.PowNonce; n++ {
		if MeetsDifficulty(PowHash(h.SealHash(), n), h.Difficulty) {
			t.Fatalf("pow_nonce %d is not the smallest that meets the difficulty", h.PowNonce)
		}
	}
	if err := b.VerifySeal(nil); err != nil {
		t.Fatal(err)
	}
	if b64(b.SealerKey) != v.SealerKey || b64(b.Signature) != v.Signature || hex.EncodeToString(h.Encode(nil)) != v.HeaderEncoding {
		t.Fatal("seal fields")
	}
	sealed, err := DecodeBlock(mustHex(t, v.SealedHeaderEnc))
	if err != nil || sealed.ID() != b.ID() || len(sealed.Txs) != 0 {
		t.Fatalf("sealed header: %v", err)
	}
	if hex.EncodeToString(b.Encode(nil)) != v.Encoding {
		t.Fatal("block does not round-trip")
	}
}

// TestFinalityVectorEncodings checks the byte-level part of
// testdata/finality-vectors.json (made and checked in full, with the
// finality rules, by ccoin/consensus TestFinalityVectors): the vote's
// unsigned and signed encodings, id and signature, the certificate's
// encoding, and the encodings a decoder refuses.
func TestFinalityVectorEncodings(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/finality-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Vote struct {
			Version          uint64 `json:"version"`
			ChainID          string `json:"chain_id"`
			SourceEpoch      uint64 `json:"source_epoch"`
			SourceID         string `json:"source_id"`
			TargetEpoch      uint64 `json:"target_epoch"`
			TargetID         string `json:"target_id"`
			Voter            string `json:"voter"`
			UnsignedEncoding string `json:"unsigned_encoding_hex"`
			ID               string `json:"id"`
			VoterKey         string `json:"voter_key_der_base64"`
			Signature        string `json:"signature_base64"`
			SignedEncoding   string `json:"signed_encoding_hex"`
		} `json:"vote"`
		Justification []string `json:"justification_hex"`
		Certificate   struct {
			Header   string   `json:"header_encoding_hex"`
			Votes    []string `json:"votes_hex"`
			Encoding string   `json:"encoding_hex"`
		} `json:"certificate"`
		RefusedVotes []struct {
			Comment  string `json:"comment"`
			Reason   string `json:"reason"`
			Encoding string `json:"encoding_hex"`
		} `json:"refused_votes"`
		RefusedCerts []struct {
			Comment  string `json:"comment"`
			Reason   string `json:"reason"`
			Encoding string `json:"encoding_hex"`
		} `json:"refused_certificates"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	x := v.Vote
	vt := &Vote{Version: x.Version, ChainID: mustHash(t, x.ChainID),
		Source: Checkpoint{x.SourceEpoch, mustHash(t, x.SourceID)}, Target: Checkpoint{x.TargetEpoch, mustHash(t, x.TargetID)},
		Voter: mustAddr(t, x.Voter)}
	unsigned := vt.EncodeUnsigned(nil)
	if hex.EncodeToString(unsigned) != x.UnsignedEncoding {
		t.Fatalf("vote unsigned encoding\n got %x\nwant %s", unsigned, x.UnsignedEncoding)
	}
	if id := sha256.Sum256(unsigned); vt.ID().String() != x.ID || hex.EncodeToString(id[:]) != x.ID {
		t.Fatal("vote id")
	}
	signed := mustHex(t, x.SignedEncoding)
	d, err := DecodeVote(signed)
	if err != nil {
		t.Fatal(err)
	}
	// As for transactions: the unsigned encoding is the signed one with
	// 0x99 -> 0x97 and the last two fields removed.
	if !bytes.HasPrefix(signed, append([]byte{0x99}, unsigned[1:]...)) || d.ID() != vt.ID() ||
		b64(d.VoterKey) != x.VoterKey || b64(d.Signature) != x.Signature || !bytes.Equal(d.Encode(nil), signed) {
		t.Fatal("signed vote disagrees with its fields")
	}
	if err := d.VerifySignature(nil); err != nil {
		t.Fatal(err)
	}
	for _, j := range v.Justification {
		if jv, err := DecodeVote(mustHex(t, j)); err != nil || jv.VerifySignature(nil) != nil {
			t.Fatalf("justification vote: %v", err)
		}
	}
	c, err := DecodeCertificate(mustHex(t, v.Certificate.Encoding))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x92}, mustHex(t, v.Certificate.Header)...)
	want = appendArray(want, len(v.Certificate.Votes))
	for _, vh := range v.Certificate.Votes {
		want = append(want, mustHex(t, vh)...)
	}
	if hex.EncodeToString(want) != v.Certificate.Encoding || !bytes.Equal(c.Encode(nil), want) {
		t.Fatal("certificate is not [header, [votes]]")
	}
	for _, r := range v.RefusedVotes {
		if _, err := DecodeVote(mustHex(t, r.Encoding)); (r.Reason == "malformed") != errors.Is(err, ErrEncoding) {
			t.Errorf("%s: decode err = %v", r.Comment, err)
		}
	}
	for _, r := range v.RefusedCerts {
		if _, err := DecodeCertificate(mustHex(t, r.Encoding)); (r.Reason == "malformed") != errors.Is(err, ErrEncoding) {
			t.Errorf("%s: decode err = %v", r.Comment, err)
		}
	}
}
