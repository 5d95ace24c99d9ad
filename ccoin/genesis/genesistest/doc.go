// Package genesistest gives tests the genesis the published vectors are
// built on.
package genesistest
