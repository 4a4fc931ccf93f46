package framework

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestApplicationLock: 200 concurrent increments under Application:Lock end
// at exactly 200; a lock still held when a page ends (or fails) is released.
func TestApplicationLock(t *testing.T) {
	a := newApp(t, map[string]string{
		"inc.lasp":    `<% Application:Lock() local n = Application["n"] or 0 Server.Sleep(0) Application["n"] = n + 1 Application:Unlock() %>`,
		"n.lasp":      `<%= Application["n"] %>`,
		"forget.lasp": `<% Application:Lock() %>kept`,
		"fail.lasp":   `<% Application.Lock() error("boom") %>`,
	})
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			res, err := a.Client().Get(a.URL + "/inc.lasp")
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("status %d", res.StatusCode)
			}
		})
	}
	wg.Wait()
	if got := a.mustGet(t, "/n.lasp"); got != "200" {
		t.Errorf("after 200 locked increments: %s", got)
	}
	a.mustGet(t, "/forget.lasp")
	if status, _ := a.get(t, "/fail.lasp"); status != 500 {
		t.Errorf("fail.lasp: %d", status)
	}
	if got := a.mustGet(t, "/inc.lasp"); got != "" {
		t.Errorf("inc after forgotten locks: %q", got)
	}
	if got := a.mustGet(t, "/n.lasp"); got != fmt.Sprint(201) {
		t.Errorf("n = %s, want 201", got)
	}
}
