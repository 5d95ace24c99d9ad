package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ccoin/ccoin/clock"
)

// servedManifest waits (in real time: Run builds on its own goroutine) until
// srv serves a snapshot above height and returns its manifest.
func servedManifest(t *testing.T, srv *Server, above uint64) *Manifest {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if enc := srv.Manifest(); enc != nil {
			m, err := DecodeManifest(enc)
			if err != nil {
				t.Fatal(err)
			}
			if m.Number > above {
				return m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no snapshot above %d served", above)
	return nil
}

func chunkFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.chunks"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// A Server builds only when asked and the final block moved, at most once
// per Every of its clock; it serves chunks that verify, keeps MaxServed
// snapshots, refuses to serve a damaged chunk, and leaves no file behind.
func TestServer(t *testing.T) {
	tc := newTestChain(t, 12, 250)
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	dir := filepath.Join(t.TempDir(), "snapshots")
	srv := NewServer(ServerConfig{Chain: tc.c, Certs: tc.ffg, Genesis: tc.g, Dir: dir, ChunkAccounts: 100,
		Every: time.Minute, Linger: 20 * time.Second, Clock: fake})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	if srv.Manifest() != nil {
		t.Fatal("a snapshot of genesis served")
	}
	tc.sealN(4, true)
	tc.finalize()
	m1 := servedManifest(t, srv, 0)
	if final, _ := tc.c.Finalized(); m1.Number != final.Number {
		t.Fatalf("snapshot of block %d, final is %d", m1.Number, final.Number)
	}
	for i := range m1.Chunks {
		enc, err := srv.Chunk(m1.Number, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m1.VerifyChunk(i, enc); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	if enc, _ := srv.Chunk(m1.Number, uint64(len(m1.Chunks))); enc != nil {
		t.Fatal("served a chunk past the last")
	}
	if enc, _ := srv.Chunk(m1.Number+1, 0); enc != nil {
		t.Fatal("served a chunk of a snapshot it does not have")
	}

	// The final block moves, but no rebuild before Every has passed.
	tc.sealN(2, true)
	tc.finalize()
	if m := servedManifest(t, srv, 0); m.Number != m1.Number {
		t.Fatalf("rebuilt at %d before Every passed", m.Number)
	}
	fake.Advance(time.Minute)
	m2 := servedManifest(t, srv, m1.Number)
	tc.sealN(2, true)
	tc.finalize()
	fake.Advance(time.Minute)
	m3 := servedManifest(t, srv, m2.Number)
	if files := chunkFiles(t, dir); len(files) != MaxServed {
		t.Fatalf("%d chunk files after three builds, want %d", len(files), MaxServed)
	}
	if enc, _ := srv.Chunk(m1.Number, 0); enc != nil {
		t.Fatal("served a chunk of a dropped snapshot")
	}
	if enc, _ := srv.Chunk(m2.Number, 0); enc == nil {
		t.Fatal("the snapshot before the newest is no longer served")
	}

	// Damage on disk: the chunk is withheld rather than served.
	for _, f := range chunkFiles(t, dir) {
		w, err := os.OpenFile(f, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.WriteAt(make([]byte, 64), 0); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	if enc, _ := srv.Chunk(m3.Number, 0); enc != nil {
		t.Fatal("served a damaged chunk")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	done <- nil
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("snapshot directory left after Run: %v", err)
	}
}
