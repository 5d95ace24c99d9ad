package types

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"ccoin/ccoin/crypto"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json (new key, new signatures)")

const vectorsPath = "../../testdata/vectors.json"

// Vectors is the published test-vector file other clients check against.
type Vectors struct {
	Comment string `json:"comment"`
	Key     struct {
		PrivateKeyPEM string `json:"private_key_pem"`
		PublicKeyDER  string `json:"public_key_der_base64"`
		Address       string `json:"address"`
	} `json:"key"`
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

func writeVectors(t *testing.T) {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := crypto.EncodePrivateKeyPEM(k, nil)
	var v Vectors
	v.Comment = "ccoin canonical encoding test vectors; signatures are RSA-PSS/SHA-256 with salt 32 over the id (Go) or over the unsigned encoding (WebCrypto); PSS is randomised, so check that the given signature verifies rather than comparing bytes"
	v.Key.PrivateKeyPEM = string(pem)
	v.Key.PublicKeyDER = base64.StdEncoding.EncodeToString(k.Public().DER())
	v.Key.Address = k.Address().String()
	v.Transaction.ChainID = "0000a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e"
	v.Transaction.Nonce = 1
	v.Transaction.From = k.Address().String()
	v.Transaction.To = "00112233445566778899aabbccddeeff00112233"
	v.Transaction.Amount = 250
	v.Transaction.Data = "hello ccoin"
	v.Transaction.Time = 1767225600000
	tx := vectorTx(t, &v)
	if err := tx.Sign(k); err != nil {
		t.Fatal(err)
	}
	v.Transaction.UnsignedEncoding = hex.EncodeToString(tx.EncodeUnsigned(nil))
	v.Transaction.ID = tx.ID().String()
	v.Transaction.Signature = base64.StdEncoding.EncodeToString(tx.Signature)
	v.Transaction.SignedEncodingHex = hex.EncodeToString(tx.Encode(nil))

	h := Header{Version: HeaderVersion, ChainID: tx.ChainID, Number: 2, Slot: 7, Time: 1767225607000, Sealer: k.Address(),
		TxRoot: TxRoot([]Hash{tx.ID()}), StateRoot: mustHash(t, "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"),
		Reward: 100, Difficulty: 2, Data: []byte("block data")}
	h.Parent = mustHash(t, v.Transaction.ChainID)
	h.Mine(0, nil)
	blk := &Block{Header: h, Txs: []*Transaction{tx}}
	if err := blk.Seal(k); err != nil {
		t.Fatal(err)
	}
	b := &v.Block
	b.ChainID, b.Number, b.Parent, b.Slot, b.Time = h.ChainID.String(), h.Number, h.Parent.String(), h.Slot, h.Time
	b.Sealer, b.TxRoot, b.StateRoot, b.Reward, b.Difficulty = h.Sealer.String(), h.TxRoot.String(), h.StateRoot.String(), h.Reward, h.Difficulty
	b.Data, b.PowNonce, b.SealHash, b.ID = string(h.Data), h.PowNonce, h.SealHash().String(), blk.ID().String()
	b.Signature = base64.StdEncoding.EncodeToString(blk.Signature)
	b.Encoding = hex.EncodeToString(blk.Encode(nil))
	out, _ := json.MarshalIndent(v, "", "  ")
	if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsPath, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
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
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	k, err := crypto.DecodePrivateKeyPEM([]byte(v.Key.PrivateKeyPEM), nil)
	if err != nil {
		t.Fatal(err)
	}
	if k.Address().String() != v.Key.Address || base64.StdEncoding.EncodeToString(k.Public().DER()) != v.Key.PublicKeyDER {
		t.Fatal("key, public key and address disagree")
	}

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
}
