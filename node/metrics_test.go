package node

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestMetricsPeersAndPromtool: ccoin_peers_inbound and ccoin_peers_outbound
// count the connected peers by direction (issue 16.9: they always read 0),
// and a node's whole /metrics page passes `promtool check metrics` when
// promtool (Debian package prometheus) is installed.
func TestMetricsPeersAndPromtool(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	a := c.add("A", TypeValidator, validatorKeys(t)[0])
	b := c.add("B", TypeBasic, outsiderKey(t))
	ports := map[*tnode]int{a: freePort(t), b: freePort(t)}
	for _, tn := range []*tnode{a, b} {
		tn.startWith(func(o *Options) {
			o.Config.HTTP.Disabled = false
			o.Config.HTTP.Host = "127.0.0.1"
			o.HTTPPort = ports[tn]
		})
	}
	waitPeers(t, a, b)

	scrape := func(tn *tnode) []byte {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[tn]))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		p, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
		}
		return p
	}
	gauge := func(page []byte, name string) int {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("%s missing from /metrics", name)
		}
		v, _ := strconv.Atoi(string(m[1]))
		return v
	}
	want := func(tn *tnode) (in, out int) {
		for _, p := range tn.N().Network().Peers() {
			if p.Inbound {
				in++
			} else {
				out++
			}
		}
		return
	}
	// One link joins A and B: inbound on one side, outbound on the other.
	waitFor(t, 10*time.Second, "peer gauges to match the peer lists", func() bool {
		pa, pb := scrape(a), scrape(b)
		ain, aout := want(a)
		bin, bout := want(b)
		return gauge(pa, "ccoin_peers_inbound") == ain && gauge(pa, "ccoin_peers_outbound") == aout &&
			gauge(pb, "ccoin_peers_inbound") == bin && gauge(pb, "ccoin_peers_outbound") == bout &&
			ain+aout == 1 && ain == bout && aout == bin
	})

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (Debian package prometheus); skipping promtool check metrics")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(scrape(a))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
