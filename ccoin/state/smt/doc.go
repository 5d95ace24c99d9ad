// Package smt is ccoin's authenticated account state: a binary sparse Merkle
// tree over 20-byte keys with single-leaf collapsing (Diem/Jellyfish style).
//
// The tree's root hash is the state_root of every block, so its definition is
// a consensus rule:
//
//   - bit i of a key is (key[i/8] >> (7 - i%8)) & 1; bit 0 goes left, 1 right;
//   - an empty subtree hashes to 32 zero bytes (so does the empty tree);
//   - a subtree with exactly one leaf is that leaf node, at whatever depth;
//   - a subtree with two or more leaves is an internal node;
//   - leaf encoding 0x00 ‖ key(20) ‖ value, internal 0x01 ‖ left(32) ‖ right(32);
//   - a node's hash is SHA-256 of its encoding.
//
// Nodes are content-addressed and never deleted by an update, so every old
// root stays readable: the chain keeps recent states by root and rolls back by
// switching roots. Reads go through a bounded cache that keeps the tree's
// upper levels; a node read from the store is checked against its hash, so a
// damaged database yields ErrCorrupt instead of wrong state.
//
// The same structure later serves light-client proofs (Prove/VerifyProof) and
// state snapshots (Iterate/IterateFrom, in key order).
package smt
