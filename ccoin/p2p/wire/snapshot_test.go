package wire

import "testing"

func TestSnapshotCodec(t *testing.T) {
	runCodecCases(t, []codecCase{
		{"get", &GetSnapshot{ReqID: 1}, nil},
		{"manifest", &Snapshot{ReqID: 1, Manifest: fill(100, 1)}, nil},
		{"no manifest", &Snapshot{ReqID: 1}, nil},
		{"manifest too large", &Snapshot{ReqID: 1, Manifest: fill(MaxManifest+1, 1)}, ErrTooLarge},
		{"get chunk", &GetChunk{ReqID: 2, Height: 100, Index: 3}, nil},
		{"chunk", &Chunk{ReqID: 2, Index: 3, Data: fill(1000, 2)}, nil},
	})
}
