package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestAdmin runs the real binary with -admin-addr: /status as JSON and
// HTML shows 3 live sessions, a held lock with a waiter, an apartment and
// the Lua state pool; /metrics parses as Prometheus text, with the SPEC's
// names and counts that move with requests; pprof answers; the public
// listener serves none of it.
func TestAdmin(t *testing.T) {
	skipFarm(t)
	root := t.TempDir()
	writeApp(t, root, map[string]string{
		"global.lasa":                 `<object runat="server" scope="Session" id="counter" progid="Shop.Counter"></object>`,
		"components/Shop.Counter.lua": `local C = {} function C:Initialize() self.n = 0 end function C:Hit() self.n = self.n + 1 return self.n end return C`,
		"s.lasp":                      `<% Session["x"] = 1 %>ok`,
		"hit.lasp":                    `<%= counter:Hit() %>`,
		"hold.lasp":                   `<% Session["held"] = true Server.Sleep(3) %>held`,
	})
	adminAddr := freeAddr(t)
	p := startProc(t, buildServe(t), "-root", root, "-addr", "127.0.0.1:0", "-admin-addr", adminAddr)
	admin := "http://" + adminAddr
	clients := []*http.Client{farmClient(t), farmClient(t), farmClient(t)}
	for _, c := range clients {
		wantBody(t, c, p.url+"/s.lasp", "ok")
	}
	wantBody(t, clients[1], p.url+"/hit.lasp", "1") // an apartment for session 2's Lua object
	held := make(chan string, 2)
	go func() { _, body := get(t, clients[0], p.url+"/hold.lasp"); held <- body }()
	waitJSON(t, admin, func(s statusJSON) bool { return len(s.Sessions.Locks) == 1 && s.Sessions.Locks[0].Held })
	go func() { _, body := get(t, clients[0], p.url+"/s.lasp"); held <- body }()
	st := waitJSON(t, admin, func(s statusJSON) bool { return len(s.Sessions.Locks) == 1 && s.Sessions.Locks[0].Waiters == 1 })
	if st.Sessions.Sessions != 3 || st.Sessions.Locks[0].Holder != "/hold.lasp" || st.States.Made < 1 || st.InFlight < 2 {
		t.Errorf("status: %+v", st)
	}
	apartment := false
	for _, a := range st.Apartments {
		apartment = apartment || strings.HasPrefix(a.Name, "Session ") && a.Objects == 1
	}
	if !apartment {
		t.Errorf("no session apartment with its object: %+v", st.Apartments)
	}
	_, page := get(t, http.DefaultClient, admin+"/status")
	for _, want := range []string{"<title>Lasp status</title>", "<code>/hold.lasp</code>", ">3<", "release"} {
		if !strings.Contains(page, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}

	before := metricValue(t, admin, "lasp_requests_total", "code", "200")
	wantBody(t, clients[2], p.url+"/s.lasp", "ok")
	after := metricValue(t, admin, "lasp_requests_total", "code", "200")
	if after != before+1 {
		t.Errorf("lasp_requests_total{code=200}: %v, then %v after one more request", before, after)
	}
	families := metrics(t, admin)
	for _, name := range []string{"lasp_request_duration_seconds", "lasp_sessions_active", "lasp_session_wait_seconds", "lasp_lua_states", "lasp_memory_limit_stops_total", "lasp_refused_total", "lasp_store_errors_total"} {
		if families[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if v := metricValue(t, admin, "lasp_sessions_active", "", ""); v != 3 {
		t.Errorf("lasp_sessions_active = %v, want 3", v)
	}
	if res, body := get(t, http.DefaultClient, admin+"/debug/pprof/"); res.StatusCode != 200 || !strings.Contains(body, "heap") {
		t.Errorf("pprof: %d", res.StatusCode)
	}
	for _, path := range []string{"/status", "/metrics", "/debug/pprof/", "/status/release"} {
		if res, _ := get(t, http.DefaultClient, p.url+path); res.StatusCode != 404 {
			t.Errorf("the public listener serves %s: %d", path, res.StatusCode)
		}
	}
	for range 2 {
		<-held
	}
}

// statusJSON is what the test reads of /status's JSON.
type statusJSON struct {
	InFlight int64 `json:"requests_in_flight"`
	States   struct {
		Made int64 `json:"made"`
	} `json:"lua_states"`
	Apartments []struct {
		Name    string `json:"name"`
		Objects int64  `json:"objects"`
	} `json:"apartments"`
	Sessions struct {
		Sessions int64 `json:"sessions"`
		Locks    []struct {
			Held    bool   `json:"held"`
			Holder  string `json:"holder"`
			Waiters int    `json:"waiters"`
		} `json:"locks"`
	} `json:"sessions"`
}

func waitJSON(t *testing.T, admin string, cond func(statusJSON) bool) statusJSON {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", admin+"/status", nil)
		req.Header.Set("Accept", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var s statusJSON
		err = json.NewDecoder(res.Body).Decode(&s)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting; status: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func metrics(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

// metricValue is the value of metric name (a counter or gauge) with the
// label label=value ("" for none).
func metricValue(t *testing.T, admin, name, label, value string) float64 {
	t.Helper()
	f := metrics(t, admin)[name]
	if f == nil {
		t.Fatalf("/metrics lacks %s", name)
	}
	for _, m := range f.GetMetric() {
		match := label == ""
		for _, l := range m.GetLabel() {
			match = match || l.GetName() == label && l.GetValue() == value
		}
		if match {
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("%s has no %s=%q", name, label, value)
	return 0
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
