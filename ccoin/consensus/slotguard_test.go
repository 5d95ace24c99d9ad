package consensus

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSlotGuardClaim(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slot-guard")
	g, err := OpenSlotGuard(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Last() != 0 {
		t.Fatalf("fresh guard last %d", g.Last())
	}
	steps := []struct {
		slot uint64
		ok   bool
	}{
		{0, false}, // slot 0 is genesis
		{5, true},
		{5, false},
		{4, false},
		{6, true},
		{100, true},
		{99, false},
		{1<<64 - 1, true},
		{1<<64 - 1, false},
	}
	for _, s := range steps[:5] {
		err := g.Claim(s.slot)
		if s.ok != (err == nil) || (!s.ok && !errors.Is(err, ErrAlreadySigned)) {
			t.Fatalf("Claim(%d) = %v, want ok=%v", s.slot, err, s.ok)
		}
	}
	if _, err := OpenSlotGuard(path); err == nil {
		t.Fatal("a second open of a guard in use succeeded")
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Claim(1000); err == nil {
		t.Fatal("claim on a closed guard succeeded")
	}
	g, err = OpenSlotGuard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Last() != 6 {
		t.Fatalf("reopened last %d, want 6", g.Last())
	}
	for _, s := range steps[5:] {
		err := g.Claim(s.slot)
		if s.ok != (err == nil) || (!s.ok && !errors.Is(err, ErrAlreadySigned)) {
			t.Fatalf("Claim(%d) = %v, want ok=%v", s.slot, err, s.ok)
		}
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file left behind: %v", err)
	}
}

func TestSlotGuardCorrupt(t *testing.T) {
	good := string(formatGuard(1234))
	if n, err := parseGuard([]byte(good)); err != nil || n != 1234 {
		t.Fatalf("round trip: %d %v", n, err)
	}
	cases := map[string]string{
		"empty":            "",
		"garbage":          "hello world\n",
		"no newline":       strings.TrimSuffix(good, "\n"),
		"two lines":        good + good,
		"digit changed":    strings.Replace(good, "1234", "1235", 1),
		"checksum changed": good[:len(good)-2] + "0\n",
		"old magic":        strings.Replace(good, "v1", "v0", 1),
		"binary":           "\x00\x00\x00\x00\x00\x00\x04\xd2",
		"huge":             strings.Repeat("9", 100) + "\n",
		"negative":         fmt.Sprintf("%s -1 %08x\n", guardMagic, 0),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "slot-guard")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			g, err := OpenSlotGuard(path)
			if err == nil {
				g.Close()
				t.Fatalf("corrupt guard %q opened with last %d", content, g.Last())
			}
			if !errors.Is(err, ErrGuardCorrupt) {
				t.Fatalf("error %v is not ErrGuardCorrupt", err)
			}
			// Refusing must not have touched the file.
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Fatal("corrupt file was modified")
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "slot-guard")
		if err := os.Mkdir(path, 0o700); err != nil { // a directory where the file should be
			t.Fatal(err)
		}
		if g, err := OpenSlotGuard(path); err == nil {
			g.Close()
			t.Fatal("opened a directory as guard")
		}
	})
}

// guardChildEnv makes the test binary act as a sealer that claims slots as
// fast as it can and reports each claimed slot on stdout after Claim returns.
const guardChildEnv = "CCOIN_SLOT_GUARD_CHILD"

func TestSlotGuardChild(t *testing.T) {
	path := os.Getenv(guardChildEnv)
	if path == "" {
		t.Skip("helper process for TestSlotGuardKill9")
	}
	g, err := OpenSlotGuard(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	for slot := g.Last() + 1; ; slot++ {
		if err := g.Claim(slot); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Fprintf(os.Stdout, "claimed %d\n", slot)
	}
}

func TestSlotGuardKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "slot-guard")
	rng := rand.New(rand.NewPCG(1, 2))
	var prevLast uint64
	for round := range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSlotGuardChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), guardChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read every complete line; the last one may be cut by the kill.
		reported := make(chan uint64, 1)
		started := make(chan struct{})
		go func() {
			var max uint64
			defer close(reported)
			r := bufio.NewReader(out)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					break
				}
				if n, ok := strings.CutPrefix(strings.TrimSpace(line), "claimed "); ok {
					if v, err := strconv.ParseUint(n, 10, 64); err == nil && v > max {
						if max == 0 {
							close(started)
						}
						max = v
					}
				}
			}
			_, _ = io.Copy(io.Discard, out)
			reported <- max
		}()
		// Wait for the child to start claiming, then kill it at a random moment.
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("round %d: child never claimed: %s", round, stderr.String())
		}
		time.Sleep(time.Duration(rng.IntN(25_000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		max := <-reported
		_ = cmd.Wait()
		if strings.Contains(stderr.String(), "slot guard") {
			t.Fatalf("round %d: child failed: %s", round, stderr.String())
		}

		g, err := OpenSlotGuard(path)
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		last := g.Last()
		if last < max {
			t.Fatalf("round %d: guard says %d but the child reported claiming %d", round, last, max)
		}
		if last < prevLast {
			t.Fatalf("round %d: guard went back from %d to %d", round, prevLast, last)
		}
		if last > 0 {
			if err := g.Claim(last); !errors.Is(err, ErrAlreadySigned) {
				t.Fatalf("round %d: Claim(Last()) = %v", round, err)
			}
		}
		t.Logf("round %d: child reported %d, guard holds %d", round, max, last)
		prevLast = last
		g.Close()
	}
	if prevLast == 0 {
		t.Fatal("the child never claimed a slot")
	}
}
