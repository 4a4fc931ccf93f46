package session

import (
	"context"
	"net/http/httptest"
	"testing"
)

// TestRequestCommit: a request's changes reach the store only through
// Commit; a ReadOnly request cannot change the session; an abandoned
// session ends once the request finishes.
func TestRequestCommit(t *testing.T) {
	ctx := context.Background()
	h := &endHost{}
	st, err := Open("memory", h, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)

	// A new session, written and committed.
	w := httptest.NewRecorder()
	q := new(Request)
	err = q.Begin(ctx, st, w, httptest.NewRequest("GET", "/", nil), Use{})
	if err != nil || q.Found() {
		t.Fatalf("Begin without a cookie: found %v, err %v", q.Found(), err)
	}
	if err := q.Set("n", 1.0); err != nil {
		t.Fatal(err)
	}
	if err := q.Commit(); err != nil {
		t.Fatal(err)
	}
	q.Finish(ctx)
	cookie := w.Result().Cookies()[0]

	begin := func(u Use) *Request {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(cookie)
		q := new(Request)
		err := q.Begin(ctx, st, httptest.NewRecorder(), r, u)
		if err != nil || !q.Found() {
			t.Fatalf("Begin with the cookie: found %v, err %v", q.Found(), err)
		}
		return q
	}
	n := func() any {
		q := begin(Use{ReadOnly: true})
		defer q.Finish(ctx)
		v, _ := q.Data().Get("n")
		return v
	}

	// A request that does not commit (its page failed) changes nothing.
	q = begin(Use{})
	q.Set("n", 2.0)
	q.Abandon()
	q.Finish(ctx)
	if got := n(); got != 1.0 {
		t.Errorf("after a request without Commit, n = %v, want 1", got)
	}

	// A ReadOnly request saves nothing, even if its Commit runs.
	q = begin(Use{ReadOnly: true})
	q.Set("n", 3.0)
	if err := q.Commit(); err != nil {
		t.Fatal(err)
	}
	q.Finish(ctx)
	if got := n(); got != 1.0 {
		t.Errorf("after a ReadOnly request, n = %v, want 1", got)
	}

	// Abandon, committed: the session ends when the request finishes.
	q = begin(Use{})
	q.Abandon()
	if err := q.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(h.ended) != 0 {
		t.Fatalf("the session ended before the request finished")
	}
	q.Finish(ctx)
	if len(h.ended) != 1 {
		t.Errorf("%d sessions ended, want 1", len(h.ended))
	}
}
