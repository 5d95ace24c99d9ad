package wire

import (
	"errors"
	"testing"
)

func TestVoteCodec(t *testing.T) {
	runCodecCases(t, []codecCase{
		{"vote", &Vote{Vote: fill(600, 1)}, nil},
		{"vote at the limit", &Vote{Vote: fill(MaxVoteSize, 1)}, nil},
		{"vote over the limit", &Vote{Vote: fill(MaxVoteSize+1, 1)}, ErrTooLarge},
		{"empty vote", &Vote{}, ErrMalformed},
		{"empty vote bin", &Vote{Vote: []byte{}}, ErrMalformed},
	})
}

func TestGetFinalityCodec(t *testing.T) {
	runCodecCases(t, []codecCase{
		{"newest certificate only", &GetFinality{ReqID: 1}, nil},
		{"with a checkpoint", &GetFinality{ReqID: 2, Epoch: 1 << 40, ID: fill(CheckpointSize, 7)}, nil},
		{"short checkpoint id", &GetFinality{ReqID: 3, Epoch: 1, ID: fill(CheckpointSize-1, 7)}, ErrMalformed},
		{"long checkpoint id", &GetFinality{ReqID: 3, Epoch: 1, ID: fill(CheckpointSize+1, 7)}, ErrMalformed},
	})
}

func TestFinalityCodec(t *testing.T) {
	max := make([][]byte, MaxJustVotes)
	for i := range max {
		max[i] = fill(600, byte(i))
	}
	runCodecCases(t, []codecCase{
		{"nothing", &Finality{ReqID: 1}, nil},
		{"certificate", &Finality{ReqID: 1, Cert: fill(1500, 1)}, nil},
		{"certificate and votes", &Finality{ReqID: 1, Cert: fill(1500, 1), Votes: [][]byte{fill(600, 2), fill(600, 3)}}, nil},
		{"votes only", &Finality{ReqID: 1, Votes: [][]byte{fill(600, 2)}}, nil},
		{"most votes", &Finality{ReqID: 1, Votes: max}, nil},
		{"certificate at the limit", &Finality{ReqID: 1, Cert: fill(MaxCertSize, 1)}, nil},
		{"certificate over the limit", &Finality{ReqID: 1, Cert: fill(MaxCertSize+1, 1)}, ErrTooLarge},
		{"too many votes", &Finality{ReqID: 1, Votes: append(max, fill(600, 1))}, ErrTooLarge},
		{"vote over the limit", &Finality{ReqID: 1, Votes: [][]byte{fill(MaxVoteSize+1, 1)}}, ErrTooLarge},
		{"empty vote", &Finality{ReqID: 1, Votes: [][]byte{{}}}, ErrMalformed},
	})
}

// The largest CRT a node may send fits a default frame, so an honest
// answer is never cut off by the framing.
func TestFinalityFitsFrame(t *testing.T) {
	votes := make([][]byte, MaxJustVotes)
	for i := range votes {
		votes[i] = fill(MaxVoteSize, 1)
	}
	_, body, err := Encode(&Finality{ReqID: 1<<64 - 1, Cert: fill(MaxCertSize, 1), Votes: votes})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(body) + HeaderLen; n > DefaultMaxFrame {
		t.Fatalf("largest CRT is %d bytes, frame limit %d", n, DefaultMaxFrame)
	}
}

// Malformed bodies, as a peer could send them, are refused by Decode.
func TestFinalityMessagesMalformed(t *testing.T) {
	tests := []struct {
		name   string
		header string
		body   []byte
		err    error
	}{
		{"VOT: vote as a list", HdrVote, []byte{0x91, 0x91, 0x01}, ErrMalformed},
		{"VOT: two fields", HdrVote, []byte{0x92, 0xc4, 0x01, 0x01, 0xc4, 0x01, 0x01}, ErrMalformed},
		{"VOT: nil vote", HdrVote, []byte{0x91, 0xc0}, ErrMalformed},
		{"FIN: epoch as a string", HdrGetFinality, []byte{0x93, 0x01, 0xa1, 'x', 0xc0}, ErrMalformed},
		{"FIN: two fields", HdrGetFinality, []byte{0x92, 0x01, 0x01}, ErrMalformed},
		{"FIN: id of 1 byte", HdrGetFinality, []byte{0x93, 0x01, 0x01, 0xc4, 0x01, 0xab}, ErrMalformed},
		{"CRT: votes as a bin", HdrFinality, []byte{0x93, 0x01, 0xc0, 0xc4, 0x01, 0x01}, ErrMalformed},
		{"CRT: certificate as a list", HdrFinality, []byte{0x93, 0x01, 0x91, 0x01, 0xc0}, ErrMalformed},
		{"CRT: four fields", HdrFinality, []byte{0x94, 0x01, 0xc0, 0xc0, 0xc0}, ErrMalformed},
		{"CRT: map", HdrFinality, []byte{0x81, 0x01, 0x02}, ErrMalformed},
		{"CRT: nil vote in the list", HdrFinality, []byte{0x93, 0x01, 0xc0, 0x91, 0xc0}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.header, tc.body); !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

// An empty checkpoint id may come as nil (c0) or as an empty bin (c4 00);
// both mean "the newest certificate only".
func TestGetFinalityEmptyID(t *testing.T) {
	for _, body := range [][]byte{{0x93, 0x01, 0x00, 0xc0}, {0x93, 0x01, 0x00, 0xc4, 0x00}} {
		m, err := Decode(HdrGetFinality, body)
		if err != nil {
			t.Fatalf("%x: %v", body, err)
		}
		if g := m.(*GetFinality); len(g.ID) != 0 {
			t.Fatalf("%x: id %x", body, g.ID)
		}
	}
}
