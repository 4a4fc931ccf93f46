package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// withCookies is a request carrying the cookies w set.
func withCookies(w *httptest.ResponseRecorder) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// TestMemoryStatus: the memory store reports its sessions (ID prefixes,
// idle time, timeout) and the lock a request holds while another waits.
func TestMemoryStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := Open("memory", &endHost{}, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close(context.Background())
		r := httptest.NewRequest("GET", "/", nil)
		idle := st.Create(httptest.NewRecorder(), r, "a", true, nil)
		st.Leave(idle, "a")
		other := st.Create(httptest.NewRecorder(), r, "b", true, nil)
		st.Leave(other, "b")
		w := httptest.NewRecorder()
		busy := st.Create(w, r, "c", true, nil)

		time.Sleep(time.Minute)
		waited := make(chan error)
		go func() {
			rec, err := st.Load(context.Background(), withCookies(w), "d", true)
			if rec != nil {
				st.Leave(rec, "d")
			}
			waited <- err
		}()
		synctest.Wait() // d waits for c's lock

		got := st.(Reporter).Status(context.Background(), 0)
		if got.Store != "memory" || got.Sessions != 3 || len(got.List) != 3 {
			t.Fatalf("Status = %+v, want 3 memory sessions listed", got)
		}
		for _, s := range got.List {
			if len(s.ID) != 8 || s.Timeout != 20 {
				t.Errorf("session %+v: want an 8-character ID prefix and 20 minutes", s)
			}
			switch {
			case strings.HasPrefix(busy.ID, s.ID):
				if s.Idle != 0 || s.ExpiresIn != 0 || s.Requests != 2 {
					t.Errorf("busy session %+v: want 2 requests in it, not idle", s)
				}
			case s.Idle != time.Minute || s.ExpiresIn != 19*time.Minute || s.Requests != 0:
				t.Errorf("idle session %+v: want idle a minute, expiring in 19", s)
			}
		}
		want := LockStatus{ID: busy.ID[:8], Held: true, HeldFor: time.Minute, Waiters: 1}
		if got.LocksTotal != 1 || len(got.Locks) != 1 || got.Locks[0] != want {
			t.Errorf("Locks = %+v (%d), want [%+v]", got.Locks, got.LocksTotal, want)
		}
		if got := st.(Reporter).Status(context.Background(), 2); len(got.List) != 2 || got.Sessions != 3 {
			t.Errorf("Status(2) lists %d of %d, want 2 of 3", len(got.List), got.Sessions)
		}

		st.Leave(busy, "c")
		if err := <-waited; err != nil {
			t.Fatal(err)
		}
		if got := st.(Reporter).Status(context.Background(), 0); got.LocksTotal != 0 || got.Locks == nil {
			t.Errorf("after both left: Locks = %#v (%d), want empty", got.Locks, got.LocksTotal)
		}
	})
}

// TestCookieStatus: the cookie store cannot count its sessions; it reports
// this server's locks.
func TestCookieStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := Open("cookie", &endHost{}, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		cs := st.(*cookieStore)
		id := strings.Repeat("ab", 16)
		ctx := context.Background()
		cs.locks.lock(ctx, id, "a")
		time.Sleep(3 * time.Second)
		go cs.locks.lock(ctx, id, "b")
		synctest.Wait() // b is queued before c
		go cs.locks.lock(ctx, id, "c")
		synctest.Wait()
		got := cs.Status(ctx, 0)
		want := LockStatus{ID: "abababab", Held: true, HeldFor: 3 * time.Second, Waiters: 2}
		if got.Sessions != -1 || len(got.List) != 0 || got.LocksTotal != 1 || got.Locks[0] != want {
			t.Errorf("Status = %+v, want no count, and locks [%+v]", got, want)
		}
		cs.locks.unlock(id, "a")
		synctest.Wait()
		cs.locks.unlock(id, "b")
		synctest.Wait()
		cs.locks.unlock(id, "c")
		if got := cs.Status(ctx, 0); got.LocksTotal != 0 {
			t.Errorf("after: %+v", got)
		}
	})
}

// TestIDPrefix: status pages never show a whole ID.
func TestIDPrefix(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"0123456789abcdef0123456789abcdef", "01234567"},
		{"0123", "0123"},
		{"", ""},
	} {
		if got := IDPrefix(tc.id); got != tc.want {
			t.Errorf("IDPrefix(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}
