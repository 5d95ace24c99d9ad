package wire

import (
	"bytes"
	"fmt"
	"reflect"

	"github.com/vmihailenco/msgpack/v5"
)

// Message headers.
const (
	HdrHello        = "HEY"
	HdrHelloAck     = "ACK"
	HdrTxs          = "TXN"
	HdrBlock        = "BLK"
	HdrGetHead      = "RBH"
	HdrHead         = "BLH"
	HdrGetBlocks    = "RBL"
	HdrBlocks       = "ABL"
	HdrGetLeader    = "LDR"
	HdrLeader       = "ADR"
	HdrPeers        = "PEX"
	HdrPing         = "PNG"
	HdrPong         = "PON"
	HdrGetSnapshot  = "RSM"
	HdrSnapshot     = "ASM"
	HdrGetChunk     = "RCK"
	HdrChunk        = "CHK"
	HdrVote         = "VOT"
	HdrGetFinality  = "FIN"
	HdrFinality     = "CRT"
	HdrCompactBlock = "CBK"
	HdrGetBlockTxs  = "RBT"
	HdrBlockTxs     = "ABT"
)

// Headers lists every known header, for fuzzing and tests.
func Headers() []string {
	return []string{HdrHello, HdrHelloAck, HdrTxs, HdrBlock, HdrGetHead, HdrHead, HdrGetBlocks,
		HdrBlocks, HdrGetLeader, HdrLeader, HdrPeers, HdrPing, HdrPong, HdrGetSnapshot,
		HdrSnapshot, HdrGetChunk, HdrChunk, HdrVote, HdrGetFinality, HdrFinality,
		HdrCompactBlock, HdrGetBlockTxs, HdrBlockTxs}
}

// Message is one wire message; its header names it on the wire.
type Message interface{ Header() string }

// Request is a message that expects an Answer carrying the same ReqID.
type Request interface {
	Message
	RequestID() uint64
}

// Answer is a message sent in reply to a Request.
type Answer interface {
	Message
	RequestID() uint64
	isAnswer()
}

// checked is implemented by every message: its per-message limits.
type checked interface {
	Message
	validate() error
}

// New returns a zero message for header, or nil if the header is unknown.
func New(header string) Message {
	switch header {
	case HdrHello:
		return new(Hello)
	case HdrHelloAck:
		return new(HelloAck)
	case HdrTxs:
		return new(Txs)
	case HdrBlock:
		return new(Block)
	case HdrGetHead:
		return new(GetHead)
	case HdrHead:
		return new(Head)
	case HdrGetBlocks:
		return new(GetBlocks)
	case HdrBlocks:
		return new(Blocks)
	case HdrGetLeader:
		return new(GetLeader)
	case HdrLeader:
		return new(Leader)
	case HdrPeers:
		return new(Peers)
	case HdrPing:
		return new(Ping)
	case HdrPong:
		return new(Pong)
	case HdrGetSnapshot:
		return new(GetSnapshot)
	case HdrSnapshot:
		return new(Snapshot)
	case HdrGetChunk:
		return new(GetChunk)
	case HdrChunk:
		return new(Chunk)
	case HdrVote:
		return new(Vote)
	case HdrGetFinality:
		return new(GetFinality)
	case HdrFinality:
		return new(Finality)
	case HdrCompactBlock:
		return new(CompactBlock)
	case HdrGetBlockTxs:
		return new(GetBlockTxs)
	case HdrBlockTxs:
		return new(BlockTxs)
	}
	return nil
}

// Encode checks m against its limits and returns its header and body.
func Encode(m Message) (header string, body []byte, err error) {
	c, ok := m.(checked)
	if !ok || New(m.Header()) == nil {
		return "", nil, fmt.Errorf("%w: %T", ErrUnknownMessage, m)
	}
	if err := c.validate(); err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", m.Header(), err)
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(m); err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", m.Header(), err)
	}
	return m.Header(), buf.Bytes(), nil
}

// Decode parses a body received under header. The body is structure-checked
// before decoding, must be an array with exactly the message's fields, must
// not carry trailing bytes, and must satisfy the message's limits.
func Decode(header string, body []byte) (Message, error) {
	m := New(header)
	if m == nil {
		if !ValidHeader(header) {
			return nil, fmt.Errorf("%w: bad header %q", ErrMalformed, header)
		}
		return nil, fmt.Errorf("%w: %q", ErrUnknownMessage, header)
	}
	n, err := checkStructure(body)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", header, err)
	}
	if want := fieldCount(m); n != want {
		return nil, fmt.Errorf("%w: decode %s: array of %d fields, want %d", ErrMalformed, header, n, want)
	}
	r := bytes.NewReader(body)
	dec := msgpack.NewDecoder(r)
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", ErrMalformed, header, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: decode %s: %d trailing bytes", ErrMalformed, header, r.Len())
	}
	if err := m.(checked).validate(); err != nil {
		return nil, fmt.Errorf("decode %s: %w", header, err)
	}
	return m, nil
}

// fieldCount is the number of encoded fields of a message struct.
func fieldCount(m Message) int {
	t := reflect.TypeOf(m).Elem()
	n := 0
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			n++
		}
	}
	return n
}

// checkExact requires b to be exactly n bytes long.
func checkExact(field string, b []byte, n int) error {
	if len(b) != n {
		return fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, field, len(b), n)
	}
	return nil
}

// checkMax requires a length of at most max.
func checkMax(field string, n, max int) error {
	if n > max {
		return fmt.Errorf("%w: %s is %d, limit %d", ErrTooLarge, field, n, max)
	}
	return nil
}
