package crypto

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/youmark/pkcs8"
)

// Key file names inside <datadir>/keys/<address>/.
const (
	PrivateKeyFile = "id_rsa"
	PublicKeyFile  = "id_rsa.pub"
)

// KeyDir is where the key of address lives under datadir.
func KeyDir(datadir string, addr Address) string {
	return filepath.Join(datadir, "keys", addr.String())
}

// EncodePrivateKeyPEM encodes k as PKCS#8 PEM, encrypted (PBES2, scrypt,
// AES-256) when passphrase is not empty.
func EncodePrivateKeyPEM(k *PrivateKey, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		der, err := x509.MarshalPKCS8PrivateKey(k.key)
		if err != nil {
			return nil, fmt.Errorf("encode key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := pkcs8.MarshalPrivateKey(k.key, passphrase, &pkcs8.Opts{
		Cipher:  pkcs8.AES256CBC,
		KDFOpts: pkcs8.ScryptOpts{CostParameter: 1 << 15, BlockSize: 8, ParallelizationParameter: 1, SaltSize: 16},
	})
	if err != nil {
		return nil, fmt.Errorf("encrypt key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

// DecodePrivateKeyPEM parses a PKCS#8 PEM key (encrypted or not) and checks
// it meets the protocol.
func DecodePrivateKeyPEM(data, passphrase []byte) (*PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrBadKey)
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("%w: key is encrypted", ErrPassphrase)
		}
		key, err = pkcs8.ParsePKCS8PrivateKey(block.Bytes, passphrase)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPassphrase, err)
		}
	default:
		return nil, fmt.Errorf("%w: PEM type %q, want PKCS#8", ErrBadKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an RSA key", ErrBadKey)
	}
	return NewPrivateKey(rk)
}

// EncodePublicKeyPEM is the id_rsa.pub format.
func EncodePublicKeyPEM(p *PublicKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p.der})
}

// SaveKey writes k under <datadir>/keys/<address>/ with the private key at
// mode 0600 and returns that directory. It never overwrites a key.
func SaveKey(datadir string, k *PrivateKey, passphrase []byte) (string, error) {
	dir := KeyDir(datadir, k.Address())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create key dir: %w", err)
	}
	priv, err := EncodePrivateKeyPEM(k, passphrase)
	if err != nil {
		return "", err
	}
	if err := writeNew(filepath.Join(dir, PrivateKeyFile), priv, 0o600); err != nil {
		return "", err
	}
	if err := writeNew(filepath.Join(dir, PublicKeyFile), EncodePublicKeyPEM(k.pub), 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync key file: %w", err)
	}
	return f.Close()
}

// LoadKey reads <datadir>/keys/<address>/id_rsa and checks that the key
// really belongs to address.
func LoadKey(datadir string, addr Address, passphrase []byte) (*PrivateKey, error) {
	return LoadKeyFile(filepath.Join(KeyDir(datadir, addr), PrivateKeyFile), &addr, passphrase)
}

// maxKeyFile bounds what LoadKeyFile reads: an encrypted RSA-2048 PKCS#8
// PEM is under 2 KiB.
const maxKeyFile = 64 << 10

// LoadKeyFile reads a private key file; when want is not nil the key's
// address must equal it. Like ssh, it refuses a file that group or others
// may read (ErrKeyFilePerm): the key spends the account's coins.
func LoadKeyFile(path string, want *Address, passphrase []byte) (*PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	defer f.Close()
	// Check the opened file, not the path, so a swap between the check
	// and the read cannot slip another file past it.
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if err := checkKeyMode(path, st.Mode()); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadKey, path, maxKeyFile)
	}
	k, err := DecodePrivateKeyPEM(data, passphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if want != nil && k.Address() != *want {
		return nil, fmt.Errorf("%w: %s holds the key of %s, not %s", ErrBadKey, path, k.Address(), want)
	}
	return k, nil
}

// checkKeyMode refuses key files with any group or other permission bit.
// Windows has no such bits (Go reports 0666 for every writable file), so
// the check is for Unix only.
func checkKeyMode(path string, mode os.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if !mode.IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrBadKey, path)
	}
	if perm := mode.Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; make it private with: chmod 600 %s", ErrKeyFilePerm, path, perm, path)
	}
	return nil
}

// ReadPassphraseFile reads a passphrase file, dropping one trailing newline.
// An empty path means no passphrase.
func ReadPassphraseFile(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read password file: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return nil, errors.New("password file is empty")
	}
	return []byte(s), nil
}
