// Package state executes transactions against account state.
//
// An Overlay records every change a block makes on top of a read-only base
// (the flat account table at the head, or the state tree at any older root),
// so the same code validates a block on the canonical head, validates one on
// a side branch, and builds a new block. The overlay's change list is both
// the state tree update and the block's undo/redo record: a reorganisation
// rolls the flat table back block by block with the "before" values.
package state
