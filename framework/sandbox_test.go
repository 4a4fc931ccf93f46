package framework

import (
	"strings"
	"testing"
)

// TestStatesReused checks that sequential requests share one pooled state.
func TestStatesReused(t *testing.T) {
	a := newApp(t, map[string]string{"p.lasp": `<%= 1 %>`})
	for range 20 {
		a.mustGet(t, "/p.lasp")
	}
	if s := a.srv.engine.Stats(); s.Created != 1 || s.Idle != 1 {
		t.Errorf("stats after 20 sequential requests: %+v, want 1 state created and idle", s)
	}
}

// TestLimits: a page whose output passes the response buffer's bound fails
// cleanly, and the server goes on serving. The bound is framework's default
// MaxResponseBuffer; the other bounds a page meets are the engine's, tested
// in scripting's TestLimits and TestBounds.
func TestLimits(t *testing.T) {
	a := newApp(t, map[string]string{
		"ok.lasp":     `ok`,
		"buffer.lasp": `<% local s = string.rep("z", 1024 * 1024) for i = 1, 10 do Response.Write(s) end %>`,
	})
	for _, tc := range []struct {
		page   string
		status int
		body   string // a substring of the body, for 200s
	}{
		{"buffer", 500, ""},
	} {
		t.Run(tc.page, func(t *testing.T) {
			status, body := a.get(t, "/"+tc.page+".lasp")
			if status != tc.status || !strings.Contains(body, tc.body) {
				t.Errorf("status %d, want %d; body %.200q", status, tc.status, body)
			}
			if got := a.mustGet(t, "/ok.lasp"); got != "ok" {
				t.Errorf("after %s: %q", tc.page, got)
			}
		})
	}
}

// TestTimeoutDoesNotBlockOthers: a page stuck in a loop does not hold up
// other requests, and is stopped at its script timeout.
func TestTimeoutDoesNotBlockOthers(t *testing.T) {
	a := newApp(t, map[string]string{
		"loop.lasp": `<% Server.ScriptTimeout = 3 while true do end %>`,
		"ok.lasp":   `ok`,
	})
	loopDone := make(chan int)
	go func() {
		res, err := a.Client().Get(a.URL + "/loop.lasp")
		if err != nil {
			loopDone <- 0
			return
		}
		res.Body.Close()
		loopDone <- res.StatusCode
	}()
	for range 20 {
		a.mustGet(t, "/ok.lasp")
	}
	select {
	case status := <-loopDone:
		t.Fatalf("the looping page ended (%d) before 20 other requests were served", status)
	default:
	}
	if status := <-loopDone; status != 500 {
		t.Errorf("looping page answered %d, want 500", status)
	}
}
