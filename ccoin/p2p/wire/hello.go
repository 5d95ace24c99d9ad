package wire

import (
	"crypto/sha256"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Handshake field limits.
const (
	ChainIDLen      = 32
	AddressLen      = 20
	HashLen         = 32
	MaxAddrLen      = 128
	MaxVersionLen   = 64
	MaxNodeTypeLen  = 16
	MaxPublicKeyLen = 1024
	MaxSignatureLen = 512
)

// Hello (HEY) opens a connection: the dialer introduces itself. The signature
// is the node key's RSA-PSS signature over SigningDigest, so a peer proves it
// holds the key behind NodeAddress (validators are recognised by their genesis
// keys) and a recorded handshake cannot be replayed for long (TimeMs).
type Hello struct {
	_msgpack        struct{} `msgpack:",as_array"`
	NetworkID       uint64
	ChainID         []byte
	NodeAddress     []byte
	ListenAddr      string // "host:port" others can dial; empty for non-listening nodes
	Height          uint64
	HeadID          []byte
	FinalizedHeight uint64
	Version         string
	NodeType        string
	Nonce           uint64 // random per process: detects self and duplicate connections
	TimeMs          uint64
	PublicKey       []byte // PKIX DER
	Signature       []byte
}

// HelloAck (ACK) is the listener's answer to Hello, with the same fields.
type HelloAck Hello

// Header implements Message.
func (*Hello) Header() string { return HdrHello }

// Header implements Message.
func (*HelloAck) Header() string { return HdrHelloAck }

// SigningDigest is SHA-256 of the msgpack array
// [NetworkID, ChainID, NodeAddress, ListenAddr, Nonce, TimeMs].
func (h *Hello) SigningDigest() [32]byte {
	b, err := msgpack.Marshal([]any{h.NetworkID, h.ChainID, h.NodeAddress, h.ListenAddr, h.Nonce, h.TimeMs})
	if err != nil {
		// Marshalling integers, byte slices and a string cannot fail.
		panic(fmt.Sprintf("wire: hello digest: %v", err))
	}
	return sha256.Sum256(b)
}

// SigningDigest is the same digest as Hello's.
func (h *HelloAck) SigningDigest() [32]byte { return (*Hello)(h).SigningDigest() }

func (h *Hello) validate() error {
	for _, e := range []error{
		checkExact("chain id", h.ChainID, ChainIDLen),
		checkExact("node address", h.NodeAddress, AddressLen),
		checkExact("head id", h.HeadID, HashLen),
		checkMax("listen addr", len(h.ListenAddr), MaxAddrLen),
		checkMax("version", len(h.Version), MaxVersionLen),
		checkMax("node type", len(h.NodeType), MaxNodeTypeLen),
		checkMax("public key", len(h.PublicKey), MaxPublicKeyLen),
		checkMax("signature", len(h.Signature), MaxSignatureLen),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

func (h *HelloAck) validate() error { return (*Hello)(h).validate() }
