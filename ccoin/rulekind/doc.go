// Package rulekind names why a transaction, block or request broke a rule.
//
// The pool, the consensus rules, the state machine, the chain and the codecs
// each return their own sentinel errors; several of them mean the same thing
// to an outsider (a wrong chain id is a wrong chain id whether the pool or the
// state machine saw it). Of maps any of those errors to one stable kind name,
// so the HTTP API (which turns a kind into a status and an error code) and the
// node's rejection metrics (which use the kind as a label) read one table
// instead of keeping two that drift apart.
//
// The set of kinds is fixed at compile time and Of answers Other for anything
// it does not know, so a label taken from Of cannot be grown by hostile input.
package rulekind
