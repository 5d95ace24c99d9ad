package wire

import (
	"bytes"
	"ccoin/ccoin/crypto/cryptotest"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/wire-vectors.json (deterministic)")

const wireVectorsPath = "../../../testdata/wire-vectors.json"

// WireVectors is testdata/wire-vectors.json (PROTOCOL.md, "P2P"): one frame
// of each message: the handshake's HEY/ACK (sent inside TLS) and every
// message after it.
type WireVectors struct {
	Comment string        `json:"comment"`
	Frames  []WireFrame   `json:"frames"`
	Refused []WireRefusal `json:"refused"`
}

// WireFrame is one message: its header, body and whole frame.
type WireFrame struct {
	Comment string `json:"comment"`
	Header  string `json:"header"`
	Body    string `json:"body_hex"`
	Frame   string `json:"frame_hex"`
}

// WireRefusal is a body a node refuses under header.
type WireRefusal struct {
	Comment string `json:"comment"`
	Header  string `json:"header"`
	Body    string `json:"body_hex"`
}

type wireMessage struct {
	comment string
	m       Message
}

var wireMessages = []wireMessage{
	{"TXN: a batch of canonical signed transaction encodings (here two short stand-ins; a node decodes each as a transaction)",
		&Txs{Txs: [][]byte{{0x99, 0x01}, {0x99, 0x02}}}},
	{"BLK: one canonical block encoding, as a bin", &Block{Block: []byte{0x94, 0x01, 0x02}}},
	{"RBH: ask the head; req_id 7", &GetHead{ReqID: 7}},
	{"BLH: answer with req_id, height, head id, finalized height", &Head{ReqID: 7, Height: 300, HeadID: bytes.Repeat([]byte{0xab}, 32), FinalizedHeight: 298}},
	{"RBL: ask blocks 2..513: req_id, from, count (at most 512)", &GetBlocks{ReqID: 8, From: 2, Count: 512}},
	{"ABL: req_id and the block encodings, in order", &Blocks{ReqID: 8, Blocks: [][]byte{{0x94, 0x01}, {0x94, 0x02}}}},
	{"ABL with no blocks: an empty list is encoded as msgpack nil (c0), as the Go encoder writes a nil slice; accept both c0 and 90",
		&Blocks{ReqID: 9}},
	{"LDR: ask the leader of the current slot", &GetLeader{ReqID: 10}},
	{"ADR: req_id, slot, leader address (20 bytes)", &Leader{ReqID: 10, Slot: 65536, Leader: bytes.Repeat([]byte{0x11}, 20)}},
	{"PEX: host:port strings (msgpack str, not bin)", &Peers{Addrs: []string{"10.0.0.1:7000", "[::1]:7001"}}},
	{"PNG: keep-alive with a nonce (uint64 2^64-1, cf)", &Ping{Nonce: 1<<64 - 1}},
	{"PON: the same nonce back", &Pong{Nonce: 1<<64 - 1}},
	{"RSM: ask for the latest snapshot manifest", &GetSnapshot{ReqID: 11}},
	{"ASM: req_id and the manifest encoding (package snapshot); no snapshot: nil", &Snapshot{ReqID: 11}},
	{"RCK: req_id, snapshot block number, chunk index", &GetChunk{ReqID: 12, Height: 2, Index: 1}},
	{"CHK: req_id, chunk index, chunk encoding", &Chunk{ReqID: 12, Index: 1, Data: []byte{0x01, 0x02}}},
	{"CBK: a compact block: the block encoding with an empty transaction list (here a short stand-in ending in 90), then the " +
		"ids of its transactions, 32 bytes each, concatenated in one bin (here two)",
		&CompactBlock{Head: []byte{0x94, 0x01, 0x02, 0x03, 0x90}, TxIDs: append(bytes.Repeat([]byte{0xa1}, 32), bytes.Repeat([]byte{0xa2}, 32)...)}},
	{"RBT: req_id, the compact block's id, the indexes of the transactions asked for (increasing)",
		&GetBlockTxs{ReqID: 15, BlockID: bytes.Repeat([]byte{0xab}, 32), Indexes: []uint32{0, 7, 300}}},
	{"ABT: req_id and the canonical transaction encodings asked for, in the order asked", &BlockTxs{ReqID: 15, Txs: [][]byte{{0x99, 0x01}, {0x99, 0x02}, {0x99, 0x03}}}},
	{"ABT from a node that no longer holds the block: no transactions (nil, c0)", &BlockTxs{ReqID: 16}},
}

var wireRefusals = []WireRefusal{
	{"a map instead of an array", HdrPing, "81a16e01"},
	{"one field too many", HdrPing, "920101"},
	{"trailing byte after the body", HdrPing, "910100"},
	{"head id of 31 bytes", HdrHead, "9407cd012cc41f" + hex.EncodeToString(bytes.Repeat([]byte{0xab}, 31)) + "cd012a"},
	{"block count 513 (over 512)", HdrGetBlocks, "930802cd0201"},
	{"block count 0", HdrGetBlocks, "930802" + "00"},
	{"unknown header", "XYZ", "90"},
	{"VOT with an empty vote", HdrVote, "91c400"},
	{"VOT with a vote of 2049 bytes (over 2 KiB)", HdrVote, "91c50801" + strings.Repeat("00", 2049)},
	{"FIN with a checkpoint id of 31 bytes", HdrGetFinality, "930e01c41f" + strings.Repeat("ab", 31)},
	{"FIN without the id field", HdrGetFinality, "920e01"},
	{"CRT with 257 justification votes (over 256)", HdrFinality, "930ec0dc0101" + strings.Repeat("c40101", 257)},
	{"CRT with an empty justification vote", HdrFinality, "930ec091c400"},
	{"CBK with 33 bytes of tx ids (not a multiple of 32)", HdrCompactBlock, "92c401" + "90" + "c421" + strings.Repeat("ab", 33)},
	{"CBK with an empty head", HdrCompactBlock, "92c400c0"},
	{"RBT with indexes out of order", HdrGetBlockTxs, "9301c420" + strings.Repeat("ab", 32) + "920201"},
	{"RBT with no indexes", HdrGetBlockTxs, "9301c420" + strings.Repeat("ab", 32) + "90"},
	{"ABT with an empty transaction", HdrBlockTxs, "920f91c400"},
}

// finalityMessages are VOT, FIN and CRT carrying the real vote, certificate
// and justification of testdata/finality-vectors.json (made by ccoin/consensus
// TestFinalityVectors; regenerate that file first if it changes).
func finalityMessages(t *testing.T) []wireMessage {
	raw, err := os.ReadFile("../../../testdata/finality-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var fv struct {
		Vote struct {
			Signed string `json:"signed_encoding_hex"`
		} `json:"vote"`
		Justification []string `json:"justification_hex"`
		Block         struct {
			ID string `json:"id"`
		} `json:"block"`
		Certificate struct {
			Encoding string `json:"encoding_hex"`
		} `json:"certificate"`
	}
	if err := json.Unmarshal(raw, &fv); err != nil {
		t.Fatal(err)
	}
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var just [][]byte
	for _, j := range fv.Justification {
		just = append(just, h(j))
	}
	return []wireMessage{
		{"VOT: one signed vote (finality-vectors.json#/vote/signed_encoding_hex) as a bin", &Vote{Vote: h(fv.Vote.Signed)}},
		{"FIN: ask the newest certificate only: req_id, epoch 0, id empty (nil, c0; an empty bin c4 00 is the same)", &GetFinality{ReqID: 13}},
		{"FIN: ask the newest certificate and the votes that justified checkpoint (1, block 2 of finality-vectors.json)",
			&GetFinality{ReqID: 14, Epoch: 1, ID: h(fv.Block.ID)}},
		{"CRT: req_id, the newest certificate (finality-vectors.json#/certificate/encoding_hex), the justification votes asked for " +
			"(#/justification_hex)", &Finality{ReqID: 14, Cert: h(fv.Certificate.Encoding), Votes: just}},
		{"CRT from a node with no certificate beyond genesis and no such justification: both nil", &Finality{ReqID: 13}},
	}
}

// handshakeMessages are HEY and ACK as sent inside TLS (protocol 3): no
// signature; node_address must be the address of the certificate's key.
var handshakeMessages = []wireMessage{
	{"HEY (inside TLS, frame limit 1 KiB): protocol 3, network id 1337, chain id, node address (the certificate key's), " +
		"listen address (str), height, head id, finalized height, software version (str), node type (str), nonce, time_ms",
		&Hello{Protocol: ProtocolVersion, NetworkID: 1337, ChainID: bytes.Repeat([]byte{0x0a}, 32),
			NodeAddress: bytes.Repeat([]byte{0x7c}, 20), ListenAddr: "10.0.0.1:7000", Height: 3, HeadID: bytes.Repeat([]byte{0xab}, 32),
			FinalizedHeight: 2, Version: "ccoin/0.2", NodeType: "validator", Nonce: 0x0123456789abcdef, TimeMs: 1793577610000}},
	{"ACK: the listener's answer, the same 12 fields; a node that does not listen sends an empty listen address",
		&HelloAck{Protocol: ProtocolVersion, NetworkID: 1337, ChainID: bytes.Repeat([]byte{0x0a}, 32),
			NodeAddress: bytes.Repeat([]byte{0xe7}, 20), ListenAddr: "", Height: 3, HeadID: bytes.Repeat([]byte{0xab}, 32),
			FinalizedHeight: 2, Version: "ccoin/0.2", NodeType: "basic", Nonce: 42, TimeMs: 1793577610001}},
}

func allWireMessages(t *testing.T) []wireMessage {
	out := append(append([]wireMessage{}, wireMessages...), finalityMessages(t)...)
	return append(out, handshakeMessages...)
}

func makeWireVectors(t *testing.T) WireVectors {
	v := WireVectors{Comment: "P2P frames, see PROTOCOL.md section P2P. Made by `go test ./ccoin/p2p/wire -run TestWireVectors -update`. " +
		"frame = uint32 little-endian length of (header + body) || 3 ASCII letters || msgpack body; a body is an array of the " +
		"message's fields in order; integers in the shortest form, byte fields bin, text fields str. The refused bodies are " +
		"ones a node must treat as malformed (and disconnect).", Refused: wireRefusals}
	for _, w := range allWireMessages(t) {
		h, body, err := Encode(w.m)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteFrame(&buf, h, body); err != nil {
			t.Fatal(err)
		}
		v.Frames = append(v.Frames, WireFrame{w.comment, h, hex.EncodeToString(body), hex.EncodeToString(buf.Bytes())})
	}
	return v
}

func TestWireVectors(t *testing.T) {
	want := makeWireVectors(t)
	var v WireVectors
	cryptotest.Golden(t, wireVectorsPath, want, &v, *update)
	msgs := allWireMessages(t)
	for i, f := range v.Frames {
		fr, _ := hex.DecodeString(f.Frame)
		h, body, err := ReadFrame(bytes.NewReader(fr), 0)
		if err != nil || h != f.Header || hex.EncodeToString(body) != f.Body {
			t.Fatalf("%s: frame: %v", f.Comment, err)
		}
		m, err := Decode(h, body)
		if err != nil {
			t.Fatalf("%s: %v", f.Comment, err)
		}
		if !reflect.DeepEqual(m, msgs[i].m) {
			t.Fatalf("%s: decoded %+v", f.Comment, m)
		}
	}
	for _, r := range v.Refused {
		body, _ := hex.DecodeString(r.Body)
		if _, err := Decode(r.Header, body); err == nil {
			t.Errorf("%s: accepted", r.Comment)
		}
	}
}
