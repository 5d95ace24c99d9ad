package devnet

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLocalnetScript runs scripts/localnet.sh against a fake docker that
// records its calls: stop removes containers, volumes and network; each
// checkout gets its own compose project name.
func TestLocalnetScript(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a POSIX shell script")
	}
	script, err := os.ReadFile("../scripts/localnet.sh")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	fake := "#!/bin/sh\necho \"$COMPOSE_PROJECT_NAME $*\" >> " + calls + "\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	checkout := func() string {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "scripts"), 0o755)
		os.WriteFile(filepath.Join(root, "scripts", "localnet.sh"), script, 0o755)
		os.MkdirAll(filepath.Join(root, ".testnet"), 0o755)
		return root
	}
	run := func(root string, args ...string) string {
		t.Helper()
		os.Remove(calls)
		cmd := exec.Command(filepath.Join(root, "scripts", "localnet.sh"), args...)
		cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin", "COMPOSE_PROJECT_NAME=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("localnet.sh %v: %v\n%s", args, err, out)
		}
		b, _ := os.ReadFile(calls)
		return string(out) + string(b)
	}
	a, b := checkout(), checkout()
	projA, projB := strings.TrimSpace(run(a, "project")), strings.TrimSpace(run(b, "project"))
	if !strings.HasPrefix(projA, "ccoin-") || projA == projB {
		t.Fatalf("project names %q and %q: want ccoin-<hash>, one per checkout", projA, projB)
	}
	if again := strings.TrimSpace(run(a, "project")); again != projA {
		t.Fatalf("project name not stable: %q then %q", projA, again)
	}
	got := run(a, "stop")
	want := projA + " compose -f " + filepath.Join(a, "docker-compose.yml") + " down -v --remove-orphans"
	if !strings.Contains(got, want) {
		t.Fatalf("stop ran:\n%s\nwant a call %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(a, ".testnet")); !os.IsNotExist(err) {
		t.Fatalf(".testnet left behind by stop: %v", err)
	}
	if got := run(a, "pause"); !strings.Contains(got, projA+" compose -f "+filepath.Join(a, "docker-compose.yml")+" stop") {
		t.Fatalf("pause ran:\n%s", got)
	}
}
