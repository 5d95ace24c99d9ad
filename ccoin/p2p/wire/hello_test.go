package wire

import "testing"

func validHello() Hello {
	return Hello{NetworkID: 7, ChainID: fill(32, 1), NodeAddress: fill(20, 2), ListenAddr: "127.0.0.1:9000",
		Height: 12, HeadID: fill(32, 3), FinalizedHeight: 10, Version: "ccoin/0.1", NodeType: "validator",
		Nonce: 1 << 60, TimeMs: 1700000000000, PublicKey: fill(294, 4), Signature: fill(256, 5)}
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
		{"long public key", mod(func(h *Hello) { h.PublicKey = fill(1025, 1) }), ErrTooLarge},
		{"long signature", mod(func(h *Hello) { h.Signature = fill(513, 1) }), ErrTooLarge},
	})
}

func TestHelloSigningDigest(t *testing.T) {
	a := validHello()
	b := a
	b.Height, b.Version, b.Signature = 99, "other", nil // not covered by the signature
	if a.SigningDigest() != b.SigningDigest() {
		t.Fatal("digest depends on unsigned fields")
	}
	ack := HelloAck(a)
	if ack.SigningDigest() != a.SigningDigest() {
		t.Fatal("ack digest differs")
	}
	for _, f := range []func(*Hello){
		func(h *Hello) { h.NetworkID++ },
		func(h *Hello) { h.ChainID = fill(32, 9) },
		func(h *Hello) { h.NodeAddress = fill(20, 9) },
		func(h *Hello) { h.ListenAddr = "x:1" },
		func(h *Hello) { h.Nonce++ },
		func(h *Hello) { h.TimeMs++ },
	} {
		c := a
		f(&c)
		if c.SigningDigest() == a.SigningDigest() {
			t.Fatal("digest ignores a signed field")
		}
	}
}
