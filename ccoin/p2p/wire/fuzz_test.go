package wire

import (
	"bytes"
	"testing"
)

func seedMessages() []Message {
	h := validHello()
	ack := HelloAck(validHello())
	return []Message{&h, &ack, &Txs{Txs: [][]byte{{1}, fill(100, 2)}}, &Block{Block: []byte{1, 2}},
		&GetHead{ReqID: 1}, &Head{ReqID: 1, HeadID: fill(32, 1)}, &GetBlocks{ReqID: 1, From: 2, Count: 3},
		&Blocks{ReqID: 1, Blocks: [][]byte{{1}}}, &GetLeader{ReqID: 1}, &Leader{ReqID: 1, Leader: fill(20, 1)},
		&Peers{Addrs: []string{"a:1"}}, &Ping{Nonce: 1}, &Pong{Nonce: 1}, &GetSnapshot{ReqID: 1},
		&Snapshot{ReqID: 1, Manifest: []byte{1}}, &GetChunk{ReqID: 1, Height: 1, Index: 1},
		&Chunk{ReqID: 1, Index: 1, Data: []byte{1}}, &Vote{Vote: fill(600, 1)}, &GetFinality{ReqID: 1},
		&GetFinality{ReqID: 1, Epoch: 2, ID: fill(32, 1)}, &Finality{ReqID: 1, Cert: fill(100, 1), Votes: [][]byte{fill(600, 2)}}}
}

func FuzzReadFrame(f *testing.F) {
	for _, m := range seedMessages() {
		h, body, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		_ = WriteFrame(&buf, h, body)
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{5, 0, 0, 0, 'P', 'N'})
	f.Add([]byte{3, 0, 0, 0, 'x', 'y', 'z'})
	const max = 1 << 16
	f.Fuzz(func(t *testing.T, in []byte) {
		h, body, err := ReadFrame(bytes.NewReader(in), max)
		if err != nil {
			return
		}
		if len(body)+HeaderLen > max || len(body)+FrameOverhead > len(in) {
			t.Fatalf("body of %d bytes from %d input bytes", len(body), len(in))
		}
		_, _ = Decode(h, body)
	})
}

func FuzzDecode(f *testing.F) {
	headers := Headers()
	for i, m := range seedMessages() {
		_, body, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), body)
	}
	f.Add(uint8(0), []byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(2), bytes.Repeat([]byte{0x91}, 64))
	f.Fuzz(func(t *testing.T, hi uint8, body []byte) {
		h := headers[int(hi)%len(headers)]
		m, err := Decode(h, body)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode, and the re-encoding must decode to
		// the same message (the checker and the decoder agree).
		h2, body2, err := Encode(m)
		if err != nil {
			t.Fatalf("decoded %s does not re-encode: %v", h, err)
		}
		if _, err := Decode(h2, body2); err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", h, err)
		}
	})
}
