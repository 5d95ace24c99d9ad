package chain

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

const crashEnv = "CCOIN_CHAIN_CRASH_DIR"

// crashSetup is shared by the parent and the child: the keys (as PEM files
// in dir) and the genesis built from them.
func crashKeys(t testing.TB, dir string, ks []*crypto.PrivateKey) []*crypto.PrivateKey {
	if ks != nil {
		for i, k := range ks {
			pem, err := crypto.EncodePrivateKeyPEM(k, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("key%d.pem", i)), pem, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return ks
	}
	for i := 0; ; i++ {
		pem, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("key%d.pem", i)))
		if errors.Is(err, os.ErrNotExist) {
			return ks
		}
		if err != nil {
			t.Fatal(err)
		}
		k, err := crypto.DecodePrivateKeyPEM(pem, nil)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
}

// TestCrashChild is the process TestCrashRecovery kills: it commits blocks
// in a tight loop (extensions, and every few blocks a lower-slot sibling
// that forces a reorg) and prints every new head once it is committed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashRecovery")
	}
	ks := crashKeys(t, dir, nil)
	miners, users := ks[:3], ks[3:]
	g := testGenesis(t, miners, users, 1_000_000)
	db, err := OpenDB(filepath.Join(dir, "db"))
	if err != nil {
		fmt.Printf("error open: %v\n", err)
		os.Exit(2)
	}
	c, err := Open(db, Config{Genesis: g, Verifier: linkVerifier{}, Finality: &testFinality{}})
	if err != nil {
		fmt.Printf("error open: %v\n", err)
		os.Exit(2)
	}
	fail := func(format string, args ...any) {
		fmt.Printf("error "+format+"\n", args...)
		os.Exit(2)
	}
	fmt.Println("ready")
	deadline := time.Now().Add(30 * time.Second) // in case the parent is gone
	for i := 0; time.Now().Before(deadline); i++ {
		head, headID := c.Head()
		// Transfers valid on the parent state.
		txsOn := func(parent *types.Header, n int) []*types.Transaction {
			var txs []*types.Transaction
			for j := range n {
				from := users[(i+j)%len(users)]
				acc, err := c.AccountAt(parent.StateRoot, from.Address())
				if err != nil {
					fail("account: %v", err)
				}
				to := ks[(i+j+1)%len(ks)].Address()
				tx := &types.Transaction{ChainID: g.ChainID, Nonce: acc.Nonce + 1, From: from.Address(), To: to, Amount: uint64(1 + i%7), Time: uint64(i)}
				if err := tx.Sign(from); err != nil {
					fail("sign: %v", err)
				}
				txs = append(txs, tx)
			}
			return txs
		}
		a := makeBlock(t, c, headID, miners[i%3], head.Slot+2, txsOn(head, 2)...)
		r, err := c.ImportOwn(a)
		if err != nil {
			fail("import: %v", err)
		}
		if r.Head {
			fmt.Printf("head %s\n", r.ID)
		}
		if i%4 == 3 {
			// A sibling with a lower slot by another sealer wins: a reorg.
			b := makeBlock(t, c, headID, miners[(i+1)%3], head.Slot+1, txsOn(head, 1)...)
			r, err := c.ImportBlock(b, b.Encode(nil))
			if err != nil {
				fail("import sibling: %v", err)
			}
			if !r.Head || r.Reorg == nil {
				fail("sibling did not reorganise")
			}
			fmt.Printf("head %s\n", r.ID)
		}
	}
	os.Exit(0)
}

// TestCrashRecovery SIGKILLs a child committing blocks at random moments
// and checks after each kill that the database opens, has not lost any
// head the child reported, and that its state equals a replay of its
// canonical blocks from genesis, with the flat table equal to the tree.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	ks := crashKeys(t, dir, keys(t, 6))
	miners, users := ks[:3], ks[3:]
	g := testGenesis(t, miners, users, 1_000_000)
	dbPath := filepath.Join(dir, "db")
	db, err := OpenDB(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(db, g, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	db.Close()

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("kill timing seed %d", seed)
	rdb, replica := memChain(t, g, nil)
	defer rdb.Close()

	var lastID types.Hash // last head a child reported
	var committed, reorgs int
	const rounds = 25
	start := time.Now()
	for round := range rounds {
		if time.Since(start) > 45*time.Second {
			t.Logf("stopping after %d rounds to stay within the time budget", round)
			break
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Start the clock once the child has opened the chain, so kills
		// land among commits rather than in process start-up.
		if l, ok := <-lines; !ok || l != "ready" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("round %d: child did not start: %q", round, l)
		}
		time.Sleep(time.Duration(20+rng.IntN(281)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		var childErr string
		for l := range lines {
			switch {
			case strings.HasPrefix(l, "head "):
				id, err := types.ParseHash(strings.TrimPrefix(l, "head "))
				if err != nil {
					t.Fatalf("child printed %q", l)
				}
				lastID = id
				committed++
			case strings.HasPrefix(l, "error "):
				childErr = l
			}
		}
		_ = cmd.Wait()
		if childErr != "" {
			t.Fatalf("round %d: child failed: %s", round, childErr)
		}

		db, err := OpenDB(dbPath)
		if err != nil {
			t.Fatalf("round %d: open db after kill: %v", round, err)
		}
		c, err := Open(db, Config{Genesis: g, Verifier: linkVerifier{}, Finality: &testFinality{}})
		if err != nil {
			db.Close()
			t.Fatalf("round %d: open chain after kill: %v", round, err)
		}
		head, headID := c.Head()
		if lastID != (types.Hash{}) && headID != lastID {
			last, err := c.Header(lastID)
			if err != nil {
				t.Fatalf("round %d: reported head %s lost: %v", round, lastID, err)
			}
			if !Better(head, headID, last, lastID) {
				t.Fatalf("round %d: head %d %s is behind the reported head %d %s", round, head.Number, headID, last.Number, lastID)
			}
		}
		if err := checkHeadState(c, db); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := checkCanonical(c); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		// Bring the replica up to the canonical chain and compare.
		for n := uint64(2); n <= head.Number; n++ {
			id, err := c.CanonicalID(n)
			if err != nil {
				t.Fatal(err)
			}
			if replica.HasBlock(id) {
				continue
			}
			raw, err := c.RawBlock(id)
			if err != nil {
				t.Fatal(err)
			}
			b, err := types.DecodeBlock(raw)
			if err != nil {
				t.Fatal(err)
			}
			r, err := replica.ImportBlock(b, raw)
			if err != nil {
				t.Fatalf("round %d: replay block %d: %v", round, n, err)
			}
			if r.Reorg != nil {
				reorgs++
			}
		}
		rh, rid := replica.Head()
		if rid != headID || rh.StateRoot != head.StateRoot {
			t.Fatalf("round %d: replay head %d %s, chain head %d %s", round, rh.Number, rid, head.Number, headID)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := replica.Head()
	t.Logf("%d heads reported, chain height %d, %d reorgs seen by the replica", committed, h.Number, reorgs)
	if h.Number < 10 {
		t.Fatalf("children committed only %d blocks: the test exercised little", h.Number-1)
	}
}
