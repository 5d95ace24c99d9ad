package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"ccoin/ccoin/atomicfile"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// ErrWorkload: a workload file that cannot be read back.
var ErrWorkload = errors.New("bench: workload file")

// workloadMagic starts a workload file; the digit is its format version.
const workloadMagic = "ccoin-workload 1\n"

// maxWorkloadItem bounds one key or transaction read from a file.
const maxWorkloadItem = 1 << 20

// workload is what a run spends minutes making: the sender keys (RSA key
// generation) and their signed transfers (RSA signing), kept on disk
// (Config.Workload) so later runs reuse them. Signed transfers are only
// good on their chain and only above their sender's nonce there, so the
// file records the chain id and, per sender, the nonce below its first
// transfer; a run drops what its chain has already used and signs only
// what is missing.
type workload struct {
	chainID types.Hash
	keys    []*crypto.PrivateKey
	base    []uint64               // transfers of sender s start at nonce base[s]+1
	txs     [][]*types.Transaction // txs[s][k] has nonce base[s]+1+k
}

// loadWorkload reads path; a missing file is an empty workload.
func loadWorkload(path string) (*workload, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &workload{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w, err := readWorkload(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v (remove it to start a new one)", ErrWorkload, path, err)
	}
	return w, nil
}

func readWorkload(r *bufio.Reader) (*workload, error) {
	magic := make([]byte, len(workloadMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != workloadMagic {
		return nil, errors.New("not a ccoin workload file (or another version)")
	}
	w := &workload{}
	if _, err := io.ReadFull(r, w.chainID[:]); err != nil {
		return nil, err
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 100_000 {
		return nil, fmt.Errorf("sender count: %v", err)
	}
	for s := range int(n) {
		pem, err := readItem(r)
		if err != nil {
			return nil, err
		}
		k, err := crypto.DecodePrivateKeyPEM(pem, nil)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", s, err)
		}
		base, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		count, err := binary.ReadUvarint(r)
		if err != nil || count > 10_000_000 {
			return nil, fmt.Errorf("transfer count: %v", err)
		}
		txs := make([]*types.Transaction, 0, count)
		for j := range count {
			raw, err := readItem(r)
			if err != nil {
				return nil, err
			}
			t, err := types.DecodeTx(raw)
			if err != nil {
				return nil, fmt.Errorf("sender %d transfer %d: %w", s, j, err)
			}
			if t.From != k.Address() || t.Nonce != base+1+j || t.ChainID != w.chainID {
				return nil, fmt.Errorf("sender %d transfer %d: not the sender's nonce %d on this chain", s, j, base+1+j)
			}
			txs = append(txs, t)
		}
		w.keys, w.base, w.txs = append(w.keys, k), append(w.base, base), append(w.txs, txs)
	}
	return w, nil
}

func readItem(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxWorkloadItem {
		return nil, fmt.Errorf("item of %d bytes", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

// save writes the workload atomically (a crash leaves the old file).
func (w *workload) save(path string) error {
	return atomicfile.Write(path, func(out io.Writer) error {
		bw := bufio.NewWriterSize(out, 1<<20)
		bw.WriteString(workloadMagic)
		bw.Write(w.chainID[:])
		var buf bytes.Buffer
		putUvarint(bw, uint64(len(w.keys)))
		for s, k := range w.keys {
			pem, err := crypto.EncodePrivateKeyPEM(k, nil)
			if err != nil {
				return err
			}
			putItem(bw, pem)
			putUvarint(bw, w.base[s])
			putUvarint(bw, uint64(len(w.txs[s])))
			for _, t := range w.txs[s] {
				buf.Reset()
				putItem(bw, t.Encode(buf.Bytes()))
			}
		}
		return bw.Flush()
	})
}

func putUvarint(w *bufio.Writer, v uint64) {
	var b [binary.MaxVarintLen64]byte
	w.Write(b[:binary.PutUvarint(b[:], v)])
}

func putItem(w *bufio.Writer, p []byte) {
	putUvarint(w, uint64(len(p)))
	w.Write(p)
}

// forChain keeps the keys and drops the transfers when the workload was
// signed for another chain.
func (w *workload) forChain(id types.Hash) {
	if w.chainID == id {
		return
	}
	w.chainID = id
	for s := range w.keys {
		w.base[s], w.txs[s] = 0, nil
	}
}

// addKeys appends new senders (with no transfers yet).
func (w *workload) addKeys(keys []*crypto.PrivateKey) {
	for _, k := range keys {
		w.keys, w.base, w.txs = append(w.keys, k), append(w.base, 0), append(w.txs, nil)
	}
}

// advance drops sender s's transfers at or below nonce, which its chain
// has used.
func (w *workload) advance(s int, nonce uint64) {
	switch {
	case nonce <= w.base[s]:
	case nonce >= w.base[s]+uint64(len(w.txs[s])):
		w.base[s], w.txs[s] = nonce, nil
	default:
		w.txs[s] = w.txs[s][nonce-w.base[s]:]
		w.base[s] = nonce
	}
}

// get returns sender s's stored transfer with nonce, or nil.
func (w *workload) get(s int, nonce uint64) *types.Transaction {
	if nonce <= w.base[s] || nonce > w.base[s]+uint64(len(w.txs[s])) {
		return nil
	}
	return w.txs[s][nonce-w.base[s]-1]
}

// put stores sender s's transfer t when it extends the stored run (the
// transfers are signed in parallel, so put is called in nonce order by
// the caller after signing).
func (w *workload) put(s int, t *types.Transaction) {
	if t.Nonce == w.base[s]+uint64(len(w.txs[s]))+1 {
		w.txs[s] = append(w.txs[s], t)
	}
}
