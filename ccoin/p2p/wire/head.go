package wire

// GetHead (RBH) asks a peer for its head.
type GetHead struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
}

// Head (BLH) answers GetHead.
type Head struct {
	_msgpack        struct{} `msgpack:",as_array"`
	ReqID           uint64
	Height          uint64
	HeadID          []byte
	FinalizedHeight uint64
}

// Header implements Message.
func (*GetHead) Header() string { return HdrGetHead }

// RequestID implements Request.
func (m *GetHead) RequestID() uint64 { return m.ReqID }

func (*GetHead) validate() error { return nil }

// Header implements Message.
func (*Head) Header() string { return HdrHead }

// RequestID implements Answer.
func (m *Head) RequestID() uint64 { return m.ReqID }
func (*Head) isAnswer()           {}

func (m *Head) validate() error { return checkExact("head id", m.HeadID, HashLen) }
