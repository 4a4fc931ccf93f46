package framework

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lasp/internal/redistest"
)

// storeApp is the application the session stores are tested with.
var storeApp = map[string]string{
	"global.lasa": `<script runat="server">
function Session_OnEnd()
  Application["ends"] = (Application["ends"] or "") .. tostring(Session["n"]) .. ";"
end
</script>`,
	"inc.lasp":     `<% Session["n"] = (Session["n"] or 0) + 1 %><%= Session["n"] %>`,
	"n.lasp":       `<%@ EnableSessionState="ReadOnly" %><%= tostring(Session["n"]) %>`,
	"id.lasp":      `<%@ EnableSessionState="ReadOnly" %><%= Session.SessionID %>`,
	"fail.lasp":    `<% Session["n"] = 1000 Session.Timeout = 0.001 Session:Abandon() error("after the writes") %>`,
	"abandon.lasp": `<% Session:Abandon() %>bye`,
	"ends.lasp":    `<%@ EnableSessionState="False" %><%= Application["ends"] %>`,
	"ro.lasp":      `<%@ EnableSessionState="ReadOnly" %><% Session["n"] = 1 %>`,
	"cart.lasp":    `<% Session["cart"] = {items = {"apple", "pear"}, total = 3.5} %>`,
	"show.lasp":    `<% local c = Session["cart"] %><%= table.concat(c.items, ",") %> <%= c.total %>`,
	"big.lasp": `<% Session["small"] = "kept"
Session["big"] = string.rep("x", 5000) %>`,
	"small.lasp":   `<%= tostring(Session["small"]) %>`,
	"flushed.lasp": `<% Session["n"] = 1 %>sent<% Response.Flush() Session["n"] = 2 %>`,
	"dict.lasp":    `<% Session["d"] = Server.CreateObject("Lasp.Dictionary") %>`,
	"timeout.lasp": `<% Session.Timeout = 0.001 Session["n"] = 1 %>`,
}

var stores = []string{"memory", "cookie", "redis"}

// storeURL is the SessionStore setting for store: for "redis", a
// redis-server of the test's own.
func storeURL(t testing.TB, store string) string {
	if store == "redis" {
		return redistest.Start(t).URL
	}
	return store
}

// TestSessionStores: what every store does the same way, over real HTTP
// with real cookies.
func TestSessionStores(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			url := storeURL(t, store)
			a := newApp(t, storeApp, func(c *Config) { c.SessionStore = url })
			c := client(t, a)
			for i := 1; i <= 3; i++ {
				if got := mustFetch(t, a, c, "/inc.lasp"); got != strconv.Itoa(i) {
					t.Fatalf("visit %d: %q", i, got)
				}
			}
			mustFetch(t, a, c, "/cart.lasp")
			if got := mustFetch(t, a, c, "/show.lasp"); got != "apple,pear 3.5" {
				t.Errorf("a table kept in the session: %q", got)
			}
			// A page that fails changes nothing: not the data, not the
			// timeout, not Abandon.
			id := mustFetch(t, a, c, "/id.lasp")
			if status, _ := fetch(t, a, c, "/fail.lasp"); status != 500 {
				t.Fatalf("fail.lasp: %d", status)
			}
			time.Sleep(100 * time.Millisecond) // past the timeout it tried to set
			if got := mustFetch(t, a, c, "/n.lasp"); got != "3" {
				t.Errorf("after a failed page: n = %q, want 3", got)
			}
			if got := mustFetch(t, a, c, "/id.lasp"); got != id {
				t.Errorf("after a failed page: session %q, want %q", got, id)
			}
			if status, _ := fetch(t, a, c, "/ro.lasp"); status != 500 || !strings.Contains(a.log.String(), "Session is read-only on this page") {
				t.Errorf("a write on a ReadOnly page: %d", status)
			}
			// Abandon: Session_OnEnd once, with the session's data, then a
			// new session.
			mustFetch(t, a, c, "/abandon.lasp")
			if got := mustFetch(t, a, c, "/id.lasp"); got == id {
				t.Error("the session outlived Abandon")
			}
			if got := mustFetch(t, a, c, "/n.lasp"); got != "nil" {
				t.Errorf("a new session holds n = %q", got)
			}
			if got := mustFetch(t, a, c, "/ends.lasp"); got != "3;" {
				t.Errorf("Session_OnEnd runs: %q, want 3;", got)
			}
			// Timeout: an idle session ends.
			d := client(t, a)
			mustFetch(t, a, d, "/timeout.lasp")
			time.Sleep(150 * time.Millisecond)
			if got := mustFetch(t, a, d, "/n.lasp"); got != "nil" {
				t.Errorf("a session idle past its timeout still holds n = %q", got)
			}
			// Its Session_OnEnd: in the memory and Redis stores; the cookie
			// store runs it on Abandon only (docs/sessions.md).
			if store == "cookie" {
				time.Sleep(100 * time.Millisecond)
				if got := mustFetch(t, a, c, "/ends.lasp"); got != "3;" {
					t.Errorf("the cookie store ran Session_OnEnd for an expired session: %q", got)
				}
				return
			}
			waitFor(t, "Session_OnEnd of the expired session", func() bool { return mustFetch(t, a, c, "/ends.lasp") == "3;1;" })
		})
	}
}

// TestCookieStoreLimit: a session that no longer fits in its cookie is a
// runtime error at the line that made it too big, naming its size; the
// session stays as it was.
func TestCookieStoreLimit(t *testing.T) {
	a := newApp(t, storeApp, func(c *Config) { c.SessionStore = "cookie"; c.Dev = true })
	c := client(t, a)
	mustFetch(t, a, c, "/inc.lasp")
	status, body := fetch(t, a, c, "/big.lasp")
	if status != 500 || !strings.Contains(body, "big.lasp") || !strings.Contains(body, "over the cookie store&#39;s limit of 4096 bytes") {
		t.Fatalf("status %d:\n%s", status, body)
	}
	if !regexp.MustCompile(`Session is \d{4,} bytes in its cookie`).MatchString(body) {
		t.Errorf("the error does not name the size:\n%s", body)
	}
	if got := mustFetch(t, a, c, "/small.lasp"); got != "nil" {
		t.Errorf("the failed page's first write was kept: %q", got)
	}
	if got := mustFetch(t, a, c, "/n.lasp"); got != "1" {
		t.Errorf("the session changed: n = %q", got)
	}
	// After a flush the page's failure can only cut the response short.
	if res, err := c.Get(a.URL + "/flushed.lasp"); err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Error("a write after a flush with the cookie store: the response was complete")
		}
	}
	if !strings.Contains(a.log.String(), "Session cannot change once the response has been flushed") {
		t.Error("the log does not say why the flushed page failed")
	}
	status, body = fetch(t, a, c, "/dict.lasp")
	if status != 500 || !strings.Contains(body, "Session[&#34;d&#34;]: Lasp.Dictionary object cannot be saved by this session store") {
		t.Errorf("an object in the cookie store: %d\n%s", status, body)
	}
}

// TestCookieStoreObjects: the cookie store holds plain data only, so a
// declared Session object is an error when the application starts.
func TestCookieStoreObjects(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"global.lasa": "\n" +
		`<object runat="server" scope="Session" id="cart" progid="Lasp.Dictionary"></object>`})
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, err = New(Config{Root: root.FS(), SessionStore: "cookie"})
	if err == nil || !strings.Contains(err.Error(), `global.lasa:2: Session object "cart" (Lasp.Dictionary) cannot be kept by the cookie session store`) {
		t.Fatalf("New: %v", err)
	}
}

// TestSessionCookieStoreTampering: with the cookie store the cookie holds
// the data; a changed cookie is a new session, never an error page.
func TestSessionCookieStoreTampering(t *testing.T) {
	a := newApp(t, storeApp, func(c *Config) { c.SessionStore = "cookie" })
	res, _ := a.do(t, newRequest(t, "GET", a.URL+"/inc.lasp", ""))
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			cookie = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 0 {
				t.Errorf("cookie attributes: %+v", c)
			}
		}
	}
	flipped := []byte(cookie)
	flipped[len(flipped)/2] ^= 1
	for name, value := range map[string]string{
		"as issued":    cookie,
		"flipped byte": string(flipped),
		"truncated":    cookie[:len(cookie)/2],
		"huge":         strings.Repeat("A", 8000),
		"empty":        "",
	} {
		req := newRequest(t, "GET", a.URL+"/inc.lasp", "")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		res, body := a.do(t, req)
		want := "1"
		if name == "as issued" {
			want = "2"
		}
		if res.StatusCode != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", name, res.StatusCode, body, want)
		}
	}
}

// TestFrameset is the first seed scenario: a frameset whose slow frame
// holds its session for two seconds. The other frame's True page waits for
// it; a ReadOnly page and a False page answer at once.
func TestFrameset(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"slow.lasp":  `<% Session["slow"] = "done" Server.Sleep(2) %>slow`,
		"true.lasp":  `<%= tostring(Session["slow"]) %>`,
		"ro.lasp":    `<%@ EnableSessionState="ReadOnly" %><%= tostring(Session["slow"]) %>`,
		"false.lasp": `<%@ EnableSessionState="False" %>free`,
		"start.lasp": `<% Session["slow"] = "not yet" %>`,
	})
	c := client(t, a)
	mustFetch(t, a, c, "/start.lasp")
	start := time.Now()
	slow := make(chan string)
	go func() { slow <- mustFetch(t, a, c, "/slow.lasp") }()
	waitSessionLock(t, a, func(waiters int) bool { return waiters == 0 }) // the slow page holds the session now
	type answer struct {
		body  string
		after time.Duration
	}
	got := map[string]answer{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, page := range []string{"true", "ro", "false"} {
		wg.Go(func() {
			body := mustFetch(t, a, c, "/"+page+".lasp")
			mu.Lock()
			got[page] = answer{body, time.Since(start)}
			mu.Unlock()
		})
	}
	wg.Wait()
	<-slow
	t.Logf("answered after: True %v, ReadOnly %v, False %v (the slow page sleeps 2s)", got["true"].after, got["ro"].after, got["false"].after)
	if got["true"].body != "done" || got["true"].after < 2*time.Second {
		t.Errorf("the True page did not wait for the slow one: %+v", got["true"])
	}
	// ReadOnly sees the session as last committed: not the slow page's
	// write, which is not committed yet.
	if got["ro"].body != "not yet" || got["ro"].after >= 2*time.Second {
		t.Errorf("the ReadOnly page: %+v", got["ro"])
	}
	if got["false"].body != "free" || got["false"].after >= 2*time.Second {
		t.Errorf("the False page: %+v", got["false"])
	}
	// The access log says how long the True page waited for its session.
	var waited time.Duration
	for line := range strings.Lines(a.log.String()) {
		var l struct {
			Msg, Path string
			Wait      time.Duration `json:"session_wait"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" && l.Path == "/true.lasp" {
			waited = l.Wait
		}
	}
	if waited < time.Second {
		t.Errorf("the access log's session_wait for /true.lasp: %v, want over a second", waited)
	}
}

// TestSessionQueue is the second seed scenario: 50 slow requests queued in
// session A while session B browses. B is never behind A, and the queued
// requests hold no Lua state.
func TestSessionQueue(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"slow.lasp":  `<% Session["n"] = (Session["n"] or 0) + 1 Server.Sleep(0.05) %><%= Session["n"] %>`,
		"quick.lasp": `<% Session["q"] = (Session["q"] or 0) + 1 %><%= Session["q"] %>`,
	})
	alice, bob := client(t, a), client(t, a)
	mustFetch(t, a, alice, "/slow.lasp")
	mustFetch(t, a, bob, "/quick.lasp")
	idle := latency(t, a, bob, 20)

	var done atomic.Int32
	var maxInUse atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				if n := a.srv.engine.Stats().InUse; n > maxInUse.Load() {
					maxInUse.Store(n)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			mustFetch(t, a, alice, "/slow.lasp")
			done.Add(1)
		})
	}
	waitSessionLock(t, a, func(waiters int) bool { return waiters+int(done.Load()) >= 49 }) // the queue is there
	busy := latency(t, a, bob, 20)
	queued := 50 - done.Load()
	wg.Wait()
	close(stop)
	t.Logf("B's median latency: %v idle, %v beside A's queue (%d of A's 50 requests still queued when B finished); Lua states in use at most %d; made in all %d",
		idle, busy, queued, maxInUse.Load(), a.srv.engine.Stats().Created)
	if queued < 25 {
		t.Errorf("B's 20 requests were behind A's queue: only %d of A's requests were left", queued)
	}
	if got := mustFetch(t, a, alice, "/slow.lasp"); got != "52" {
		t.Errorf("A's counter %q, want 52", got)
	}
	if n := maxInUse.Load(); n > 4 {
		t.Errorf("%d Lua states in use at once: queued requests must hold none", n)
	}
}

// waitSessionLock waits until a request holds a session's lock, with a
// number of requests waiting for it that satisfies queued (the server's
// Snapshot).
func waitSessionLock(t *testing.T, a *app, queued func(waiters int) bool) {
	t.Helper()
	waitFor(t, "a session lock held", func() bool {
		for _, l := range a.srv.Snapshot(t.Context()).Sessions.Locks {
			if l.Held && queued(l.Waiters) {
				return true
			}
		}
		return false
	})
}

// latency is the median time of n sequential requests to quick.lasp.
func latency(t *testing.T, a *app, c *http.Client, n int) time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		mustFetch(t, a, c, "/quick.lasp")
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[n/2]
}

// TestSessionIncrements is the third seed scenario: 200 concurrent
// increments of Session["n"] in one session end at exactly 200, and of
// Application["n"] under Application:Lock across 200 sessions at exactly
// 200.
func TestSessionIncrements(t *testing.T) {
	a := newApp(t, map[string]string{
		"inc.lasp":    `<% Session["n"] = (Session["n"] or 0) + 1 %>`,
		"n.lasp":      `<%= Session["n"] %>`,
		"appinc.lasp": `<% Application:Lock() local n = Application["n"] or 0 Server.Sleep(0) Application["n"] = n + 1 Application:Unlock() Session["x"] = 1 %>`,
		"appn.lasp":   `<%= Application["n"] %>`,
	})
	c := client(t, a)
	mustFetch(t, a, c, "/inc.lasp")
	var wg sync.WaitGroup
	for range 199 {
		wg.Go(func() { mustFetch(t, a, c, "/inc.lasp") })
		wg.Go(func() { mustFetch(t, a, client(t, a), "/appinc.lasp") })
	}
	wg.Go(func() { mustFetch(t, a, client(t, a), "/appinc.lasp") })
	wg.Wait()
	if got := mustFetch(t, a, c, "/n.lasp"); got != "200" {
		t.Errorf("Session[n] = %s, want 200", got)
	}
	if got := mustFetch(t, a, c, "/appn.lasp"); got != "200" {
		t.Errorf("Application[n] = %s, want 200", got)
	}
	if n := liveSessions(a.srv); n != 201 {
		t.Errorf("%d sessions, want 201", n)
	}
}

// TestSessionArrivalOrder: True requests of one session run in the order
// they arrived.
func TestSessionArrivalOrder(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"hold.lasp":  `<% Server.Sleep(0.5) %>`,
		"add.lasp":   `<% Session["order"] = (Session["order"] or "") .. Request.QueryString["i"] .. "," %>`,
		"order.lasp": `<%= Session["order"] %>`,
		"start.lasp": `<% Session["order"] = "" %>`,
	})
	c := client(t, a)
	mustFetch(t, a, c, "/start.lasp") // the session the others queue in
	var wg sync.WaitGroup
	wg.Go(func() { mustFetch(t, a, c, "/hold.lasp") })
	waitSessionLock(t, a, func(waiters int) bool { return waiters == 0 })
	var want strings.Builder
	for i := range 10 {
		fmt.Fprintf(&want, "%d,", i)
		wg.Go(func() { mustFetch(t, a, c, fmt.Sprintf("/add.lasp?i=%d", i)) })
		waitSessionLock(t, a, func(waiters int) bool { return waiters == i+1 }) // arrived after the one before
	}
	wg.Wait()
	if got := mustFetch(t, a, c, "/order.lasp"); got != want.String() {
		t.Errorf("ran in the order %q, want %q", got, want.String())
	}
}

// TestApplicationLockBusy: a page that waits for Application:Lock past its
// script timeout answers 503 with Retry-After; the lock still works after.
func TestApplicationLockBusy(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"hold.lasp": `<%@ EnableSessionState="False" %><% Application:Lock() Server.Sleep(1.5) Application["n"] = 1 %>held`,
		"wait.lasp": `<%@ EnableSessionState="False" %><% Server.ScriptTimeout = 0.3 Application:Lock() %><%= Application["n"] %>`,
	})
	held := make(chan string)
	go func() { held <- a.mustGet(t, "/hold.lasp") }()
	waitFor(t, "hold.lasp to take Application's lock", func() bool { owner, _ := a.srv.appLock.Status(); return owner != nil })
	res, _ := a.do(t, newRequest(t, "GET", a.URL+"/wait.lasp", ""))
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Errorf("waiting past the timeout: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	<-held
	if got := a.mustGet(t, "/wait.lasp"); got != "1" {
		t.Errorf("after the holder ended: %q", got)
	}
}

// TestSessionNotExpiredInUse: a session never ends under a request, even
// one that runs longer than Session.Timeout; its idle time starts when the
// request ends.
func TestSessionNotExpiredInUse(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"global.lasa": `<script runat="server">
function Session_OnEnd() Application["ended"] = (Application["ended"] or 0) + 1 end
</script>`,
		"long.lasp":  `<% Session.Timeout = 0.003 Session["n"] = (Session["n"] or 0) + 1 Server.Sleep(0.4) %><%= Session["n"] %>`,
		"ended.lasp": `<%@ EnableSessionState="False" %><%= tostring(Application["ended"]) %>`,
	})
	c := client(t, a)
	for i := 1; i <= 4; i++ {
		if got := mustFetch(t, a, c, "/long.lasp"); got != strconv.Itoa(i) {
			t.Fatalf("request %d: %q: the session ended under a request", i, got)
		}
	}
	waitFor(t, "the idle session to end", func() bool { return a.mustGet(t, "/ended.lasp") == "1" })
}

// TestSessionBusy: a request that waits for its session longer than the
// script timeout answers 503 with Retry-After, holding no Lua state while
// it waits; the session works again once the slow page ends.
func TestSessionBusy(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"slow.lasp":  `<% Server.ScriptTimeout = 10 Session["n"] = (Session["n"] or 0) + 1 Server.Sleep(1) %>slow`,
		"quick.lasp": `<%= Session["n"] %>`,
	}
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			url := storeURL(t, store)
			a := newApp(t, files, func(c *Config) { c.SessionStore, c.ScriptTimeout = url, 300*time.Millisecond })
			c := client(t, a)
			mustFetch(t, a, c, "/slow.lasp")
			slow := make(chan string)
			go func() { slow <- mustFetch(t, a, c, "/slow.lasp") }()
			waitSessionLock(t, a, func(waiters int) bool { return waiters == 0 })
			req := newRequest(t, "GET", a.URL+"/quick.lasp", "")
			for _, ck := range c.Jar.Cookies(req.URL) {
				req.AddCookie(ck)
			}
			res, _ := a.do(t, req)
			if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
				t.Errorf("waiting past the script timeout: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
			}
			if n := a.srv.engine.Stats().Created; n > 2 {
				t.Errorf("%d Lua states made: the waiting request held one", n)
			}
			<-slow
			if got := mustFetch(t, a, c, "/quick.lasp"); got != "2" {
				t.Errorf("after the slow page: %q", got)
			}
		})
	}
}

// TestSessionCookieAttributes: every store's session cookie is HttpOnly,
// SameSite=Lax, Path=/, and Secure exactly when the request came over TLS.
func TestSessionCookieAttributes(t *testing.T) {
	files := map[string]string{"w.lasp": `<% Session["x"] = 1 %>`}
	for _, store := range stores {
		for _, tls := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s tls=%v", store, tls), func(t *testing.T) {
				url := storeURL(t, store)
				a := newApp(t, files, func(c *Config) { c.SessionStore = url })
				client := a.Client()
				base := a.URL
				if tls {
					ts := httptest.NewTLSServer(a.srv)
					t.Cleanup(ts.Close)
					client, base = ts.Client(), ts.URL
				}
				res, err := client.Get(base + "/w.lasp")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				var got *http.Cookie
				for _, c := range res.Cookies() {
					if c.Name == sessionCookie {
						got = c
					}
				}
				if got == nil {
					t.Fatal("no session cookie")
				}
				if !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Path != "/" || got.Secure != tls {
					t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Secure=%v", got, tls)
				}
			})
		}
	}
}

// TestFarmApplicationStartsOnce: with Application shared in Redis,
// Application_OnStart runs once for the farm, not once per server.
func TestFarmApplicationStartsOnce(t *testing.T) {
	files := map[string]string{
		"global.lasa": `<script runat="server">
function Application_OnStart() Application:Lock() Application["starts"] = (Application["starts"] or 0) + 1 Application:Unlock() end
</script>`,
		"starts.lasp": `<%@ EnableSessionState="False" %><%= Application["starts"] %>`,
	}
	a, b, _ := farm(t, files)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { []*app{a, b}[i%2].mustGet(t, "/starts.lasp") })
	}
	wg.Wait()
	if got := b.mustGet(t, "/starts.lasp"); got != "1" {
		t.Errorf("Application_OnStart ran %s times in a farm of two servers, want 1", got)
	}
}

// TestMixedTablesKept: mixed, sparse and number- or boolean-keyed tables
// keep every key and value in every session store, and in the Redis
// Application store across a farm.
func TestMixedTablesKept(t *testing.T) {
	t.Parallel()
	const show = `<% local function show(t)
  local ks = {}
  for k, v in pairs(t) do
    ks[#ks + 1] = type(k) .. ":" .. tostring(k) .. "=" .. (type(v) == "table" and "{" .. show(v) .. "}" or tostring(v))
  end
  table.sort(ks)
  return table.concat(ks, ",")
end %>`
	files := map[string]string{
		"set.lasp": `<% local v = {1, 2, n = 2, [10] = "ten", [true] = "yes", [2.5] = {[-1] = "x"}}
Session["v"] = v Session["holes"] = {1, nil, 3} Application["v"] = v %>`,
		"get.lasp": `<%@ EnableSessionState="ReadOnly" %>` + show + `<%= show(Session["v"]) %>|<%= show(Session["holes"]) %>|<%= show(Application["v"]) %>`,
	}
	const want = "boolean:true=yes,number:10=ten,number:1=1,number:2.5={number:-1=x},number:2=2,string:n=2|number:1=1,number:3=3|" +
		"boolean:true=yes,number:10=ten,number:1=1,number:2.5={number:-1=x},number:2=2,string:n=2"
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			var a, b *app
			if store == "redis" {
				a, b, _ = farm(t, files) // read back on the other server
			} else {
				a = newApp(t, files, func(c *Config) { c.SessionStore = store })
				b = a
			}
			c := client(t, a)
			mustFetch(t, a, c, "/set.lasp")
			if got := mustFetch(t, b, c, "/get.lasp"); got != want {
				t.Errorf("read back:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestSessionRenewID: Session:RenewID at login keeps the session's data
// under a new ID and cookie, sent with the response; the old cookie finds
// nothing of it (in the cookie store, only the session as it was before),
// not even a request that was waiting for the session's lock when the ID
// changed. A page that fails after RenewID keeps the old ID.
func TestSessionRenewID(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"start.lasp":  `<% Session["cart"] = "pen" %>`,
		"login.lasp":  `<% local old = Session.SessionID Session:RenewID() Session["user"] = "ann" Server.Sleep(tonumber(Request.QueryString["wait"] or 0)) %><%= old ~= Session.SessionID %>`,
		"failed.lasp": `<% Session:RenewID() Session["user"] = "eve" error("after RenewID") %>`,
		"who.lasp":    `<%@ EnableSessionState="ReadOnly" %><%= Session.SessionID %> <%= tostring(Session["user"]) %> <%= tostring(Session["cart"]) %>`,
		"waiter.lasp": `<% Session["late"] = 1 %><%= tostring(Session["user"]) %> <%= tostring(Session["cart"]) %>`,
	}
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			url := storeURL(t, store)
			a := newApp(t, files, func(c *Config) { c.SessionStore = url })
			c := client(t, a)
			mustFetch(t, a, c, "/start.lasp")
			before := strings.Fields(mustFetch(t, a, c, "/who.lasp"))[0]
			old := cookieValue(t, a, c)

			// A failed page keeps the old ID and data.
			if status, _ := fetch(t, a, c, "/failed.lasp"); status != 500 {
				t.Fatalf("failed.lasp: %d", status)
			}
			if got := mustFetch(t, a, c, "/who.lasp"); got != before+" nil pen" {
				t.Errorf("after a failed RenewID: %q, want %q", got, before+" nil pen")
			}

			// Login renews the ID while a request with the same cookie
			// waits for the session.
			waiter := make(chan string)
			go func() { mustFetch(t, a, c, "/login.lasp?wait=0.3"); waiter <- "" }()
			waitSessionLock(t, a, func(int) bool { return true })
			req := newRequest(t, "GET", a.URL+"/waiter.lasp", "")
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: old})
			res, late := a.do(t, req)
			<-waiter
			if res.StatusCode != 200 || late != "nil pen" && store == "cookie" || late != "nil nil" && store != "cookie" {
				t.Errorf("a request with the old cookie, waiting during the login: %d %q", res.StatusCode, late)
			}
			got := strings.Fields(mustFetch(t, a, c, "/who.lasp"))
			if len(got) != 3 || got[0] == before || got[1] != "ann" || got[2] != "pen" {
				t.Errorf("after login: %q, want a new ID (not %s) holding ann and pen", got, before)
			}
			if cookieValue(t, a, c) == old {
				t.Error("the cookie did not change")
			}

			// The old cookie finds nothing of the logged-in session.
			req = newRequest(t, "GET", a.URL+"/who.lasp", "")
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: old})
			_, body := a.do(t, req)
			if strings.Contains(body, "ann") || strings.Contains(body, got[0]) {
				t.Errorf("the old cookie found the renewed session: %q", body)
			}
		})
	}
}

// cookieValue is the session cookie c holds for a.
func cookieValue(t *testing.T, a *app, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(a.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
