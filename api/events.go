package api

import (
	"encoding/json"
	"net/http"
	"time"
)

// events is GET /events, a server-sent event stream of head, finalized and
// reorg events. The Stream's subscription is bounded (a slow client loses
// events rather than slowing the node), each write has a deadline (a client
// that stops reading is dropped), and the stream ends when the client goes
// or the server shuts down.
func (s *streamRoutes) events(w http.ResponseWriter, r *http.Request) {
	// The node serves at most 1,024 streams in all; a per-client cap below
	// that keeps one client from taking every slot.
	client, _ := clientKey(r.RemoteAddr)
	if !s.streams.acquire(client) {
		retryAfter(w, 5*time.Second)
		writeError(w, errorf(http.StatusTooManyRequests, CodeTooManyStreams,
			"this client has %d event streams open, the most allowed", s.cfg.MaxStreamsPerIP))
		return
	}
	defer s.streams.release(client)
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for ordinary requests; a
	// stream sets a deadline per write instead.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})

	ch, cancel := s.st.Subscribe()
	if cancel != nil {
		defer cancel()
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	write := func(p []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		if _, err := w.Write(p); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte(": connected\n\n")) {
		return
	}
	tick := time.NewTicker(s.cfg.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.stopping:
			return
		case <-tick.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		case ev, ok := <-ch:
			if !ok {
				return
			}
			data, err := json.Marshal(s.eventJSON(ev))
			if err != nil {
				s.log.Error("encoding event", "kind", ev.Kind, "error", err)
				continue
			}
			msg := make([]byte, 0, len(data)+32)
			msg = append(msg, "event: "...)
			msg = append(msg, ev.Kind...)
			msg = append(msg, "\ndata: "...)
			msg = append(msg, data...)
			msg = append(msg, "\n\n"...)
			if !write(msg) {
				return
			}
		}
	}
}

func (s *streamRoutes) eventJSON(ev Event) EventJSON {
	j := EventJSON{Kind: ev.Kind, Depth: ev.Depth}
	if ev.Block != nil {
		b := blockJSON(s.blocks, ev.Block, false)
		if ev.Kind == EventFinalized {
			b.Finalized = true
		}
		j.Block = &b
	}
	if !ev.OldHead.IsZero() {
		j.OldHead = ev.OldHead.String()
	}
	if !ev.NewHead.IsZero() {
		j.NewHead = ev.NewHead.String()
	}
	return j
}
