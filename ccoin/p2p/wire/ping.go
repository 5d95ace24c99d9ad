package wire

// Ping (PNG) keeps a connection alive; the peer answers Pong with the nonce.
type Ping struct {
	_msgpack struct{} `msgpack:",as_array"`
	Nonce    uint64
}

// Pong (PON) answers Ping.
type Pong struct {
	_msgpack struct{} `msgpack:",as_array"`
	Nonce    uint64
}

// Header implements Message.
func (*Ping) Header() string { return HdrPing }

// Header implements Message.
func (*Pong) Header() string { return HdrPong }

func (*Ping) validate() error { return nil }
func (*Pong) validate() error { return nil }
