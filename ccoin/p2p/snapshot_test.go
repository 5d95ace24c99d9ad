package p2p

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// startWithChain runs a Network serving chain on a free loopback port.
func startWithChain(t *testing.T, keyIdx int, chain Chain, maxFrame int) *Network {
	t.Helper()
	cfg := Config{ListenAddr: "127.0.0.1:0", NetworkID: testNetworkID, ChainID: testChainID, Key: testKey(t, keyIdx),
		NodeType: "basic", Version: "test", MaxFrame: maxFrame, RequestTimeout: 5 * time.Second, Logger: hclog.NewNullLogger()}
	n, err := New(cfg, chain, newFakeHandler())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { n.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return n
}

// snapChain is a fakeChain that also serves a snapshot.
type snapChain struct {
	*fakeChain
	manifest []byte
	height   uint64
	chunks   [][]byte
	err      error
}

func (c *snapChain) SnapshotManifest() ([]byte, error) { return c.manifest, c.err }
func (c *snapChain) SnapshotChunk(height, index uint64) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	if height != c.height || index >= uint64(len(c.chunks)) {
		return nil, nil
	}
	return c.chunks[index], nil
}

func TestSnapshotRequests(t *testing.T) {
	const maxFrame = 64 << 10
	big := bytes.Repeat([]byte{7}, maxFrame) // does not fit in a frame
	tests := []struct {
		name      string
		chain     Chain
		height    uint64
		index     uint64
		manifest  []byte
		chunk     []byte
		chunkWant []byte
	}{
		{"serves", &snapChain{fakeChain: &fakeChain{}, manifest: []byte("manifest"), height: 9, chunks: [][]byte{[]byte("c0"), []byte("c1")}},
			9, 1, []byte("manifest"), nil, []byte("c1")},
		{"other height", &snapChain{fakeChain: &fakeChain{}, manifest: []byte("m"), height: 9, chunks: [][]byte{[]byte("c0")}},
			8, 0, []byte("m"), nil, nil},
		{"index past the end", &snapChain{fakeChain: &fakeChain{}, manifest: []byte("m"), height: 9, chunks: [][]byte{[]byte("c0")}},
			9, 1, []byte("m"), nil, nil},
		{"source error", &snapChain{fakeChain: &fakeChain{}, manifest: []byte("m"), err: errors.New("busy")},
			9, 0, nil, nil, nil},
		{"chunk larger than a frame", &snapChain{fakeChain: &fakeChain{}, manifest: []byte("m"), height: 9, chunks: [][]byte{big}},
			9, 0, []byte("m"), nil, nil},
		{"no snapshot source", &fakeChain{}, 9, 0, nil, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := startWithChain(t, 0, tc.chain, maxFrame)
			b := startNode(t, 1, func(c *Config) { c.MaxFrame = maxFrame })
			b.AddPeers(a.Addr())
			waitFor(t, "link", func() bool { return len(a.Peers()) == 1 && b.hasPeer(&testNode{Network: a}) })
			ctx := context.Background()
			m, err := b.RequestSnapshot(ctx, a.ID())
			if err != nil || !bytes.Equal(m, tc.manifest) {
				t.Fatalf("RequestSnapshot = %q, %v; want %q", m, err, tc.manifest)
			}
			c, err := b.RequestChunk(ctx, a.ID(), tc.height, tc.index)
			if err != nil || !bytes.Equal(c, tc.chunkWant) {
				t.Fatalf("RequestChunk = %d bytes, %v; want %q", len(c), err, tc.chunkWant)
			}
			// Neither side was punished.
			if len(a.Peers()) != 1 || len(b.Peers()) != 1 {
				t.Fatal("peers disconnected")
			}
		})
	}
	if _, err := (&Network{}).RequestChunk(context.Background(), 1, 0, 0); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("unknown peer: %v", err)
	}
}
