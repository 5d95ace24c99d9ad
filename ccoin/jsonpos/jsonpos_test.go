package jsonpos

import (
	"encoding/json"
	"strings"
	"testing"
)

func decode(data string) error {
	var v struct {
		A int            `json:"a"`
		B map[string]int `json:"b"`
	}
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&v)
	return Annotate([]byte(data), err, dec.InputOffset())
}

func TestAnnotate(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
	}{
		{"missing comma", "{\n  \"a\": 1\n  \"b\": {}\n}", "line 3, column 3: invalid character '\"' after object key:value pair"},
		{"trailing comma", "{\n  \"a\": 1,\n}", "line 3, column 1: invalid character '}'"},
		{"wrong type", "{\n\"a\": \"x\"}", "line 2, column 8: json: cannot unmarshal string"},
		{"truncated", "{\n  \"a\": 1,\n", "line 3, column 1: unexpected EOF"},
		{"unknown field", "{\n  \"zz\": 1}", "line 2, column "},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := decode(c.data)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %v\nwant prefix %q", err, c.want)
			}
		})
	}
	if decode(`{"a": 1}`) != nil {
		t.Error("valid input reported an error")
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncd\n")
	for _, c := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 1}, {2, 1, 2}, {4, 2, 1}, {5, 2, 2}, {99, 3, 1}} {
		if l, col := Position(data, c.off); l != c.line || col != c.col {
			t.Errorf("offset %d: %d:%d, want %d:%d", c.off, l, col, c.line, c.col)
		}
	}
}
