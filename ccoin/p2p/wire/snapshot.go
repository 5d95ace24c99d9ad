package wire

// MaxManifest bounds a snapshot manifest.
const MaxManifest = 1 << 20

// GetSnapshot (RSM) asks a peer for its latest finalized state snapshot
// manifest (see package snapshot); a node started with --sync snapshot
// fetches the manifest, then its chunks with GetChunk.
type GetSnapshot struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
}

// Snapshot (ASM) answers GetSnapshot; an empty Manifest means none.
type Snapshot struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	Manifest []byte
}

// GetChunk (RCK) asks for one chunk of the snapshot at Height.
type GetChunk struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	Height   uint64
	Index    uint64
}

// Chunk (CHK) answers GetChunk; its size is bounded by the frame limit.
type Chunk struct {
	_msgpack struct{} `msgpack:",as_array"`
	ReqID    uint64
	Index    uint64
	Data     []byte
}

// Header implements Message.
func (*GetSnapshot) Header() string { return HdrGetSnapshot }

// Header implements Message.
func (*Snapshot) Header() string { return HdrSnapshot }

// Header implements Message.
func (*GetChunk) Header() string { return HdrGetChunk }

// Header implements Message.
func (*Chunk) Header() string { return HdrChunk }

// RequestID implements Request.
func (m *GetSnapshot) RequestID() uint64 { return m.ReqID }

// RequestID implements Answer.
func (m *Snapshot) RequestID() uint64 { return m.ReqID }

// RequestID implements Request.
func (m *GetChunk) RequestID() uint64 { return m.ReqID }

// RequestID implements Answer.
func (m *Chunk) RequestID() uint64 { return m.ReqID }

func (*Snapshot) isAnswer() {}
func (*Chunk) isAnswer()    {}

func (*GetSnapshot) validate() error { return nil }
func (m *Snapshot) validate() error  { return checkMax("manifest", len(m.Manifest), MaxManifest) }
func (*GetChunk) validate() error    { return nil }
func (*Chunk) validate() error       { return nil }
