package framework

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestApplicationAgility is the agility table of docs/objects.md for Application
// scope over HTTP: plain data is stored as a copy, everything else is refused
// with a message naming the key, the scope and why.
func TestApplicationAgility(t *testing.T) {
	for _, tc := range []struct {
		name, code string
		status     int
		want       string // body for 200s, a substring of the logged error for 500s
	}{
		{"string", `Application["s"] = "hi" %><%= Application["s"]`, 200, "hi"},
		{"number", `Application["n"] = 1.5 %><%= Application["n"] + 1`, 200, "2.5"},
		{"bool", `Application["b"] = false %><%= tostring(Application["b"])`, 200, "false"},
		{"array", `Application["a"] = {1, "two", {3}} local a = Application["a"] %><%= a[1] .. a[2] .. a[3][1] .. #a`, 200, "1two33"},
		{"map", `Application["m"] = {x = {y = "deep"}} %><%= Application["m"].x.y`, 200, "deep"},
		{"copy in", `local t = {1} Application["t"] = t t[1] = 99 %><%= Application["t"][1]`, 200, "1"},
		{"copy out", `Application["t"] = {1} local t = Application["t"] t[1] = 99 %><%= Application["t"][1]`, 200, "1"},
		{"case-insensitive keys", `Application["Cart"] = "c" %><%= Application["cart"] .. Application.Contents["CART"]`, 200, "cc"},
		{"nil removes", `Application["gone"] = 1 Application["gone"] = nil %><%= tostring(Application["gone"]) .. Application.Contents.Count`, 200, "nil0"},
		{"contents methods", `Application.Contents["a"] = 1 Application["b"] = 2 Application.Contents:Remove("a") %><%= table.concat(Application.Contents:Keys(), ",") %><% Application.Contents:RemoveAll() %><%= Application.Contents.Count`, 200, "b0"},
		{"function", `Application["f"] = function() end`, 500, `Application[\"f\"]: a function cannot be stored in Application scope`},
		{"table holding a function", `Application["t"] = {handler = print}`, 500, `Application[\"t\"]: a function (at [\"handler\"]) cannot be stored in Application scope`},
		{"coroutine", `Application["co"] = coroutine.create(function() end)`, 500, `a thread cannot be stored in Application scope`},
		{"intrinsic object", `Application["r"] = Response`, 500, `a table with a metatable cannot be stored in Application scope`},
		{"cycle", `local t = {} t.self = t Application["c"] = t`, 500, `a table that contains itself (at [\"self\"]) cannot be stored`},
		{"mixed table", `Application["m"] = {1, x = 2}`, 500, `a table that mixes array items and keys cannot be stored`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, map[string]string{"p.lasp": "<% " + tc.code + " %>"})
			status, body := a.get(t, "/p.lasp")
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s\n%s", status, tc.status, body, a.log)
			}
			if status == 200 && body != tc.want {
				t.Errorf("body %q, want %q", body, tc.want)
			}
			if status == 500 && !strings.Contains(a.log.String(), tc.want) {
				t.Errorf("log does not say %q:\n%s", tc.want, a.log)
			}
		})
	}
}

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
