package crypto_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
)

// TestLoadKeyFileMode: a private key that group or others can read is
// refused, as ssh refuses it, with the chmod that fixes it (issue 16.8: an
// id_rsa at 0666 used to load silently). SaveKey writes 0600, which loads.
func TestLoadKeyFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	k := cryptotest.Keys(t, 1)[0]
	dir := t.TempDir()
	kd, err := crypto.SaveKey(dir, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(kd, crypto.PrivateKeyFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("SaveKey wrote mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	addr := k.Address()
	for _, c := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o700, true},
		{0o640, false},
		{0o604, false},
		{0o644, false},
		{0o660, false},
		{0o666, false},
		{0o777, false},
		{0o620, false}, // group may write (and so replace the key)
	} {
		if err := os.Chmod(path, c.mode); err != nil {
			t.Fatal(err)
		}
		got, err := crypto.LoadKey(dir, addr, nil)
		switch {
		case c.ok && (err != nil || got.Address() != addr):
			t.Errorf("mode %04o: %v", c.mode, err)
		case !c.ok && !errors.Is(err, crypto.ErrKeyFilePerm):
			t.Errorf("mode %04o: err %v, want ErrKeyFilePerm", c.mode, err)
		case !c.ok && !strings.Contains(err.Error(), "chmod 600 "+path):
			t.Errorf("mode %04o: message %q does not say how to fix it", c.mode, err)
		}
	}
}
