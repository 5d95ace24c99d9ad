package memorydb

import (
	"testing"

	"ccoin/ccoin/kv"
	"ccoin/ccoin/kv/kvtest"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(*testing.T) kv.Store { return New() })
}
