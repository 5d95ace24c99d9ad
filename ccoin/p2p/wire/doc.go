// Package wire is ccoin's peer-to-peer framing and message catalogue.
//
// A frame is a 4-byte little-endian length of what follows, a 3-letter ASCII
// header naming the message, then a msgpack body: a struct encoded as an
// array in fixed field order. Everything here treats its input as hostile:
// frame lengths are checked before any allocation, and every body is walked by
// a small iterative structure checker (declared lengths must fit in the bytes
// present, nesting and element counts are bounded) before the msgpack decoder
// sees it, so a few crafted bytes can neither allocate gigabytes nor exhaust
// the stack. After decoding, each message enforces its own field limits.
//
// Frames travel inside the TLS 1.3 link package p2p sets up (protocol
// version ProtocolVersion); until the handshake completes only HEY/ACK
// frames of at most MaxHelloFrame are read.
//
// Blocks and transactions travel as opaque canonical encodings ([]byte); this
// package never interprets them.
package wire
