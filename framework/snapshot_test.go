package framework

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"lasp/internal/redistest"
	"lasp/scope"
	"lasp/scripting"
)

// holdGate is an agile Go component whose Wait holds its page until release
// is closed, telling entered when it starts to wait.
type holdGate struct{ entered, release chan struct{} }

func (g *holdGate) Call(_ context.Context, method string, _ []scope.Value) ([]scope.Value, error) {
	g.entered <- struct{}{}
	<-g.release
	return nil, nil
}

// withGate registers g as Test.Gate.
func withGate(g *holdGate) func(*Config) {
	return func(c *Config) {
		c.Components = append(c.Components, Component{ProgID: "Test.Gate", Threading: scope.Agile,
			New: func() (scripting.Instance, error) { return g, nil }})
	}
}

var snapshotApp = map[string]string{
	"global.lasa": `<object runat="server" scope="Application" id="g_gate" progid="Test.Gate"></object>
<object runat="server" scope="Application" id="g_never" progid="Test.Gate"></object>
<object runat="server" scope="Session" id="s_fido" progid="Animals.Dog"></object>`,
	"components/Animals.Dog.lua": `local Dog = {}
function Dog:Speak() return "woof" end
return Dog
`,
	"id.lasp":   `<%= Session.SessionID %>`,
	"hold.lasp": `<%= s_fido:Speak() %><% g_gate:Wait() %>`,
	"n.lasp":    `<% Session["n"] = (Session["n"] or 0) + 1 %><%= Session["n"] %>`,
}

// TestSnapshotSessionLock: while a page holds its session's lock and
// another request of the session waits for it, the snapshot shows both in
// flight, the lock held by the page with one waiter, the session's
// apartment with its object, the Application object referenced (not the
// one never referenced), and session IDs as prefixes only.
func TestSnapshotSessionLock(t *testing.T) {
	g := &holdGate{entered: make(chan struct{}), release: make(chan struct{})}
	a := newApp(t, snapshotApp, withGate(g))
	c := client(t, a)
	id := mustFetch(t, a, c, "/id.lasp")
	held := make(chan string, 2)
	go func() { _, body := fetch(t, a, c, "/hold.lasp"); held <- body }()
	<-g.entered
	go func() { _, body := fetch(t, a, c, "/n.lasp"); held <- body }()
	var snap Snapshot
	waitFor(t, "the second request to wait for the lock", func() bool {
		snap = a.srv.Snapshot(t.Context())
		return len(snap.Sessions.Locks) == 1 && snap.Sessions.Locks[0].Waiters == 1
	})

	if snap.InFlight != 2 {
		t.Errorf("InFlight = %d, want 2", snap.InFlight)
	}
	if snap.States.InUse != 1 {
		t.Errorf("States.InUse = %d, want 1 (the waiting page has no state yet)", snap.States.InUse)
	}
	if st := snap.Sessions; st.Store != "memory" || st.Sessions != 1 || len(st.List) != 1 || st.List[0].ID != id[:8] || st.List[0].Requests != 2 {
		t.Errorf("Sessions = %+v, want one memory session %s with 2 requests", st, id[:8])
	}
	if l := snap.Sessions.Locks[0]; l.ID != id[:8] || !l.Held || l.Holder != "/hold.lasp" || l.HeldFor <= 0 {
		t.Errorf("lock = %+v, want %s held by /hold.lasp", l, id[:8])
	}
	if len(snap.Apartments) != 1 || snap.ApartmentsTotal != 1 ||
		snap.Apartments[0] != (scripting.ApartmentStats{Name: "Session " + id[:8], Objects: 1}) {
		t.Errorf("Apartments = %+v (%d), want the session's, with s_fido", snap.Apartments, snap.ApartmentsTotal)
	}
	if len(snap.Objects) != 1 || snap.Objects[0] != "g_gate" {
		t.Errorf("Objects = %v, want [g_gate]", snap.Objects)
	}
	if len(snap.Stores) != 0 {
		t.Errorf("Stores = %+v, want none (no Redis)", snap.Stores)
	}
	js, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), id) || strings.Contains(string(js), id[8:]) {
		t.Errorf("the snapshot shows the whole session ID: %s", js)
	}

	close(g.release)
	for range 2 {
		<-held
	}
	waitFor(t, "both requests to leave", func() bool { return a.srv.Snapshot(t.Context()).InFlight == 0 })
	snap = a.srv.Snapshot(t.Context())
	if snap.Sessions.LocksTotal != 0 || snap.Sessions.List[0].Requests != 0 {
		t.Errorf("after: Sessions = %+v, want no lock, no request", snap.Sessions)
	}
}

// TestSnapshotSessions: the snapshot counts and lists the memory store's
// sessions, idle, with their timeout; the cookie store cannot count its
// sessions.
func TestSnapshotSessions(t *testing.T) {
	for _, tc := range []struct {
		store string
		want  int64
		list  int
	}{
		{store: "memory", want: 3, list: 3},
		{store: "cookie", want: -1, list: 0},
	} {
		t.Run(tc.store, func(t *testing.T) {
			a := newApp(t, sessionApp, func(c *Config) { c.SessionStore = tc.store })
			for range 3 {
				mustFetch(t, a, client(t, a), "/inc.lasp")
			}
			st := a.srv.Snapshot(t.Context()).Sessions
			if st.Sessions != tc.want || len(st.List) != tc.list || st.LocksTotal != 0 || st.Locks == nil {
				t.Fatalf("Sessions = %+v, want %d sessions, %d listed, no lock", st, tc.want, tc.list)
			}
			for _, s := range st.List {
				if len(s.ID) != 8 || s.Timeout != 20 || s.Requests != 0 {
					t.Errorf("session %+v: want an ID prefix, 20 minutes, no request", s)
				}
			}
		})
	}
}

// TestSnapshotRedis: with Redis stores the snapshot counts the sessions in
// Redis and reports each store's last error once Redis is gone.
func TestSnapshotRedis(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	a := newApp(t, farmFiles, func(c *Config) {
		c.Keys = [][]byte{[]byte(strings.Repeat("k", 64)), []byte(strings.Repeat("e", 32))}
		c.SessionStore, c.ApplicationStore = redis.URL, redis.URL
	})
	for range 2 {
		mustFetch(t, a, client(t, a), "/inc.lasp")
	}
	snap := a.srv.Snapshot(t.Context())
	if snap.Sessions.Store != "Redis" || snap.Sessions.Sessions != 2 || snap.Sessions.Err != "" {
		t.Errorf("Sessions = %+v, want 2 in Redis", snap.Sessions)
	}
	for _, s := range snap.Sessions.List {
		if len(s.ID) != 8 || s.ExpiresIn <= 0 || s.ExpiresIn > 20*time.Minute {
			t.Errorf("session %+v: want an ID prefix, expiring within 20 minutes", s)
		}
	}
	if len(snap.Sessions.List) != 2 {
		t.Errorf("%d sessions listed, want 2", len(snap.Sessions.List))
	}
	want := []StoreHealth{{Store: "session"}, {Store: "application"}}
	if len(snap.Stores) != 2 || snap.Stores[0] != want[0] || snap.Stores[1] != want[1] {
		t.Errorf("Stores = %+v, want %+v", snap.Stores, want)
	}

	redis.Kill()
	if status, _ := a.get(t, "/inc.lasp"); status != http.StatusServiceUnavailable {
		t.Fatalf("with Redis gone: status %d, want 503", status)
	}
	snap = a.srv.Snapshot(t.Context())
	if snap.Sessions.Sessions != -1 || snap.Sessions.Err == "" {
		t.Errorf("Sessions = %+v, want an error and no count", snap.Sessions)
	}
	if len(snap.Stores) != 2 || snap.Stores[0].LastError == "" || snap.Stores[0].ErrorAt.IsZero() {
		t.Errorf("Stores = %+v, want the session store's error", snap.Stores)
	}
}
