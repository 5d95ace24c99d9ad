// Package types defines ccoin's consensus objects — Transaction, Header,
// Block and Account — and their one canonical byte encoding.
//
// The encoding is msgpack restricted to three kinds: arrays in a fixed field
// order, unsigned integers in their shortest form, and byte strings as bin.
// It is written and read by the small strict codec in codec.go rather than by
// a general msgpack library, because consensus needs exactly one encoding per
// value: the reader refuses non-shortest integers, other msgpack kinds,
// declared lengths beyond the bytes present, oversize fields and trailing
// bytes, so two nodes can never hash the same object differently.
package types
