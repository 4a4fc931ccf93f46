package framework

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitFor polls cond until it holds, for half a minute at most.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestClientGoneStopsPage: a page whose client disconnects is stopped
// through its state's context, and its state is not reused.
func TestClientGoneStopsPage(t *testing.T) {
	a := newApp(t, map[string]string{
		"loop.lasp":  `<% Server.ScriptTimeout = 600 while true do end %>`,
		"sleep.lasp": `<% Server.ScriptTimeout = 600 Server.Sleep(600) %>`,
	})
	for _, page := range []string{"loop", "sleep"} {
		t.Run(page, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			req, _ := http.NewRequestWithContext(ctx, "GET", a.URL+"/"+page+".lasp", nil)
			done := make(chan error, 1)
			go func() {
				res, err := a.Client().Do(req)
				if err == nil {
					res.Body.Close()
				}
				done <- err
			}()
			waitFor(t, "the page to start", func() bool { return a.srv.engine.Stats().InUse == 1 })
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("client: %v", err)
			}
			waitFor(t, "the page to stop", func() bool { return a.srv.engine.Stats().InUse == 0 })
		})
	}
}

// TestClose: Close waits for in-flight pages, then new requests get 503.
func TestClose(t *testing.T) {
	a := newApp(t, map[string]string{
		"slow.lasp": `<% Server.Sleep(0.3) %>finished`,
		"ok.lasp":   `ok`,
	})
	slow := make(chan string, 1)
	go func() {
		res, err := a.Client().Get(a.URL + "/slow.lasp")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		slow <- string(body)
	}()
	waitFor(t, "the slow page to start", func() bool { return a.srv.engine.Stats().InUse == 1 })
	if err := a.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := a.srv.engine.Stats().InUse; n != 0 {
		t.Fatalf("Close returned with %d page(s) still running", n)
	}
	if body := <-slow; body != "finished" {
		t.Errorf("in-flight page: %q", body)
	}
	res, body := a.do(t, newRequest(t, "GET", a.URL+"/ok.lasp", ""))
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("after Close: %d %q, want 503 with Retry-After", res.StatusCode, body)
	}
}

// TestCloseDeadline: Close gives up when its context ends first.
func TestCloseDeadline(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{"slow.lasp": `<% Server.Sleep(0.5) %>`})
	go func() {
		if res, err := a.Client().Get(a.URL + "/slow.lasp"); err == nil {
			res.Body.Close()
		}
	}()
	waitFor(t, "the slow page to start", func() bool { return a.srv.engine.Stats().InUse == 1 })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.srv.Close(ctx); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("Close with a done context: %v", err)
	}
}
