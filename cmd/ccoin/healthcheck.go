package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runHealthcheck probes a node's health URL once and fails unless it answers
// 200. Container images built FROM scratch have no curl or shell, so the
// binary itself serves as the Docker HEALTHCHECK probe.
func runHealthcheck(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("healthcheck", "[--url http://127.0.0.1:7001/readyz] [--timeout 2s]")
	url := fs.String("url", "http://127.0.0.1:7001/readyz", "URL that must answer 200")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", *url, resp.StatusCode, body)
	}
	fmt.Fprintf(out, "%s ok\n", *url)
	return nil
}
