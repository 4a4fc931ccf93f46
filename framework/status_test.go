package framework

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestStatusReleaseLock: an operator releases a stuck session lock from
// the status page: the request waiting for it runs at once, and the page
// that held it answers 503 without saving, refused by the fence.
func TestStatusReleaseLock(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"start.lasp": `<% Session["who"] = "start" %>`,
		"stuck.lasp": `<% Session["who"] = "stuck" Server.Sleep(3) %>stuck`,
		"next.lasp":  `<% local was = Session["who"] Session["who"] = "next" %><%= was %>`,
		"who.lasp":   `<%@ EnableSessionState="ReadOnly" %><%= Session["who"] %>`,
	}
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			url0 := storeURL(t, store)
			a := newApp(t, files, func(c *Config) { c.SessionStore, c.ScriptTimeout = url0, 10*time.Second })
			admin := httptest.NewServer(a.srv.StatusHandler())
			t.Cleanup(admin.Close)
			c := client(t, a)
			mustFetch(t, a, c, "/start.lasp")
			stuck := make(chan int)
			go func() { status, _ := fetch(t, a, c, "/stuck.lasp"); stuck <- status }()
			waitSessionLock(t, a, func(int) bool { return true })
			next := make(chan string)
			go func() { next <- mustFetch(t, a, c, "/next.lasp") }()
			waitSessionLock(t, a, func(w int) bool { return w == 1 })

			res, err := http.Get(admin.URL + "/status")
			if err != nil {
				t.Fatal(err)
			}
			page := readAll(t, res)
			locks := a.srv.Snapshot(t.Context()).Sessions.Locks
			if len(locks) != 1 {
				t.Fatalf("locks %+v", locks)
			}
			prefix := locks[0].ID
			for _, want := range []string{"<code>" + prefix + "…</code>", "<code>/stuck.lasp</code>", `name="session" value="` + prefix + `"`} {
				if !strings.Contains(page, want) {
					t.Errorf("the status page lacks %q", want)
				}
			}

			start := time.Now()
			res, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).PostForm(admin.URL+"/status/release", url.Values{"session": {prefix}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "Released") {
				t.Errorf("release: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			if got := <-next; got != "start" {
				t.Errorf("the waiter saw %q, want the session as last saved (start)", got)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the waiter ran %v after the release, want at once", d)
			}
			if status := <-stuck; status != 503 {
				t.Errorf("the page whose lock was released: %d, want 503", status)
			}
			if got := mustFetch(t, a, c, "/who.lasp"); got != "next" {
				t.Errorf("the session holds %q, want the waiter's write (next), not the broken page's", got)
			}
			if !strings.Contains(a.log.String(), "session lock released by an operator") {
				t.Error("the release was not logged")
			}
		})
	}
}

// TestStatusJSON: the status page as JSON is the Snapshot.
func TestStatusJSON(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{"s.lasp": `<% Session["x"] = 1 %>`})
	for range 3 {
		mustFetch(t, a, client(t, a), "/s.lasp")
	}
	admin := httptest.NewServer(a.srv.StatusHandler())
	t.Cleanup(admin.Close)
	req, _ := http.NewRequest("GET", admin.URL+"/status", nil)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var snap Snapshot
	body, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(body, &snap); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if snap.Sessions.Sessions != 3 || snap.Sessions.Store != "memory" || snap.States.Created < 1 {
		t.Errorf("status JSON: %s", body)
	}
}
