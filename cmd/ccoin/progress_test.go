package main

import (
	"bytes"
	"strings"
	"testing"
)

// The snapshot commands show a drawn bar on a terminal and plain lines
// elsewhere, and both end with the full count.
func TestProgress(t *testing.T) {
	cases := []struct {
		name  string
		bar   bool
		total uint64 // zero: unknown until the end, as in an export
		want  []string
	}{
		{"bar, known total", true, 3000, []string{"imported", "100%", "3000/3000", "accounts"}},
		{"spinner, unknown total", true, 0, []string{"exported", "3000", "accounts"}},
		{"lines, known total", false, 3000, []string{"imported 3000/3000 accounts (100%"}},
		{"lines, unknown total", false, 0, []string{"exported 3000/3000 accounts (100%"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, bar bytes.Buffer
			verb := "imported"
			if c.total == 0 {
				verb = "exported"
			}
			p := newProgress(&out, nil, verb)
			if c.bar {
				p = newProgress(&out, &bar, verb)
			}
			for done := uint64(1000); done <= 3000; done += 1000 {
				p.Update(done, c.total)
			}
			p.Finish()
			got := out.String()
			if c.bar {
				if out.Len() != 0 {
					t.Fatalf("lines printed beside the bar: %q", got)
				}
				got = bar.String()
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%q", w, got)
				}
			}
			if !c.bar && strings.Count(got, "\n") > 2 {
				t.Errorf("lines not throttled:\n%s", got)
			}
		})
	}
}
