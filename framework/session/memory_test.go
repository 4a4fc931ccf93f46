package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// endHost records the sessions its store ended.
type endHost struct {
	mu    sync.Mutex
	ended []string
}

func (h *endHost) End(_ context.Context, rec *Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended = append(h.ended, rec.ID)
}
func (h *endHost) Down(err error) error { return err }

// TestMemoryExpiry: an idle session ends once at its timeout, with what
// the host keeps of it; a session in use does not end.
func TestMemoryExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &endHost{}
		st, err := Open("memory", h, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close(context.Background())
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		live := new(int)
		idle := st.Create(w, r, "a", true, live)
		if idle.Live != live {
			t.Fatalf("Create kept Live %v, want %v", idle.Live, live)
		}
		st.Leave(idle, "a")
		busy := st.Create(httptest.NewRecorder(), r, "b", true, nil)

		time.Sleep(20*time.Minute + time.Second)
		synctest.Wait()
		h.mu.Lock()
		ended := append([]string(nil), h.ended...)
		h.mu.Unlock()
		if len(ended) != 1 || ended[0] != idle.ID {
			t.Fatalf("ended %v, want only the idle session %s", ended, idle.ID[:8])
		}
		if n := st.(InProcess).Len(); n != 1 {
			t.Errorf("%d sessions live, want the busy one", n)
		}
		// The idle session's cookie finds nothing now.
		r2 := httptest.NewRequest("GET", "/", nil)
		for _, c := range w.Result().Cookies() {
			r2.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		if rec, err := st.Load(context.Background(), r2, "c", true); rec != nil || err != nil {
			t.Errorf("Load of an ended session = %v, %v", rec, err)
		}
		st.Leave(busy, "b")
	})
}

// TestMemoryShed: Shed ends only the idle sessions that no request came
// back to and that their first request left before the time given; the
// host's End runs for each, and their cookies find nothing after.
func TestMemoryShed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &endHost{}
		st, err := Open("memory", h, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close(context.Background())
		r := httptest.NewRequest("GET", "/", nil)
		newSession := func(owner string) (*Record, *http.Request) {
			w := httptest.NewRecorder()
			rec := st.Create(w, r, owner, true, nil)
			again := httptest.NewRequest("GET", "/", nil)
			for _, c := range w.Result().Cookies() {
				again.AddCookie(c)
			}
			return rec, again
		}
		flood, floodAgain := newSession("flood")
		st.Leave(flood, "flood")
		returned, returnedAgain := newSession("returned")
		st.Leave(returned, "returned")
		rec, err := st.Load(context.Background(), returnedAgain, "returned 2", true)
		if err != nil || rec == nil {
			t.Fatalf("Load = %v, %v", rec, err)
		}
		st.Leave(rec, "returned 2")
		busy, _ := newSession("busy") // its first request is still running
		time.Sleep(10 * time.Second)
		recent, _ := newSession("recent")
		st.Leave(recent, "recent")

		if n := st.(InProcess).Shed(time.Now().Add(-5 * time.Second)); n != 1 {
			t.Errorf("Shed ended %d sessions, want 1", n)
		}
		h.mu.Lock()
		ended := slices.Clone(h.ended)
		h.mu.Unlock()
		if len(ended) != 1 || ended[0] != flood.ID {
			t.Errorf("ended %v, want only the session nobody came back to, %s", ended, flood.ID[:8])
		}
		if rec, err := st.Load(context.Background(), floodAgain, "late", true); rec != nil || err != nil {
			t.Errorf("Load of a shed session = %v, %v; want nothing", rec, err)
		}
		if n := st.(InProcess).Len(); n != 3 {
			t.Errorf("%d sessions live, want 3 (returned, busy, recent)", n)
		}
		st.Leave(busy, "busy")
	})
}
