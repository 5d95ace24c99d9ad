package txpool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"ccoin/ccoin/atomicfile"
	"ccoin/ccoin/types"
)

// ErrJournal marks a journal file that is not one or is damaged.
var ErrJournal = errors.New("malformed pool journal")

// journalMagic opens a journal; each record after it is a 4-byte big-endian
// length and a transaction in its canonical encoding.
var journalMagic = [8]byte{'c', 'c', 'o', 'i', 'n', 't', 'x', 'j'}

// maxJournalRecord bounds one record: a transaction with the largest data
// and key is well under it, so a longer length is damage, not a transaction.
const maxJournalRecord = 8 << 10

// addBatch is how many journaled transactions Load verifies at once.
const addBatch = 1024

// SaveJournal writes every pooled transaction, each sender's in nonce order,
// to path atomically, so a crash leaves either the previous journal or this
// one. It returns how many it wrote.
func (p *Pool) SaveJournal(path string) (int, error) {
	txs := p.Content(p.cfg.MaxTotal)
	err := atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(journalMagic[:]); err != nil {
			return err
		}
		var buf []byte
		for _, t := range txs {
			buf = t.Encode(append(buf[:0], 0, 0, 0, 0))
			binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("save pool journal: %w", err)
	}
	return len(txs), nil
}

// LoadJournal adds the transactions of a journal written by SaveJournal with
// every check Add makes, so those included or invalidated meanwhile are
// dropped. A missing file is an empty journal. Damage ends the read with an
// error wrapping ErrJournal; the transactions before it are kept. It reads
// at most MaxTotal records, so a huge file cannot exhaust memory.
func (p *Pool) LoadJournal(path string) (added, dropped int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var magic [8]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil || magic != journalMagic {
		return 0, 0, fmt.Errorf("%w: %s: no journal header", ErrJournal, path)
	}
	batch := make([]*types.Transaction, 0, addBatch)
	flush := func() {
		// Verified again (the file is not trusted) but not subject to
		// MaxPending: clients were told these were accepted.
		for _, e := range p.add(batch, true, false, false) {
			if e == nil {
				added++
			} else {
				dropped++
			}
		}
		batch = batch[:0]
	}
	var rerr error
	for n := 0; n < p.cfg.MaxTotal; n++ {
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err == io.EOF {
			break
		} else if err != nil {
			rerr = fmt.Errorf("%w: record %d: %w", ErrJournal, n, err)
			break
		}
		size := binary.BigEndian.Uint32(l[:])
		if size == 0 || size > maxJournalRecord {
			rerr = fmt.Errorf("%w: record %d of %d bytes", ErrJournal, n, size)
			break
		}
		rec := make([]byte, size)
		if _, err := io.ReadFull(r, rec); err != nil {
			rerr = fmt.Errorf("%w: record %d: %w", ErrJournal, n, err)
			break
		}
		t, err := types.DecodeTx(rec)
		if err != nil {
			rerr = fmt.Errorf("%w: record %d: %w", ErrJournal, n, err)
			break
		}
		if batch = append(batch, t); len(batch) == addBatch {
			flush()
		}
	}
	flush()
	return added, dropped, rerr
}
