package wire

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// ProtocolVersion is the peer-to-peer protocol this package speaks. Version
// 1 was a plain-TCP link whose HEY/ACK carried an RSA signature over fields
// the other side had no part in, so a recorded ACK could be replayed to a
// third node; version 2 runs over mutually authenticated TLS 1.3 and HEY/ACK
// carry no identity proof (the certificate is the proof); version 3 adds
// compact blocks (CBK, RBT/ABT), which a version 2 node would take for an
// unknown message and ban the sender for.
const ProtocolVersion = 3

// Handshake field limits.
const (
	ChainIDLen     = 32
	AddressLen     = 20
	HashLen        = 32
	MaxAddrLen     = 128
	MaxVersionLen  = 64
	MaxNodeTypeLen = 16
	// MaxHelloFrame bounds a HEY or ACK frame (header plus body). It is the
	// frame limit until the handshake completes, so an unauthenticated
	// connection cannot make a node allocate a full frame.
	MaxHelloFrame = 1 << 10
)

// Hello (HEY) is the dialer's introduction, sent inside the TLS link once
// both certificates have been checked. NodeAddress must be the address of
// the key in the sender's certificate; the receiver takes the peer's
// identity from the certificate and only checks that the two agree.
type Hello struct {
	_msgpack        struct{} `msgpack:",as_array"`
	Protocol        uint64   // ProtocolVersion; first, so any version can read it
	NetworkID       uint64
	ChainID         []byte
	NodeAddress     []byte
	ListenAddr      string // "host:port" others can dial; empty for non-listening nodes
	Height          uint64
	HeadID          []byte
	FinalizedHeight uint64
	Version         string
	NodeType        string
	// Nonce is random per process. Two processes may hold one key (an
	// operator's mistake that makes a validator equivocate, which the
	// network must still see): the nonce tells them apart, and tells a
	// node that it dialled itself. Only the key's holder can present a
	// nonce for its address, so nobody else can use it to evict a link.
	Nonce  uint64
	TimeMs uint64 // the sender's clock, informative
}

// HelloAck (ACK) is the listener's answer to Hello, with the same fields.
type HelloAck Hello

// Header implements Message.
func (*Hello) Header() string { return HdrHello }

// Header implements Message.
func (*HelloAck) Header() string { return HdrHelloAck }

func (h *Hello) validate() error {
	for _, e := range []error{
		checkExact("chain id", h.ChainID, ChainIDLen),
		checkExact("node address", h.NodeAddress, AddressLen),
		checkExact("head id", h.HeadID, HashLen),
		checkMax("listen addr", len(h.ListenAddr), MaxAddrLen),
		checkMax("version", len(h.Version), MaxVersionLen),
		checkMax("node type", len(h.NodeType), MaxNodeTypeLen),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

func (h *HelloAck) validate() error { return (*Hello)(h).validate() }

// HelloProtocol reads the protocol version that starts a HEY or ACK body of
// any version, so a peer of another version is refused with a clear message
// rather than as malformed. It reports false if the body does not start
// with an array whose first element is an unsigned integer.
func HelloProtocol(body []byte) (uint64, bool) {
	if _, err := checkStructure(body); err != nil {
		return 0, false
	}
	dec := msgpack.NewDecoder(bytes.NewReader(body))
	n, err := dec.DecodeArrayLen()
	if err != nil || n < 1 {
		return 0, false
	}
	v, err := dec.DecodeUint64()
	if err != nil {
		return 0, false
	}
	return v, true
}

// String is for logs.
func (h *Hello) String() string {
	return fmt.Sprintf("protocol %d, network %d, chain %x, listen %q, height %d, %s %s",
		h.Protocol, h.NetworkID, h.ChainID, h.ListenAddr, h.Height, h.NodeType, h.Version)
}
