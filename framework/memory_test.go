package framework

import (
	"net/http"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// inUseNow is the process's memory in use, as the memory watch counts it.
func inUseNow() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64() - s[2].Value.Uint64())
}

// TestMemoryShort: while live memory is over 80 % of the limit, pages
// answer 503 with Retry-After and static files are still served; once it
// falls, pages answer again.
func TestMemoryShort(t *testing.T) {
	ballast := make([]byte, 256<<20) // live data no page is to blame for
	for i := range ballast {
		ballast[i] = 1
	}
	runtime.GC()
	a := newApp(t, map[string]string{"ok.lasp": `ok`, "style.css": `body {}`}, func(c *Config) {
		c.MemoryLimit = inUseNow() * 21 / 20 // live data at about 95 % of it
	})
	var res *http.Response
	waitFor(t, "a page refused while memory is short", func() bool {
		res, _ = a.do(t, mustRequest(t, a.URL+"/ok.lasp"))
		return res.StatusCode == http.StatusServiceUnavailable
	})
	if res.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if res, body := a.do(t, mustRequest(t, a.URL+"/style.css")); res.StatusCode != 200 || body != "body {}" {
		t.Errorf("static file while memory is short: %d %q", res.StatusCode, body)
	}
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	waitFor(t, "pages served again once memory fell", func() bool {
		res, _ = a.do(t, mustRequest(t, a.URL+"/ok.lasp"))
		return res.StatusCode == http.StatusOK
	})
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestMemoryShortShedsSessions: while memory is short, the sessions that
// no client came back to (a flood of clients without cookies) are ended,
// and a client that did come back keeps its session.
func TestMemoryShortShedsSessions(t *testing.T) {
	defer func(d time.Duration) { shedAfter = d }(shedAfter)
	shedAfter = 0
	const ballastSize = 256 << 20
	a := newApp(t, map[string]string{"set.lasp": `<% Session["n"] = (Session["n"] or 0) + 1 %><%= Session["n"] %>`}, func(c *Config) {
		c.MemoryLimit = (inUseNow() + ballastSize) * 21 / 20 // with the ballast, live data at about 95 % of it
	})
	for range 20 {
		mustFetch(t, a, client(t, a), "/set.lasp") // never comes back
	}
	returning := client(t, a)
	mustFetch(t, a, returning, "/set.lasp")
	mustFetch(t, a, returning, "/set.lasp")
	if n := liveSessions(a.srv); n != 21 {
		t.Fatalf("%d sessions, want 21", n)
	}
	ballast := make([]byte, ballastSize)
	for i := range ballast {
		ballast[i] = 1
	}
	runtime.GC()
	waitFor(t, "the sessions nobody came back to ended", func() bool {
		a.do(t, mustRequest(t, a.URL+"/set.lasp"))
		return liveSessions(a.srv) == 1
	})
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	waitFor(t, "pages served again once memory fell", func() bool {
		res, _ := a.do(t, mustRequest(t, a.URL+"/set.lasp"))
		return res.StatusCode == http.StatusOK
	})
	if got := mustFetch(t, a, returning, "/set.lasp"); got != "3" {
		t.Errorf("the client that came back: %q, want its session's third request", got)
	}
}
