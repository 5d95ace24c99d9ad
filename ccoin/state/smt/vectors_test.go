package smt

import (
	"ccoin/ccoin/crypto/cryptotest"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"testing"

	"ccoin/ccoin/types"
)

var update = flag.Bool("update", false, "rewrite testdata/proof-vectors.json (deterministic)")

const vectorsPath = "../../../testdata/proof-vectors.json"

// ProofVectors is testdata/proof-vectors.json: a small state tree, its
// nodes, and account proofs against its root (PROTOCOL.md, "State tree").
type ProofVectors struct {
	Comment  string          `json:"comment"`
	Accounts []VectorAccount `json:"accounts"`
	Nodes    []VectorNode    `json:"nodes"`
	Root     string          `json:"root"`
	Proofs   []VectorProof   `json:"proofs"`
}

// VectorAccount is a leaf: the address, the account and the leaf hash.
type VectorAccount struct {
	Address  string `json:"address"`
	Balance  uint64 `json:"balance"`
	Nonce    uint64 `json:"nonce"`
	Value    string `json:"value_hex"`
	LeafHash string `json:"leaf_hash"`
}

// VectorNode is one node of the tree, by its bit path from the root.
type VectorNode struct {
	Path     string `json:"path"` // bits from the root, "" for the root
	Encoding string `json:"encoding_hex"`
	Hash     string `json:"hash"`
}

// VectorProof is one proof. Siblings run from the root down.
type VectorProof struct {
	Comment  string      `json:"comment"`
	Root     string      `json:"root"`
	Address  string      `json:"address"`
	Found    bool        `json:"found"`
	Value    string      `json:"value_hex"`
	Siblings []string    `json:"siblings"`
	Leaf     *VectorLeaf `json:"leaf"`
}

// VectorLeaf is another address's leaf ending an absence proof.
type VectorLeaf struct {
	Address string `json:"address"`
	Value   string `json:"value_hex"`
}

func vectorAddr(first byte) [KeySize]byte {
	var a [KeySize]byte
	a[0] = first
	for i := 1; i < KeySize; i++ {
		a[i] = byte(i * 17)
	}
	return a
}

// The tree: A=00.., B=40.. (01..), C=80.. and D=81.. (1000000x..). The root's
// left child holds A and B; its right child is a chain of one-sided nodes
// down to depth 7, where C and D part.
var vectorAccounts = []struct {
	key [KeySize]byte
	acc types.Account
}{
	{vectorAddr(0x00), types.Account{Balance: 1000, Nonce: 0}},
	{vectorAddr(0x40), types.Account{Balance: 250, Nonce: 3}},
	{vectorAddr(0x80), types.Account{Balance: 1 << 40, Nonce: 128}},
	{vectorAddr(0x81), types.Account{Balance: 0, Nonce: 1}},
}

var vectorQueries = []struct {
	comment string
	key     [KeySize]byte
	tree    string // "four", "one" or "empty"
}{
	{"present: B (01..), two siblings: the root's right child and A's leaf", vectorAddr(0x40), "four"},
	{"present: C (1000 0000..), eight siblings: the root's left child (holding A and B), six empty subtrees " +
		"(32 zero bytes) for depths 1-6, then D's leaf (C and D part at bit 7)", vectorAddr(0x80), "four"},
	{"absent, ending at a leaf: 0010.. goes left, left again and meets A's leaf (00..); leaf is A", vectorAddr(0x20), "four"},
	{"absent, ending at an empty subtree: 11.. goes right, then right into the empty half of the node at depth 1",
		vectorAddr(0xc0), "four"},
	{"present in a one-account tree: the root is the leaf, no siblings", vectorAddr(0x80), "one"},
	{"absent in a one-account tree: no siblings, leaf is the only account", vectorAddr(0x00), "one"},
	{"absent in the empty tree: root is 32 zero bytes, no siblings, no leaf", vectorAddr(0x00), "empty"},
}

func buildVectorTree(t *testing.T) (tr *Tree, four, one Hash) {
	store := NewMemStore()
	tr = New(store, 0)
	var ups []Update
	for _, a := range vectorAccounts {
		ups = append(ups, Update{a.key, a.acc.Encode(nil)})
	}
	four = mustUpdate(t, tr, Hash{}, ups, store)
	one = mustUpdate(t, tr, Hash{}, ups[2:3], store)
	return tr, four, one
}

func makeProofVectors(t *testing.T) ProofVectors {
	tr, four, one := buildVectorTree(t)
	v := ProofVectors{Comment: "sparse Merkle tree of account state, see PROTOCOL.md section State tree. Made by " +
		"`go test ./ccoin/state/smt -run TestProofVectors -update`. Bit i of an address is (addr[i/8] >> (7 - i%8)) & 1, " +
		"0 goes left. Leaf = SHA-256(00 || address(20) || value), value = msgpack [balance, nonce]; internal node = " +
		"SHA-256(01 || left(32) || right(32)); an empty subtree is 32 zero bytes; a subtree holding one account is that " +
		"account's leaf at whatever depth. Siblings run from the root down. To verify: start from the leaf hash (present), " +
		"from the other account's leaf hash (absent, leaf given) or from 32 zero bytes (absent, no leaf), then for i = " +
		"len(siblings)-1 down to 0 hash with siblings[i] on the side given by bit i of the address.",
		Root: hex.EncodeToString(four[:])}
	for _, a := range vectorAccounts {
		val := a.acc.Encode(nil)
		lh := leafHash(&a.key, val)
		v.Accounts = append(v.Accounts, VectorAccount{hex.EncodeToString(a.key[:]), a.acc.Balance, a.acc.Nonce,
			hex.EncodeToString(val), hex.EncodeToString(lh[:])})
	}
	var walk func(h Hash, path string)
	walk = func(h Hash, path string) {
		if h == emptyHash {
			return
		}
		enc, err := tr.load(&h, len(path))
		if err != nil {
			t.Fatal(err)
		}
		v.Nodes = append(v.Nodes, VectorNode{path, hex.EncodeToString(enc), hex.EncodeToString(h[:])})
		if enc[0] == tagInternal {
			var l, r Hash
			copy(l[:], enc[1:33])
			copy(r[:], enc[33:])
			walk(l, path+"0")
			walk(r, path+"1")
		}
	}
	walk(four, "")
	for _, q := range vectorQueries {
		root := map[string]Hash{"four": four, "one": one, "empty": {}}[q.tree]
		val, found, p, err := tr.Prove(root, q.key)
		if err != nil {
			t.Fatal(err)
		}
		vp := VectorProof{Comment: q.comment, Root: hex.EncodeToString(root[:]), Address: hex.EncodeToString(q.key[:]),
			Found: found, Value: hex.EncodeToString(val), Siblings: []string{}}
		for _, s := range p.Siblings {
			vp.Siblings = append(vp.Siblings, hex.EncodeToString(s[:]))
		}
		if p.Leaf != nil {
			vp.Leaf = &VectorLeaf{hex.EncodeToString(p.Leaf.Key[:]), hex.EncodeToString(p.Leaf.Value)}
		}
		v.Proofs = append(v.Proofs, vp)
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyIndependently recomputes a proof's root with nothing but SHA-256,
// as PROTOCOL.md describes it.
func verifyIndependently(t *testing.T, p VectorProof) string {
	addr := unhex(t, p.Address)
	cur := make([]byte, 32)
	switch {
	case p.Found:
		s := sha256.Sum256(append(append([]byte{0}, addr...), unhex(t, p.Value)...))
		cur = s[:]
	case p.Leaf != nil:
		s := sha256.Sum256(append(append([]byte{0}, unhex(t, p.Leaf.Address)...), unhex(t, p.Leaf.Value)...))
		cur = s[:]
	}
	for i := len(p.Siblings) - 1; i >= 0; i-- {
		sib := unhex(t, p.Siblings[i])
		var s [32]byte
		if (addr[i/8]>>(7-i%8))&1 == 0 {
			s = sha256.Sum256(append(append([]byte{1}, cur...), sib...))
		} else {
			s = sha256.Sum256(append(append([]byte{1}, sib...), cur...))
		}
		cur = s[:]
	}
	return hex.EncodeToString(cur)
}

func TestProofVectors(t *testing.T) {
	want := makeProofVectors(t)
	var got ProofVectors
	cryptotest.Golden(t, vectorsPath, want, &got, *update)
	kinds := map[string]bool{}
	for _, p := range got.Proofs {
		if verifyIndependently(t, p) != p.Root {
			t.Fatalf("%s: the independent verifier does not reach the root", p.Comment)
		}
		var key [KeySize]byte
		copy(key[:], unhex(t, p.Address))
		var root Hash
		copy(root[:], unhex(t, p.Root))
		pr := Proof{}
		for _, s := range p.Siblings {
			var h Hash
			copy(h[:], unhex(t, s))
			pr.Siblings = append(pr.Siblings, h)
		}
		if p.Leaf != nil {
			pr.Leaf = &ProofLeaf{Value: unhex(t, p.Leaf.Value)}
			copy(pr.Leaf.Key[:], unhex(t, p.Leaf.Address))
		}
		if err := VerifyProof(root, key, unhex(t, p.Value), p.Found, pr); err != nil {
			t.Fatalf("%s: %v", p.Comment, err)
		}
		switch {
		case p.Found:
			kinds["present"] = true
		case p.Leaf != nil:
			kinds["absent-leaf"] = true
		case len(p.Siblings) > 0:
			kinds["absent-empty"] = true
		}
	}
	if len(kinds) != 3 {
		t.Fatalf("the vectors lack a kind of proof: %v", kinds)
	}
}
