//go:build unix

package snapshot

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"ccoin/ccoin/chain"
)

// BenchmarkExportImport exports the state of a chain with many accounts to
// a file and imports it into a fresh on-disk database. The account count is
// 100,000 unless CCOIN_SNAPSHOT_ACCOUNTS says otherwise (1000000 for the
// figure in the report).
func BenchmarkExportImport(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CCOIN_SNAPSHOT_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	tc := newTestChain(b, 7, n)
	tc.sealN(3, true)
	tc.finalize()
	dir := b.TempDir()
	path := filepath.Join(dir, "state.snap")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c0, t0 := cpuTime(), time.Now()
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		m, err := Export(f, tc.c, tc.g, tc.ffg.Certificate(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		c1, t1 := cpuTime(), time.Now()
		db, err := chain.OpenDB(filepath.Join(dir, "db"+strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Import(db, tc.g, []byte("{}"), path, nil); err != nil {
			b.Fatal(err)
		}
		db.Close()
		c2, t2 := cpuTime(), time.Now()
		st, _ := os.Stat(path)
		b.ReportMetric(float64(m.Accounts), "accounts")
		b.ReportMetric(t1.Sub(t0).Seconds(), "export-s")
		b.ReportMetric(t2.Sub(t1).Seconds(), "import-s")
		b.ReportMetric(float64(st.Size())/1e6, "file-MB")
		// CPU seconds of the process: wall time is unreliable on a shared machine.
		b.ReportMetric((c1 - c0).Seconds(), "export-cpu-s")
		b.ReportMetric((c2 - c1).Seconds(), "import-cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
