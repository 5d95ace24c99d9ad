package wire

import "fmt"

// MaxPeerAddrs bounds one Peers message.
const MaxPeerAddrs = 64

// Peers (PEX) shares "host:port" addresses of peers the sender knows.
type Peers struct {
	_msgpack struct{} `msgpack:",as_array"`
	Addrs    []string
}

// Header implements Message.
func (*Peers) Header() string { return HdrPeers }

func (m *Peers) validate() error {
	if err := checkMax("addrs", len(m.Addrs), MaxPeerAddrs); err != nil {
		return err
	}
	for i, a := range m.Addrs {
		if a == "" {
			return fmt.Errorf("%w: addr %d is empty", ErrMalformed, i)
		}
		if err := checkMax("addr", len(a), MaxAddrLen); err != nil {
			return err
		}
	}
	return nil
}
