package page

import (
	"errors"
	"strings"
	"testing"

	"lasp/internal/scan"
)

// FuzzParse checks that Parse never panics, that errors point inside the
// input, and that parsed nodes never claim more lines than the input has.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"<html><body>hello</body></html>\n",
		"<%@ Language=\"Lua\" EnableSessionState=\"ReadOnly\" %>\n<p><%= Request.QueryString[\"q\"] %></p>\n",
		"\r\n<%@ ContentType='text/plain' Charset=utf-8 %>\r\n<% for i = 1, 3 do %>\r\n<%- i %>\r\n<% end %>\r\n",
		"<script runat=\"server\" language=\"lua\">\nfunction greet(n) return \"hi \" .. n end\n</script>\n<%= greet(\"x\") %>",
		"<object runat=\"server\" id=\"cart\" progid=\"Shop.Cart\"></object>\n<object RUNAT=server ID=d PROGID=A.B scope=page />",
		"<!--#include file=\"inc/header.inc\"-->\n<!-- #include virtual = '/inc/footer.inc' -->\n<!-- plain -->",
		"<script src=\"<%= url %>\"></script><object data=x></object>",
		"<% s = \"%>\" %>",
		"<%= %>",
		"<% unclosed",
		"<p>\n<%@ Language=Lua %>",
		"<%@ Bogus=1 %>",
		"<script runat=server>",
		"<object runat=server id=end progid=A/>",
		"<!--#include page=\"x\"-->",
		"\uFEFF<%@ Language=Lua %>",
		"a\rb\r<% x = 1\r  y = 2 %>\r<%= x %>\n\r<p>\r\n</p>", // lines ended as Lua ends them
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		lines := len(scan.LineStarts(src)) // as Lua counts them
		file, err := Parse("f.lasp", src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if pe.Line < 1 || pe.Line > lines || pe.Col < 1 {
				t.Fatalf("error at %d:%d, input has %d lines: %v", pe.Line, pe.Col, lines, err)
			}
			if !strings.HasPrefix(err.Error(), "f.lasp:") {
				t.Fatalf("Error() = %q, want f.lasp: prefix", err)
			}
			return
		}
		newlines := 0
		for _, n := range file.Nodes {
			if p := n.Position(); p.Line < 1 || p.Line > lines || p.Col < 1 {
				t.Fatalf("%T at %v, input has %d lines", n, p, lines)
			}
			if s, ok := nodeText(n); ok {
				newlines += strings.Count(s, "\n")
			}
		}
		if newlines > lines-1 {
			t.Fatalf("nodes hold %d newlines, input has %d", newlines, lines-1)
		}
		checkSpans(t, src, file)
	})
}
