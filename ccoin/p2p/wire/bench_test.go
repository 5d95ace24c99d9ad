package wire

import (
	"bytes"
	"io"
	"testing"
)

func benchTxs() *Txs {
	txs := make([][]byte, 1000)
	for i := range txs {
		txs[i] = fill(600, byte(i))
	}
	return &Txs{Txs: txs}
}

func BenchmarkEncodeTxs1000(b *testing.B) {
	m := benchTxs()
	b.SetBytes(600 * 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encode(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTxs1000(b *testing.B) {
	_, body, err := Encode(benchTxs())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(HdrTxs, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteReadFrame(b *testing.B) {
	_, body, err := Encode(benchTxs())
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WriteFrame(&buf, HdrTxs, body); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ReadFrame(&buf, DefaultMaxFrame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteFrameSmall(b *testing.B) {
	body := []byte{0x91, 0x01}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteFrame(io.Discard, HdrPing, body); err != nil {
			b.Fatal(err)
		}
	}
}
