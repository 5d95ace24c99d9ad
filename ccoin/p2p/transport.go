package p2p

import (
	"context"
	"net"
)

// Transport is what the network runs over: it listens for and dials
// byte-stream connections. TLS, framing and everything else sit above it,
// so the same network code runs over TCP in production and over an
// in-memory network (package memnet) in tests, where a test controls each
// link's delay, loss and partitions.
type Transport interface {
	// Listen binds addr ("host:port"; port 0 picks one).
	Listen(addr string) (net.Listener, error)
	// Dial connects to addr, giving up when ctx ends.
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// TCP is the production Transport.
type TCP struct{}

// Listen implements Transport.
func (TCP) Listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// Dial implements Transport.
func (TCP) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}
