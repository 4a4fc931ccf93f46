package framework

import (
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestIncludeLocals: over HTTP, an include is textual: it sees the locals
// where it is included, and its top-level locals are seen after it.
func TestIncludeLocals(t *testing.T) {
	a := newApp(t, map[string]string{
		"loop.lasp":     "<% local title = \"Hi\" %>\n<% for i = 1, 2 do %><!--#include file=\"inc/row.inc\"--><% end %>",
		"inc/row.inc":   "<p><%= title %> row <%= i %></p>",
		"money.lasp":    "<!--#include virtual=\"/inc/money.inc\"-->\n<p><%= money(12.5) %></p>",
		"inc/money.inc": "<% local function money(x) return string.format(\"$%.2f\", x) end %>",
		"nested.lasp":   "<% local who = \"page\" %><% for k = 1, 2 do %><!--#include file=\"inc/outer.inc\"--><% end %>",
		"inc/outer.inc": "<% local mid = \"outer\" %><!--#include file=\"inner.inc\"-->",
		"inc/inner.inc": "[<%= who %> <%= mid %> <%= k %>]",
	})
	for _, c := range []struct{ path, want string }{
		{"/loop.lasp", "\n<p>Hi row 1</p><p>Hi row 2</p>"},
		{"/money.lasp", "\n<p>$12.50</p>"},
		{"/nested.lasp", "[page outer 1][page outer 2]"},
	} {
		status, body := a.get(t, c.path)
		if status != http.StatusOK || body != c.want {
			t.Errorf("GET %s: %d %q, want 200 %q\nlog:\n%s", c.path, status, body, c.want, a.log)
		}
	}
}

// TestIncludeErrors: an error in an include inside a loop names the
// included file and its line, and the include directive, on the -dev error
// page and in the log.
func TestIncludeErrors(t *testing.T) {
	page := "<ul>\n<% for i = 1, 3 do %>\n<!--#include file=\"inc/row.inc\"-->\n<% end %>\n</ul>\n"
	cases := []struct {
		name, row, kind, msg, src string
	}{
		{"runtime error", "<li>\n<% if i == 2 then error(\"bad row \" .. i) end %>\n</li>", "runtime error", "bad row 2", `<% if i == 2 then error("bad row " .. i) end %>`},
		{"syntax error", "<li>\n<%= price * %>\n</li>", "compile error", "syntax error: unexpected end of expression", "<%= price * %>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"list.lasp": page, "inc/row.inc": c.row}
			const where = "inc/row.inc:2"

			t.Run("dev", func(t *testing.T) {
				a := newApp(t, files, func(cfg *Config) { cfg.Dev = true })
				msg, body := devFailure(t, a, "/list.lasp")
				if !strings.Contains(msg, c.msg) || !strings.Contains(msg, "(included from list.lasp:3)") {
					t.Errorf("dev page message %q, want %q and (included from list.lasp:3)", msg, c.msg)
				}
				if !strings.Contains(body, "<code>"+where+"</code>") || !strings.Contains(body, c.kind) {
					t.Errorf("dev page does not show %s (%s):\n%s", where, c.kind, body)
				}
				if n, text, ok := currentSourceLine(body); !ok || n != 2 || html.UnescapeString(text) != c.src {
					t.Errorf("dev page marks line %d %q, want 2 %q", n, html.UnescapeString(text), c.src)
				}
			})

			t.Run("log", func(t *testing.T) {
				a := newApp(t, files)
				status, body := a.get(t, "/list.lasp")
				if status != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500", status)
				}
				line := failureLogLine(t, a, pageRequestID(t, body))
				if line["file"] != "inc/row.inc" || line["line"] != float64(2) || line["kind"] != c.kind {
					t.Errorf("log: file %v line %v kind %v, want %s %s", line["file"], line["line"], line["kind"], where, c.kind)
				}
				if err, _ := line["err"].(string); !strings.HasPrefix(err, where+": ") || !strings.Contains(err, c.msg) {
					t.Errorf("log err %q, want %s: %s", err, where, c.msg)
				}
				if from, _ := line["from"].([]any); len(from) != 1 || from[0] != "included from list.lasp:3" {
					t.Errorf("log from %v, want [included from list.lasp:3]", line["from"])
				}
			})
		})
	}
}

// TestRequiredFrom: an error in a lib module says where the module was
// called from as "required from", not "included from".
func TestRequiredFrom(t *testing.T) {
	a := newApp(t, map[string]string{
		"use.lasp":     "<h1>x</h1>\n<% require(\"shop\").total() %>",
		"lib/shop.lua": "local M = {}\nfunction M.total()\n  error(\"no cart\")\nend\nreturn M\n",
	}, func(cfg *Config) { cfg.Dev = true })
	msg, body := devFailure(t, a, "/use.lasp")
	if !strings.Contains(msg, "(required from use.lasp:2)") || strings.Contains(msg, "included from") {
		t.Errorf("dev page message %q, want (required from use.lasp:2)", msg)
	}
	if !strings.Contains(body, "<code>lib/shop.lua:"+strconv.Itoa(3)+"</code>") {
		t.Errorf("dev page does not show lib/shop.lua:3:\n%s", body)
	}
}
