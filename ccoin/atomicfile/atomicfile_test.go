package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	cases := []struct {
		name string
		fill func(io.Writer) error
		err  error
		want string
	}{
		{"replaces", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, nil, "new"},
		{"a failed fill leaves the old file", func(w io.Writer) error { io.WriteString(w, "half"); return boom }, boom, "new"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Write(path, c.fill); !errors.Is(err, c.err) {
				t.Fatalf("Write: %v, want %v", err, c.err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != c.want {
				t.Fatalf("file holds %q (%v), want %q", got, err, c.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
			if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v", info.Mode().Perm())
			}
		})
	}
}
