package main

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ccoin/api"
)

// exitCode runs the binary and returns its combined output and exit code.
func exitCode(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(binPath, args...).CombinedOutput()
	if err == nil {
		return string(out), 0
	}
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatalf("%v: %v", args, err)
	}
	return string(out), ee.ExitCode()
}

// Every command answers -h and --help with its usage and exit status 0.
func TestEveryCommandHasHelp(t *testing.T) {
	var names [][]string
	for _, c := range commands() {
		names = append(names, []string{c.name})
	}
	names = append(names, []string{"snapshot", "export"}, []string{"snapshot", "import"})
	for _, name := range names {
		for _, h := range []string{"-h", "--help"} {
			args := append(append([]string{}, name...), h)
			out, code := exitCode(t, args...)
			if code != 0 || !strings.Contains(out, "usage: ccoin "+name[0]) {
				t.Errorf("%v: exit %d\n%s", args, code, out)
			}
		}
	}
	if out, code := exitCode(t, "help", "send"); code != 0 || !strings.Contains(out, "--from") {
		t.Errorf("help send: exit %d\n%s", code, out)
	}
}

func TestCLIMessages(t *testing.T) {
	addr := "00112233445566778899aabbccddeeff00112233"
	for _, c := range []struct {
		name string
		args []string
		code int
		want string // in the output
	}{
		{"version flag", []string{"--version"}, 0, "ccoin "},
		{"version command", []string{"version"}, 0, "ccoin "},
		{"no arguments", nil, 2, "usage: ccoin <command>"},
		{"unknown command", []string{"nosuch"}, 2, `unknown command "nosuch"`},
		// Flags after the positional argument are parsed: the node URL given
		// last is the one dialled (nothing listens on port 1).
		{"flag after argument", []string{"balance", addr, "--node", "http://127.0.0.1:1"}, 1, "127.0.0.1:1"},
		{"flag before argument", []string{"balance", "--node", "http://127.0.0.1:1", addr}, 1, "127.0.0.1:1"},
		{"missing argument", []string{"balance", "--node", "http://127.0.0.1:1"}, 2, "missing ADDRESS"},
		{"extra argument", []string{"tx", "a", "b"}, 2, `unexpected argument "b"`},
		{"argument to a flags-only command", []string{"status", "now"}, 2, `unexpected argument "now"`},
		{"unknown flag", []string{"initc", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"missing --to", []string{"send", "--amount", "5"}, 1, "--to is required"},
		{"malformed --to", []string{"send", "--to", "xyz", "--amount", "5"}, 1, "--to: "},
		{"genesis without miners", []string{"genesis"}, 1, "--miners is required"},
		{"genesis with a bad miner", []string{"genesis", "--miners", "nowhere"}, 1, `"nowhere" is neither an address nor a data directory`},
		{"discovery -h alone is help", []string{"discovery", "-h"}, 0, "usage: ccoin discovery"},
		{"discovery -h before a flag is help", []string{"discovery", "-h", "-p", "1"}, 0, "usage: ccoin discovery"},
		{"snapshot without a subcommand", []string{"snapshot"}, 2, "usage: ccoin snapshot export"},
		{"snapshot with an unknown one", []string{"snapshot", "show"}, 2, `unknown subcommand "show"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, code := exitCode(t, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s", c.args, code, c.code, c.want, out)
			}
		})
	}
}

// discovery's -h is its host flag when a value follows, help otherwise.
func TestHelpWanted(t *testing.T) {
	withH := flag.NewFlagSet("discovery", flag.ContinueOnError)
	withH.String("h", "", "")
	withH.Int("p", 0, "")
	without := flag.NewFlagSet("status", flag.ContinueOnError)
	for _, c := range []struct {
		fs   *flag.FlagSet
		args []string
		want bool
	}{
		{withH, []string{"-h"}, true},
		{withH, []string{"-p", "4444", "-h"}, true},
		{withH, []string{"-h", "-p", "4444"}, true},
		{withH, []string{"--help"}, true},
		{withH, []string{"-h", "0.0.0.0"}, false},
		{withH, []string{"-p", "4444", "-h", "0.0.0.0"}, false},
		{withH, []string{"--", "-h"}, false},
		{without, []string{"-h"}, false}, // the flag package handles it
	} {
		if got := helpWanted(c.fs, c.args); got != c.want {
			t.Errorf("%s %v: %v, want %v", c.fs.Name(), c.args, got, c.want)
		}
	}
}

func TestParseArgsInterleaved(t *testing.T) {
	for _, c := range []struct {
		args []string
		pos  []string
		node string
	}{
		{[]string{"A"}, []string{"A"}, ""},
		{[]string{"A", "--node", "u"}, []string{"A"}, "u"},
		{[]string{"--node", "u", "A", "B"}, []string{"A", "B"}, "u"},
		{[]string{"A", "--node", "u", "B"}, []string{"A", "B"}, "u"},
		{[]string{"--", "--node", "u"}, []string{"--node", "u"}, ""},
		{[]string{"A", "--", "-x"}, []string{"A", "-x"}, ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		node := fs.String("node", "", "")
		pos, err := parseArgs(fs, c.args)
		if err != nil || strings.Join(pos, " ") != strings.Join(c.pos, " ") || *node != c.node {
			t.Errorf("%v: pos %q node %q err %v; want %q %q", c.args, pos, *node, err, c.pos, c.node)
		}
	}
}

// send --print signs offline (with --nonce and --chain-id) and prints what
// POST /txs takes; --from picks one of several keys.
func TestSendPrintAndFrom(t *testing.T) {
	dir := t.TempDir()
	a1 := createAccount(t, dir)
	a2 := createAccount(t, dir)
	to := "00112233445566778899aabbccddeeff00112233"
	chainID := strings.Repeat("ab", 32)
	base := []string{"send", "--datadir", dir, "--to", to, "--amount", "7", "--data", "hi", "--nonce", "3", "--chain-id", chainID, "--print"}
	out, code := exitCode(t, base...)
	if code == 0 || !strings.Contains(out, "several accounts") || !strings.Contains(out, "--from") {
		t.Fatalf("two keys without --from: exit %d\n%s", code, out)
	}
	for _, from := range []string{a1, a2} {
		out, err := exec.Command(binPath, append(base, "--from", from)...).Output()
		if err != nil {
			t.Fatalf("send --print --from %s: %v", from, err)
		}
		var j api.TxJSON
		if err := json.Unmarshal(out, &j); err != nil {
			t.Fatalf("not a transaction: %v\n%s", err, out)
		}
		tx, err := api.TxFromJSON(j)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.VerifySignature(nil); err != nil {
			t.Fatalf("printed transaction does not verify: %v", err)
		}
		if tx.From.String() != from || tx.To.String() != to || tx.Amount != 7 || tx.Nonce != 3 || tx.ChainID.String() != chainID || string(tx.Data) != "hi" {
			t.Fatalf("printed %+v", j)
		}
	}
	if out, code := exitCode(t, append(base, "--from", "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff")...); code == 0 {
		t.Fatalf("--from an account without a key succeeded:\n%s", out)
	}
}

// A syntax error in genesis.json or ccoin.json is reported with its line
// and column.
func TestJSONErrorsHaveLineAndColumn(t *testing.T) {
	dir := t.TempDir()
	g := filepath.Join(dir, "genesis.json")
	os.WriteFile(g, []byte("{\n  \"network_id\": 5\n  \"miners\": []\n}\n"), 0o644)
	cfg := filepath.Join(dir, "ccoin.json")
	os.WriteFile(cfg, []byte("{\n  \"app\": {\"base_path\": \"x\"},\n}\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"initc", "--genesis", g, "--datadir", dir}, "line 3, column 3: invalid character"},
		{[]string{"cnode", "-c", cfg}, "line 3, column 1: invalid character '}'"},
		{[]string{"dumpconfig", "-c", cfg}, "line 3, column 1: "},
	} {
		if out, code := exitCode(t, c.args...); code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, want %q in:\n%s", c.args, code, c.want, out)
		}
	}
}
