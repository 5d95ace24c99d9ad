package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ErrTokenFilePerm means an existing token file is readable by others.
var ErrTokenFilePerm = errors.New("token file is readable by group or others")

// LoadOrCreateToken reads the API bearer token from path, or creates it (32
// random bytes as hex, mode 0600) when the file does not exist. It refuses a
// token file that group or others can read, since the token spends the
// node's coins.
func LoadOrCreateToken(path string) (token string, created bool, err error) {
	st, err := os.Stat(path)
	switch {
	case err == nil:
		if st.Mode().Perm()&0o077 != 0 {
			return "", false, fmt.Errorf("%w: %s has mode %v; chmod 600 it", ErrTokenFilePerm, path, st.Mode().Perm())
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", false, fmt.Errorf("read token: %w", err)
		}
		tok := strings.TrimSpace(string(raw))
		if len(tok) < 16 {
			return "", false, fmt.Errorf("token file %s holds a token shorter than 16 characters", path)
		}
		return tok, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("stat token: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", false, fmt.Errorf("token: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	// O_EXCL: never overwrite a token another process just wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("create token: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return "", false, fmt.Errorf("write token: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return "", false, fmt.Errorf("write token: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", false, fmt.Errorf("write token: %w", err)
	}
	return tok, true, nil
}
