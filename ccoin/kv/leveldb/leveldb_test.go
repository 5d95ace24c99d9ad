package leveldb

import (
	"errors"
	"testing"

	"github.com/syndtr/goleveldb/leveldb/storage"

	"ccoin/ccoin/kv"
	"ccoin/ccoin/kv/kvtest"
)

func TestConformance(t *testing.T) {
	t.Run("dir", func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T) kv.Store {
			db, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
	t.Run("memstorage", func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T) kv.Store {
			db, err := OpenStorage(storage.NewMemStorage())
			if err != nil {
				t.Fatal(err)
			}
			return db
		})
	})
}

// Only what was synced survives a crash of the in-memory storage: the
// model the simulator's kill -9 relies on.
func TestMemStorageKeepsSyncedAcrossReopen(t *testing.T) {
	st := storage.NewMemStorage()
	db, err := OpenStorage(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.PutSync(db, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = OpenStorage(st); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(dir); err == nil {
		t.Fatal("second open succeeded")
	} else if isLocked(err) && !errors.Is(err, kv.ErrLocked) {
		t.Fatalf("lock error not marked: %v", err)
	}
}
