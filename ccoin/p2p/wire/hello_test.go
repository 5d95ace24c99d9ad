package wire

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func validHello() Hello {
	return Hello{Protocol: ProtocolVersion, NetworkID: 7, ChainID: fill(32, 1), NodeAddress: fill(20, 2),
		ListenAddr: "127.0.0.1:9000", Height: 12, HeadID: fill(32, 3), FinalizedHeight: 10,
		Version: "ccoin/0.1", NodeType: "validator", Nonce: 1 << 60, TimeMs: 1700000000000}
}

func TestHelloCodec(t *testing.T) {
	mod := func(f func(*Hello)) *Hello { h := validHello(); f(&h); return &h }
	ack := HelloAck(validHello())
	runCodecCases(t, []codecCase{
		{"valid", mod(func(*Hello) {}), nil},
		{"valid ack", &ack, nil},
		{"empty listen addr", mod(func(h *Hello) { h.ListenAddr = "" }), nil},
		{"short chain id", mod(func(h *Hello) { h.ChainID = fill(31, 1) }), ErrMalformed},
		{"long node address", mod(func(h *Hello) { h.NodeAddress = fill(21, 1) }), ErrMalformed},
		{"missing head id", mod(func(h *Hello) { h.HeadID = nil }), ErrMalformed},
		{"long listen addr", mod(func(h *Hello) { h.ListenAddr = string(fill(129, 'a')) }), ErrTooLarge},
		{"long version", mod(func(h *Hello) { h.Version = string(fill(65, 'a')) }), ErrTooLarge},
		{"long node type", mod(func(h *Hello) { h.NodeType = string(fill(17, 'a')) }), ErrTooLarge},
	})
}

// The largest valid HEY fits the pre-handshake frame limit.
func TestHelloFitsHandshakeLimit(t *testing.T) {
	h := validHello()
	h.Protocol, h.NetworkID, h.Height, h.FinalizedHeight, h.Nonce, h.TimeMs = 1<<63, 1<<63, 1<<63, 1<<63, 1<<63, 1<<63
	h.ListenAddr = string(fill(MaxAddrLen, 'a'))
	h.Version = string(fill(MaxVersionLen, 'v'))
	h.NodeType = string(fill(MaxNodeTypeLen, 't'))
	_, body, err := Encode(&h)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(body) + HeaderLen; n > MaxHelloFrame {
		t.Fatalf("largest hello is %d bytes, limit %d", n, MaxHelloFrame)
	}
}

func TestHelloProtocol(t *testing.T) {
	h := validHello()
	_, body, err := Encode(&h)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := HelloProtocol(body); !ok || v != ProtocolVersion {
		t.Fatalf("HelloProtocol = %d, %v", v, ok)
	}
	// A later version with more fields still yields its version number.
	future, _ := msgpack.Marshal([]any{uint64(3), "anything", []byte{1}, true})
	if v, ok := HelloProtocol(future); !ok || v != 3 {
		t.Fatalf("future hello: %d, %v", v, ok)
	}
	for _, b := range [][]byte{nil, {0xc0}, {0x91, 0xa1, 'x'}, {0x90}, {0xdd, 0xff, 0xff, 0xff, 0xff}} {
		if _, ok := HelloProtocol(b); ok {
			t.Errorf("HelloProtocol(%x) ok", b)
		}
	}
}
