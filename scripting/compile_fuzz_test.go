package scripting

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"lasp/internal/scan"
)

// FuzzCompile compiles a page that includes a file, each of them fuzzed,
// at the top level and inside a loop: compiling never panics, and a
// compile error names one of the two files and a line inside it.
func FuzzCompile(f *testing.F) {
	seeds := [][2]string{
		{`<% local title = "Hi" %>`, `<p><%= title %> row <%= i %></p>`},
		{`<% local x = 1 %>`, `<% local x = x + 1 local function f() return x end %><%= f() %>`},
		{`<%= price * %>`, `<%- f( %>`},
		{`<% for i = 1, 2 do %>`, `<% break %>`},
		{`<% if x then %>`, `<% local a, b = 1 %><%= a, b %>`},
		{`<% x = %>`, `<% return %>`},
		{`<script runat="server">function g() end</script>`, `<%= (a %> <%= a) %> <%= "x %>`},
		{`<% local t = { %>`, `<% } %>`},
		{`<% --[[ %>`, `<% ]] %>`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, page, inc string) {
		if strings.Contains(inc, "#include") {
			return // a cycle, or a file that is not there: not this test's subject
		}
		page += "\n<!--#include file=\"a.inc\"-->\n<% for i = 1, 2 do %><!--#include file=\"a.inc\"--><% end %>"
		files := map[string]int{ // lines, as an editor (and Lua) counts them
			"p.lasp": len(scan.LineStarts(page)),
			"a.inc":  len(scan.LineStarts(inc)),
		}
		fsys := fstest.MapFS{"p.lasp": {Data: []byte(page)}, "a.inc": {Data: []byte(inc)}}
		_, err := compilePage(fsys, "p.lasp")
		if err == nil {
			return
		}
		var se *Error
		if !errors.As(err, &se) {
			return // the included file has directives, say: the page package's errors
		}
		lines, ok := files[se.File]
		if !ok || se.Line < 0 || se.Line > lines {
			t.Fatalf("error %q names %s:%d, not a line of p.lasp (%d lines) or a.inc (%d lines)", err, se.File, se.Line, files["p.lasp"], files["a.inc"])
		}
	})
}
