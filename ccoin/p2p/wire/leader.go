package wire

// GetLeader (LDR) asks a peer which validator leads the current slot.
type GetLeader struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
}

// Leader (ADR) answers GetLeader.
type Leader struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	Slot     uint64
	Leader   []byte // 20-byte address
}

// Header implements Message.
func (*GetLeader) Header() string { return HdrGetLeader }

// RequestID implements Request.
func (m *GetLeader) RequestID() uint64 { return m.ReqID }

func (*GetLeader) validate() error { return nil }

// Header implements Message.
func (*Leader) Header() string { return HdrLeader }

// RequestID implements Answer.
func (m *Leader) RequestID() uint64 { return m.ReqID }
func (*Leader) isAnswer()           {}

func (m *Leader) validate() error { return checkExact("leader", m.Leader, AddressLen) }
