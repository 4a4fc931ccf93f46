package framework

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestDevReload edits files of a running application between two requests:
// with -dev the second request sees the change, without it the compiled
// page is kept.
func TestDevReload(t *testing.T) {
	cases := []struct {
		name  string
		dev   bool
		files map[string]string
		path  string

		firstStatus int // zero means 200
		first       string

		edit   map[string]string // files written (mtime moved) before the second request
		remove []string          // files removed before the second request

		secondStatus int // zero means 200
		second       string

		// sameState: both requests must have run in one Lua state, the
		// state that loaded the old version.
		sameState bool
	}{
		{
			name:   "page",
			dev:    true,
			files:  map[string]string{"p.lasp": `version <%= 1 %>`},
			path:   "/p.lasp",
			first:  "version 1",
			edit:   map[string]string{"p.lasp": `version <%= 2 %>`},
			second: "version 2",
		},
		{
			name:   "page in a folder, served as index",
			dev:    true,
			files:  map[string]string{"d/index.lasp": `one`},
			path:   "/d/",
			first:  "one",
			edit:   map[string]string{"d/index.lasp": `two`},
			second: "two",
		},
		{
			name: "included file",
			dev:  true,
			files: map[string]string{
				"p.lasp":     `[<!--#include file="inc/a.inc"-->]`,
				"inc/a.inc":  `a<%= 1 %>`,
				"other.lasp": `unrelated`,
			},
			path:   "/p.lasp",
			first:  "[a1]",
			edit:   map[string]string{"inc/a.inc": `a<%= 2 %>`},
			second: "[a2]",
		},
		{
			name: "nested included file",
			dev:  true,
			files: map[string]string{
				"p.lasp":    `<!--#include virtual="/inc/a.inc"-->`,
				"inc/a.inc": `a(<!--#include file="b.inc"-->)`,
				"inc/b.inc": `b1`,
			},
			path:   "/p.lasp",
			first:  "a(b1)",
			edit:   map[string]string{"inc/b.inc": `b2`},
			second: "a(b2)",
		},
		{
			name: "page run by Server.Execute",
			dev:  true,
			files: map[string]string{
				"p.lasp": `<% Server.Execute("o.lasp") %>`,
				"o.lasp": `o1`,
			},
			path:   "/p.lasp",
			first:  "o1",
			edit:   map[string]string{"o.lasp": `o2`},
			second: "o2",
		},
		{
			name: "lib module",
			dev:  true,
			files: map[string]string{
				"p.lasp":    `<%= require("m").version %>`,
				"lib/m.lua": `return {version = "m1"}`,
			},
			path:   "/p.lasp",
			first:  "m1",
			edit:   map[string]string{"lib/m.lua": `return {version = "m2"}`},
			second: "m2",
			// -dev retires every Lua state when a file under lib/ changes.
		},
		{
			name: "lib module in a package",
			dev:  true,
			files: map[string]string{
				"p.lasp":        `<%= require("pkg.m").f() %>`,
				"lib/pkg/m.lua": "local M = {}\nfunction M.f() return 'f1' end\nreturn M\n",
			},
			path:   "/p.lasp",
			first:  "f1",
			edit:   map[string]string{"lib/pkg/m.lua": "local M = {}\nfunction M.f() return 'f2' end\nreturn M\n"},
			second: "f2",
			// -dev retires every Lua state when a file under lib/ changes.
		},
		{
			// The page requires a, which requires b when it loads: a change
			// to b must be seen although a did not change.
			name: "lib module required by a module",
			dev:  true,
			files: map[string]string{
				"p.lasp":    `<%= require("a").b() %>`,
				"lib/a.lua": "local b = require(\"b\")\nreturn {b = function() return b.version end}\n",
				"lib/b.lua": `return {version = "b1"}`,
			},
			path:   "/p.lasp",
			first:  "b1",
			edit:   map[string]string{"lib/b.lua": `return {version = "b2"}`},
			second: "b2",
			// -dev retires every Lua state when a file under lib/ changes.
		},
		{
			name:         "syntax error fixed",
			dev:          true,
			files:        map[string]string{"p.lasp": `<% if then %>`},
			path:         "/p.lasp",
			firstStatus:  500,
			edit:         map[string]string{"p.lasp": `fixed`},
			second:       "fixed",
			secondStatus: 200,
		},
		{
			name:         "page broken",
			dev:          true,
			files:        map[string]string{"p.lasp": `fine`},
			path:         "/p.lasp",
			first:        "fine",
			edit:         map[string]string{"p.lasp": `<% if then %>`},
			secondStatus: 500,
		},
		{
			name: "included file fixed",
			dev:  true,
			files: map[string]string{
				"p.lasp": `<!--#include file="a.inc"-->`,
				"a.inc":  `<% while do %>`,
			},
			path:         "/p.lasp",
			firstStatus:  500,
			edit:         map[string]string{"a.inc": `now fine`},
			second:       "now fine",
			secondStatus: 200,
		},
		{
			name:         "page removed",
			dev:          true,
			files:        map[string]string{"p.lasp": `here`},
			path:         "/p.lasp",
			first:        "here",
			remove:       []string{"p.lasp"},
			secondStatus: 404,
		},
		{
			name:        "page created",
			dev:         true,
			files:       map[string]string{"other.lasp": `x`},
			path:        "/p.lasp",
			firstStatus: 404,
			edit:        map[string]string{"p.lasp": `created`},
			second:      "created",
		},
		{
			name:        "page created, without -dev",
			files:       map[string]string{"other.lasp": `x`},
			path:        "/p.lasp",
			firstStatus: 404,
			edit:        map[string]string{"p.lasp": `created`},
			second:      "created",
		},
		{
			name:   "page, without -dev",
			files:  map[string]string{"p.lasp": `version <%= 1 %>`},
			path:   "/p.lasp",
			first:  "version 1",
			edit:   map[string]string{"p.lasp": `version <%= 2 %>`},
			second: "version 1",
		},
		{
			name: "included file, without -dev",
			files: map[string]string{
				"p.lasp":    `[<!--#include file="inc/a.inc"-->]`,
				"inc/a.inc": `a1`,
			},
			path:   "/p.lasp",
			first:  "[a1]",
			edit:   map[string]string{"inc/a.inc": `a2`},
			second: "[a1]",
		},
		{
			name: "lib module, without -dev",
			files: map[string]string{
				"p.lasp":    `<%= require("m").version %>`,
				"lib/m.lua": `return {version = "m1"}`,
			},
			path:      "/p.lasp",
			first:     "m1",
			edit:      map[string]string{"lib/m.lua": `return {version = "m2"}`},
			second:    "m1",
			sameState: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newApp(t, c.files, func(cfg *Config) { cfg.Dev = c.dev })
			devExpect(t, a, c.path, c.firstStatus, c.first)
			for name, content := range c.edit {
				devWrite(t, a, name, content)
			}
			for _, name := range c.remove {
				if err := os.Remove(filepath.Join(a.dir, filepath.FromSlash(name))); err != nil {
					t.Fatal(err)
				}
			}
			devExpect(t, a, c.path, c.secondStatus, c.second)
			if s := a.srv.engine.Stats(); c.sameState && s.Created != 1 {
				t.Errorf("%d Lua states were made, want 1: the test must reuse the state that loaded the old version", s.Created)
			}
		})
	}
}

// TestDevConcurrentFirstRequests sends 50 requests for a page that is not
// compiled yet, all at once, with and without -dev, and again after an edit
// in -dev.
//
// What this proves: concurrent first requests for one page all succeed and
// all see the same, complete page (no request sees a half-built page or an
// error from a compile racing another; run with -race to check for data
// races on the page cache). What it does not prove: that the page was
// compiled only once. The engine shares one compile between concurrent
// requests (singleflight), but no compile count is observable over HTTP.
func TestDevConcurrentFirstRequests(t *testing.T) {
	const n = 50
	for _, c := range []struct {
		name string
		dev  bool
		edit bool // edit the page once, then send the 50 requests again
	}{
		{name: "production"},
		{name: "dev", dev: true},
		{name: "dev after an edit", dev: true, edit: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{
				"p.lasp":    `<!--#include file="a.inc"--><% for i = 1, 3 do %><%= i %><% end %>`,
				"a.inc":     `v1:`,
				"lib/m.lua": `return {}`,
			}
			a := newApp(t, files, func(cfg *Config) { cfg.Dev = c.dev })
			want := "v1:123"
			if c.edit {
				devExpect(t, a, "/p.lasp", 200, want)
				devWrite(t, a, "a.inc", `v2:`)
				want = "v2:123"
			}
			type result struct {
				status int
				body   string
				err    error
			}
			results := make([]result, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					res, err := a.Client().Get(a.URL + "/p.lasp")
					if err != nil {
						results[i].err = err
						return
					}
					defer res.Body.Close()
					b, err := io.ReadAll(res.Body)
					results[i] = result{res.StatusCode, string(b), err}
				})
			}
			close(start)
			wg.Wait()
			for i, r := range results {
				if r.err != nil || r.status != http.StatusOK || r.body != want {
					t.Errorf("request %d: status %d body %q err %v, want 200 %q", i, r.status, r.body, r.err, want)
				}
			}
			if t.Failed() {
				t.Logf("log:\n%s", a.log)
			}
		})
	}
}

// devExpect requests path and checks the status (zero means 200) and, when
// want is not empty, the body.
func devExpect(t *testing.T, a *app, path string, status int, want string) {
	t.Helper()
	if status == 0 {
		status = http.StatusOK
	}
	got, body := a.get(t, path)
	if got != status {
		t.Fatalf("GET %s: status %d, want %d\nbody: %.300q\nlog:\n%s", path, got, status, body, a.log)
	}
	if want != "" && body != want {
		t.Fatalf("GET %s: %q, want %q", path, body, want)
	}
}

// devWrite writes an app file and moves its modification time an hour
// ahead, so that the change is seen even where the file system's clock is
// coarse and the size does not change.
func devWrite(t *testing.T, a *app, name, content string) {
	t.Helper()
	p := filepath.Join(a.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
}
