package session_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/gorilla/securecookie"

	"lasp/framework/session"
	"lasp/scope"
)

// host runs no Session_OnEnd; it only says which session ended.
type host struct{}

func (host) End(_ context.Context, rec *session.Record) {
	fmt.Println("ended, n =", rec.Data.Snapshot()["n"])
}
func (host) Down(err error) error { return err }

// A request's life in a store: create a session, save a change, find it
// again by its cookie, then abandon it.
func Example() {
	ctx := context.Background()
	st, err := session.Open("memory", host{}, session.Options{
		Keys:     [][]byte{securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32)},
		Timeout:  20 * time.Minute,
		LockWait: 90 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close(ctx)

	// The first request: no cookie, so a new session, locked by it.
	w, r := httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)
	rec := st.Create(w, r, "first", true, nil)
	data := scope.NewContents("Session")
	data.Set("n", 1.0)
	if err := st.Save(ctx, w, r, rec, data, false); err != nil {
		fmt.Println(err)
	}
	st.Leave(rec, "first")

	// The next request carries the cookie.
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(w.Result().Cookies()[0])
	rec, err = st.Load(ctx, r, "second", true)
	if err != nil || rec == nil {
		fmt.Println("not found:", err)
		return
	}
	n, _ := rec.Data.Get("n")
	fmt.Println(st.Name(), "session, n =", n)
	if err := st.Save(ctx, w, r, rec, nil, true); err != nil { // Session:Abandon()
		fmt.Println(err)
	}
	st.Leave(rec, "second")
	st.End(ctx, rec)
	// Output:
	// memory session, n = 1
	// ended, n = 1
}
