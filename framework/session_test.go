package framework

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lasp/scope"
	"lasp/scripting"
)

var sessionApp = map[string]string{
	"global.lasa": `<object runat="server" scope="Application" id="g_morris" progid="Animals.Cat"></object>
<object runat="server" scope="Session" id="s_fido" progid="Animals.Dog"></object>
<script runat="server">
local function log(event) Application["events"] = (Application["events"] or "") .. event .. ";" end
function Application_OnStart() log("AppStart") Application["dogs"] = 0 end
function Session_OnStart() Session["visits"] = 0 log("SessStart") end
function Session_OnEnd() log("SessEnd:" .. tostring(Session["visits"])) end
function Application_OnEnd() log("AppEnd") end
</script>`,
	"components/Animals.Dog.lua": `local Dog = {}
function Dog:Initialize() self.barks = 0 Application["dogs"] = Application["dogs"] + 1 end
function Dog:WoofWoof() self.barks = self.barks + 1 return "Woof #" .. self.barks end
function Dog:Speak() return "woof" end
function Dog:Nap(s) Server.Sleep(s) return "napped" end
function Dog:Terminate() Application["events"] = Application["events"] .. "DogEnd;" end
return Dog
`,
	"components/Animals.Cat.lua": `local Cat = {}
function Cat:MateWith(other) return "cat + " .. other:Speak() end
return Cat
`,
	"visit.lasp":      `<% Session["visits"] = Session["visits"] + 1 %><%= Session["visits"] %> <%= #Session.SessionID %>`,
	"id.lasp":         `<%= Session.SessionID %>`,
	"woof.lasp":       `<%= s_fido:WoofWoof() %>`,
	"mate.lasp":       `<%= g_morris:MateWith(s_fido) %>`,
	"static.lasp":     `<%= Session.StaticObjects["s_fido"]:WoofWoof() %>`,
	"abandon.lasp":    `<% Session:Abandon() %>bye`,
	"events.lasp":     `<%@ EnableSessionState="False" %><%= Application["events"] %>`,
	"dogs.lasp":       `<%@ EnableSessionState="False" %><%= Application["dogs"] %>`,
	"nosess.lasp":     `<%@ EnableSessionState="False" %><% local x = Session["visits"] %>`,
	"nosessobj.lasp":  `<%@ EnableSessionState="False" %><%= s_fido:WoofWoof() %>`,
	"readonly.lasp":   `<%@ EnableSessionState="ReadOnly" %><%= Session["visits"] %><% Session["visits"] = 0 %>`,
	"ro.lasp":         `<%@ EnableSessionState="ReadOnly" %><%= s_fido:Speak() %>`,
	"inc.lasp":        `<% Session["n"] = (Session["n"] or 0) + 1 %>`,
	"n.lasp":          `<%= Session["n"] %>`,
	"storedog.lasp":   `<% Session["d"] = Server.CreateObject("Animals.Dog") %>`,
	"storeproxy.lasp": `<% Application["fido"] = s_fido %><%= Application["fido"]:Speak() %>`,
	"timeout.lasp":    `<% Session.Timeout = 1.5 %><%= Session.Timeout %>`,
	"tnan.lasp":       "\n<% Session.Timeout = 0/0 %>",
	"thuge.lasp":      "\n<% Session.Timeout = math.huge %>",
	"tneg.lasp":       "\n<% Session.Timeout = -1 %>",
	"tinf.lasp":       "\n<% Session.Timeout = 1/0 %>",
	"tzero.lasp":      "\n<% Session.Timeout = 0 %>",
	"tabsurd.lasp":    "\n<% Session.Timeout = 1e9 %>",
	"nap.lasp":        `<%@ EnableSessionState="ReadOnly" %><%= s_fido:Nap(2) %>`,
	"sesshorse.lasp":  `<% Session["h"] = Server.CreateObject("Animals.Horse") %>`,
	"sessproxy.lasp":  `<% Session["cat"] = g_morris %><%= Session["cat"]:MateWith(s_fido) %>`,
	"sessfn.lasp":     `<% Session["f"] = function() end %>`,
	"sesstbl.lasp":    `<% Session["t"] = {handler = print} %>`,
	"sessgo.lasp":     `<% Session["d"] = Server.CreateObject("Lasp.Dictionary") %><%= Session["d"]:Count() %>`,
}

// client is a browser: it keeps its cookies.
func client(t testing.TB, a *app) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: a.Client().Transport}
}

// TestSessions: contents, events and Session objects per client.
func TestSessions(t *testing.T) {
	a := newApp(t, sessionApp, func(c *Config) {
		c.Components = []Component{{ProgID: "Animals.Horse", Threading: scope.Apartment,
			New: func() (scripting.Instance, error) { return horse{}, nil }}}
	})
	alice, bob := client(t, a), client(t, a)
	for _, tc := range []struct {
		c          *http.Client
		path, want string
	}{
		{alice, "/visit.lasp", "1 32"},
		{alice, "/visit.lasp", "2 32"},
		{bob, "/visit.lasp", "1 32"},
		{alice, "/woof.lasp", "Woof #1"},
		{alice, "/woof.lasp", "Woof #2"},
		{bob, "/woof.lasp", "Woof #1"},      // bob's own dog
		{alice, "/static.lasp", "Woof #3"},  // Session.StaticObjects is the same dog
		{alice, "/mate.lasp", "cat + woof"}, // a session proxy passed to an Application object
		{bob, "/storeproxy.lasp", "woof"},   // proxies are agile
		{alice, "/timeout.lasp", "1.5"},
		{alice, "/sessgo.lasp", "0"},             // agile objects are stored by reference
		{alice, "/sessproxy.lasp", "cat + woof"}, // and so are proxies
	} {
		if got := mustFetch(t, a, tc.c, tc.path); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.path, got, tc.want)
		}
	}
	if got := mustFetch(t, a, alice, "/dogs.lasp"); got != "2" {
		t.Errorf("%s dogs, want 2: one per session", got)
	}
	idBefore := mustFetch(t, a, alice, "/id.lasp")
	mustFetch(t, a, alice, "/abandon.lasp")
	if idAfter := mustFetch(t, a, alice, "/id.lasp"); idAfter == idBefore {
		t.Error("the session ID did not change after Abandon")
	}
	if got := mustFetch(t, a, alice, "/events.lasp"); got != "AppStart;SessStart;SessStart;SessEnd:2;DogEnd;SessStart;" {
		t.Errorf("events: %q", got)
	}
	for path, want := range map[string]string{
		"/nosess.lasp":    `Session is not available: the page has EnableSessionState=False`,
		"/nosessobj.lasp": `a Session object needs a session`,
		"/readonly.lasp":  `Session is read-only on this page (EnableSessionState=ReadOnly)`,
		"/storedog.lasp":  `Session[\"d\"]: Animals.Dog is apartment-threaded and cannot be stored in Session scope`,
		"/sessfn.lasp":    `Session[\"f\"]: a function cannot be stored in Session scope`,
		"/sesshorse.lasp": `Session[\"h\"]: Animals.Horse is apartment-threaded and cannot be stored in Session scope`,
		"/sesstbl.lasp":   `Session[\"t\"]: a function (at [\"handler\"]) cannot be stored in Session scope`,
		"/tnan.lasp":      `tnan.lasp:2: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not NaN`,
		"/thuge.lasp":     `thuge.lasp:2: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not 1.7976931348623157e+308`,
		"/tinf.lasp":      `tinf.lasp:2: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not +Inf`,
		"/tneg.lasp":      `tneg.lasp:2: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not -1`,
		"/tzero.lasp":     `tzero.lasp:2: Session.Timeout must be`,
		"/tabsurd.lasp":   `tabsurd.lasp:2: Session.Timeout must be`,
	} {
		if status, _ := fetch(t, a, bob, path); status != 500 || !strings.Contains(a.log.String(), want) {
			t.Errorf("%s: %d; log lacks %q", path, status, want)
		}
	}
	res, err := a.Client().Get(a.URL + "/dogs.lasp")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(res.Cookies()) != 0 {
		t.Errorf("an EnableSessionState=False page set %v", res.Cookies())
	}
	if err := a.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	events, _ := a.srv.app.Get("events")
	if want := "SessEnd:"; !strings.HasSuffix(events.(string), "AppEnd;") || strings.Count(events.(string), want) != 3 {
		t.Errorf("after Close: %q: every live session must end, then the application", events)
	}
}

// TestSessionSerialized: 50 concurrent increments in one session end at 50;
// concurrent first references to a Session object from ReadOnly pages,
// which run at once, create it once.
func TestSessionSerialized(t *testing.T) {
	a := newApp(t, sessionApp)
	c := client(t, a)
	mustFetch(t, a, c, "/id.lasp")
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if status, _ := fetch(t, a, c, "/inc.lasp"); status != 200 {
				t.Errorf("inc: %d", status)
			}
		})
	}
	for range 20 {
		wg.Go(func() {
			if status, _ := fetch(t, a, c, "/ro.lasp"); status != 200 {
				t.Errorf("ro: %d", status)
			}
		})
	}
	wg.Wait()
	if got := mustFetch(t, a, c, "/n.lasp"); got != "50" {
		t.Errorf("n = %s, want 50", got)
	}
	if got := mustFetch(t, a, c, "/dogs.lasp"); got != "1" {
		t.Errorf("%s dogs for one session, want 1", got)
	}
}

// TestSessionApartmentsIndependent: session A's object sleeping in a call
// delays neither session B's calls on its own object of the same class nor
// other pages.
func TestSessionApartmentsIndependent(t *testing.T) {
	t.Parallel()
	a := newApp(t, sessionApp)
	alice, bob := client(t, a), client(t, a)
	mustFetch(t, a, alice, "/woof.lasp")
	mustFetch(t, a, bob, "/woof.lasp")
	napped := make(chan string, 1)
	go func() {
		res, err := alice.Get(a.URL + "/nap.lasp")
		if err != nil {
			napped <- err.Error()
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		napped <- string(body)
	}()
	waitFor(t, "alice's nap to start", func() bool { return a.srv.engine.Stats().InUse == 1 })
	for i := range 10 {
		if got := mustFetch(t, a, bob, "/woof.lasp"); got != "Woof #"+strconv.Itoa(i+2) {
			t.Fatalf("bob's dog: %q", got)
		}
		mustFetch(t, a, bob, "/visit.lasp")
	}
	select {
	case body := <-napped:
		t.Fatalf("alice's nap (%q) ended before bob's 20 requests", body)
	default:
	}
	if body := <-napped; body != "napped" {
		t.Errorf("nap: %q", body)
	}
}

// TestOnEndErrors: an error in Session_OnEnd is logged and stops neither the
// other sessions' OnEnd nor Application_OnEnd.
func TestOnEndErrors(t *testing.T) {
	a := newApp(t, map[string]string{
		"global.lasa": `<script runat="server">
function Session_OnEnd()
  Application["ends"] = (Application["ends"] or 0) + 1
  if Session["bad"] then error("broken OnEnd") end
  local x = Request.QueryString["a"]
end
function Application_OnEnd() Application["appEnd"] = Application["ends"] end
</script>`,
		"bad.lasp":  `<% Session["bad"] = true %>`,
		"good.lasp": `<% Session["bad"] = false %>`,
	})
	mustFetch(t, a, client(t, a), "/bad.lasp")
	mustFetch(t, a, client(t, a), "/good.lasp")
	mustFetch(t, a, client(t, a), "/good.lasp")
	if err := a.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.srv.app.Get("appEnd"); v != float64(3) {
		t.Errorf("Application_OnEnd saw %v Session_OnEnd runs, want 3", v)
	}
	for _, want := range []string{"broken OnEnd", "Request is not available in Session_OnEnd"} {
		if !strings.Contains(a.log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestSessionOnStartResponse: Session_OnStart sees the request, and a cookie
// it sets goes out with the first page.
func TestSessionOnStartResponse(t *testing.T) {
	a := newApp(t, map[string]string{
		"global.lasa": `<script runat="server">
function Session_OnStart()
  Session["from"] = Request.QueryString["from"]
  Response.Cookies["welcome"] = "1"
end
</script>`,
		"p.lasp": `<%= Session["from"] %>`,
	})
	res, body := a.do(t, newRequest(t, "GET", a.URL+"/p.lasp?from=ad", ""))
	if body != "ad" {
		t.Errorf("body %q", body)
	}
	if !strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), "\n"), "welcome=1") {
		t.Errorf("Set-Cookie: %q", res.Header.Values("Set-Cookie"))
	}
}

// TestSessionsOnDemand: without a Session_OnStart, a request that never
// touches Session gets no session and no cookie; one that writes to it does.
func TestSessionsOnDemand(t *testing.T) {
	a := newApp(t, map[string]string{
		"plain.lasp": `hello <%= tostring(Session["x"]) %>`,
		"write.lasp": `<% Session["x"] = 1 %>set`,
	})
	for range 5 {
		res, body := a.do(t, newRequest(t, "GET", a.URL+"/plain.lasp", ""))
		if body != "hello nil" || len(res.Cookies()) != 0 {
			t.Fatalf("plain: %q %v", body, res.Cookies())
		}
	}
	c := client(t, a)
	mustFetch(t, a, c, "/write.lasp")
	if got := mustFetch(t, a, c, "/plain.lasp"); got != "hello 1" {
		t.Errorf("after a write: %q", got)
	}
	n := liveSessions(a.srv)
	if n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

// TestSessionExpiry: a session idle past its Session.Timeout ends, with
// Session_OnEnd, and its cookie then starts a new session.
func TestSessionExpiry(t *testing.T) {
	a := newApp(t, map[string]string{
		"global.lasa": `<script runat="server">
function Session_OnStart() Session["n"] = 0 end
function Session_OnEnd() Application["ended"] = (Application["ended"] or 0) + 1 end
</script>`,
		"short.lasp": `<% Session.Timeout = 0.002 %><%= Session.SessionID %>`,
	})
	c := client(t, a)
	id := mustFetch(t, a, c, "/short.lasp")
	waitFor(t, "the session to expire", func() bool { v, _ := a.srv.app.Get("ended"); return v == float64(1) })
	if again := mustFetch(t, a, c, "/short.lasp"); again == id {
		t.Error("an expired session's cookie still finds it")
	}
}

// TestSessionTimeoutConfig: Config.SessionTimeout (the -session-timeout
// flag) is the default Session.Timeout.
func TestSessionTimeoutConfig(t *testing.T) {
	a := newApp(t, map[string]string{
		"global.lasa": `<script runat="server">
function Session_OnStart() end
function Session_OnEnd() Application["ended"] = true end
</script>`,
		"p.lasp": `<%= Session.Timeout * 60000 %>`,
	}, func(c *Config) { c.SessionTimeout = 150 * time.Millisecond })
	if got := mustFetch(t, a, client(t, a), "/p.lasp"); got != "150" {
		t.Errorf("Session.Timeout in ms: %q", got)
	}
	waitFor(t, "the session to expire", func() bool { v, _ := a.srv.app.Get("ended"); return v == true })
}

// TestSessionCookie: the cookie is signed and encrypted; a forged, tampered,
// truncated, huge or empty one starts a new session, never an error page;
// keys rotate.
func TestSessionCookie(t *testing.T) {
	oldKeys := [][]byte{[]byte(strings.Repeat("h", 64)), []byte(strings.Repeat("b", 32))}
	files := map[string]string{"id.lasp": `<% Session["x"] = 1 %><%= Session.SessionID %>`}
	a := newApp(t, files, func(c *Config) { c.Keys = oldKeys })
	res, id := a.do(t, newRequest(t, "GET", a.URL+"/id.lasp", ""))
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			cookie = c.Value
		}
	}
	if cookie == "" || strings.Contains(cookie, id) {
		t.Fatalf("session cookie %q must be set and must not show the ID %q", cookie, id)
	}
	get := func(a *app, value string) string {
		req := newRequest(t, "GET", a.URL+"/id.lasp", "")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
		res, body := a.do(t, req)
		if res.StatusCode != 200 {
			t.Fatalf("cookie %.40q: status %d", value, res.StatusCode)
		}
		return body
	}
	if got := get(a, cookie); got != id {
		t.Fatalf("the cookie does not find its session: %q, want %q", got, id)
	}
	flipped := []byte(cookie)
	flipped[len(flipped)/2] ^= 1
	for name, value := range map[string]string{
		"flipped byte": string(flipped),
		"truncated":    cookie[:len(cookie)/2],
		"huge":         strings.Repeat("A", 3000),
		"empty":        "",
		"raw id":       id,
	} {
		if got := get(a, value); got == id {
			t.Errorf("%s: the cookie still finds the session", name)
		}
	}
	if got := get(a, cookie); got != id {
		t.Fatalf("the cookie no longer finds its session: %q", got)
	}
}

// TestSessionKeys: with the cookie store, any server with the keys serves
// the session: after rotation (new pair first) an old cookie is still read,
// and a server without the old pair starts a new session.
func TestSessionKeys(t *testing.T) {
	oldKeys := [][]byte{[]byte(strings.Repeat("h", 64)), []byte(strings.Repeat("b", 32))}
	newKeys := [][]byte{[]byte(strings.Repeat("H", 64)), []byte(strings.Repeat("B", 32))}
	files := map[string]string{
		"id.lasp": `<% Session["x"] = (Session["x"] or 0) + 1 %><%= Session.SessionID %> <%= Session["x"] %>`,
		"ro.lasp": `<%@ EnableSessionState="ReadOnly" %><%= Session.SessionID %> <%= Session["x"] %>`,
	}
	cookieStore := func(keys [][]byte) func(c *Config) {
		return func(c *Config) { c.Keys, c.SessionStore = keys, "cookie" }
	}
	old := newApp(t, files, cookieStore(oldKeys))
	rotated := newApp(t, files, cookieStore(append(append([][]byte{}, newKeys...), oldKeys...)))
	wrong := newApp(t, files, cookieStore(newKeys))
	c := client(t, old)
	first := mustFetch(t, old, c, "/id.lasp")
	id, _, _ := strings.Cut(first, " ")
	if got := mustFetch(t, rotated, c, "/id.lasp"); got != id+" 2" {
		t.Errorf("after rotation: %q, want %q", got, id+" 2")
	}
	if got := mustFetch(t, rotated, c, "/ro.lasp"); got != id+" 2" {
		t.Errorf("ReadOnly after rotation: %q", got)
	}
	// Two servers with the same keys, a browser alternating between them:
	// one session.
	twin := newApp(t, files, cookieStore(oldKeys))
	e := client(t, old)
	for i := 1; i <= 6; i++ {
		server := old
		if i%2 == 0 {
			server = twin
		}
		got := mustFetch(t, server, e, "/id.lasp")
		if _, n, _ := strings.Cut(got, " "); n != strconv.Itoa(i) {
			t.Errorf("request %d, alternating servers: %q", i, got)
		}
	}
	d := client(t, old)
	id, _, _ = strings.Cut(mustFetch(t, old, d, "/id.lasp"), " ")
	if got := mustFetch(t, wrong, d, "/id.lasp"); strings.HasPrefix(got, id) {
		t.Errorf("a cookie made with other keys was accepted: %q", got)
	}
}
