//go:build unix

package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMakeDevnetCtrlC runs `make devnet` as a terminal would (its own
// process group) and sends the group SIGINT, as Ctrl-C does: the devnet
// stops cleanly and make reports no error ("make: *** ... Error 1" used to
// follow every clean stop, because `go run` turned it into a failure).
func TestMakeDevnetCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary with make and runs a devnet")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	base := freeDevnetBase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-C", "../..", "--no-print-directory", "devnet",
		"DEVNET_DIR="+t.TempDir(), "DEVNET_FLAGS=--validators 1 --basic 0 --base-port "+strconv.Itoa(base))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var out strings.Builder
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !once && strings.Contains(sc.Text(), "Ctrl-C stops everything") {
				once = true
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-done:
		t.Fatalf("make devnet ended before the devnet ran:\n%s", out.String())
	case <-ctx.Done():
		t.Fatal("the devnet did not start")
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	<-done
	text := out.String()
	if ctx.Err() != nil {
		t.Fatalf("make devnet did not stop after SIGINT:\n%s", text)
	}
	// make itself receives the terminal's SIGINT and dies of it, as after any
	// Ctrl-C; what must not appear is make's error report.
	if strings.Contains(text, "make: ***") || strings.Contains(text, "Error 1") {
		t.Fatalf("make reported an error after a clean Ctrl-C (%v):\n%s", err, text)
	}
	if !strings.Contains(text, "shutting down") {
		t.Fatalf("the devnet did not see the SIGINT:\n%s", text)
	}
}

// freeDevnetBase finds a registry port whose node ports (base+10, base+11)
// are free as well.
func freeDevnetBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		ok := base+11 < 65536
		for _, p := range []int{base + 10, base + 11} {
			if !ok {
				break
			}
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err != nil {
				ok = false
			} else {
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports for a devnet")
	return 0
}
