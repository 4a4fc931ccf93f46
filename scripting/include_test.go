package scripting

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestIncludes: an include is textual. Its code is compiled into the page
// where the directive is, so it sees every local in scope there, and its
// own top-level locals are locals of the block it is included in.
func TestIncludes(t *testing.T) {
	cases := []apiCase{
		{
			name:  "the page's locals and the loop variable",
			files: map[string]string{"inc/row.inc": "<p><%= title %> row <%= i %></p>"},
			page:  "<% local title = \"Hi\" %>\n<% for i = 1, 2 do %><!--#include file=\"inc/row.inc\"--><% end %>",
			want:  "\n<p>Hi row 1</p><p>Hi row 2</p>",
		},
		{
			name: "nested includes see the outer page's locals",
			files: map[string]string{
				"inc/a.inc": "<% local mid = \"a\" %><!--#include file=\"b.inc\"-->",
				"inc/b.inc": "<%= who %>/<%= mid %>/<%= k %>",
			},
			page: "<% local who = \"page\" %><% for k = 1, 2 do %><!--#include file=\"inc/a.inc\"-->;<% end %>",
			want: "page/a/1;page/a/2;",
		},
		{
			name:  "a local function of an include, used after it",
			files: map[string]string{"money.inc": "<% local function money(x) return string.format(\"$%.2f\", x) end %>"},
			page:  "<!--#include file=\"money.inc\"--><%= money(3) %>",
			want:  "$3.00",
		},
		{
			name:  "a local function of an include calls itself",
			files: map[string]string{"fact.inc": "<%\nlocal function fact(n)\n  if n <= 1 then return 1 end\n  return n * fact(n - 1)\nend\n%>"},
			page:  "<!--#include file=\"fact.inc\"--><%= fact(5) %>",
			want:  "120",
		},
		{
			name:  "a top-level local of an include in a loop lasts for the rest of the iteration",
			files: map[string]string{"sq.inc": "<% local sq, unused = i * i %>"},
			page:  "<% for i = 1, 3 do %><!--#include file=\"sq.inc\"--><%= sq %>,<% end %><%= tostring(sq) %>",
			want:  "1,4,9,nil",
		},
		{
			name:  "locals of an include's blocks stay its own",
			files: map[string]string{"blocks.inc": "<% do local a = 1 end if true then local b = 2 end for c = 1, 1 do local d = 3 end local function f() local e = 5 end %>"},
			page:  "<!--#include file=\"blocks.inc\"--><%= tostring(a) %> <%= tostring(b) %> <%= tostring(c) %> <%= tostring(d) %> <%= tostring(e) %> <%= type(f) %>",
			want:  "nil nil nil nil nil function",
		},
		{
			name:  "a file included twice runs twice, the second time seeing the first's local",
			files: map[string]string{"count.inc": "<% local seen = (seen or 0) + 1 n = (n or 0) + 1 %>[<%= seen %> <%= n %>]"},
			page:  "<!--#include file=\"count.inc\"-->\n<!--#include file=\"count.inc\"-->",
			want:  "[1 1]\n[2 2]",
		},
		{
			name:  "an include's local reads the outer value of its own name",
			files: map[string]string{"h.inc": "<% local title = title or \"Default\" local n = #title %><%= title %> <%= n %>|"},
			page:  "<!--#include file=\"h.inc\"--><% do local title = \"Page\" %><!--#include file=\"h.inc\"--><% end %><%= title %>",
			want:  "Default 7|Page 4|Default",
		},
		{
			name:  "a function of an include sees its top-level locals, even one declared after it",
			files: map[string]string{"f.inc": "<% local function get() return x end local y = x local x = \"inner\" %><%= y %> <%= get() %> <%= x %>"},
			page:  "<% local x = \"outer\" %><!--#include file=\"f.inc\"--> <%= x %>",
			want:  "outer inner inner inner",
		},
		{
			name:  "an include in the body of a page's function",
			files: map[string]string{"r.inc": "<b><%= x %></b>"},
			page:  "<% local function row(x) %><!--#include file=\"r.inc\"--><% end %><% row(1) row(2) %>",
			want:  "<b>1</b><b>2</b>",
		},
		{
			name:  "script blocks of an included file still run first, once",
			files: map[string]string{"s.inc": "<script runat=\"server\">\nruns = (runs or 0) + 1\nfunction greet() return \"hi\" end\n</script><%= greet() %>"},
			page:  "<!--#include file=\"s.inc\"--><!--#include file=\"s.inc\"--><%= runs %>",
			want:  "hihi1",
		},

		// ---- errors in includes ----
		{
			name:     "runtime error in an include inside a loop",
			files:    map[string]string{"inc/row.inc": "row\n<% if i == 2 then error(\"bad row \" .. i) end %>\n"},
			page:     "<% for i = 1, 3 do %>\n<!--#include file=\"inc/row.inc\"-->\n<% end %>\n",
			err:      "inc/row.inc:2: bad row 2",
			includes: []string{"t.lasp:2"},
			check:    wantTraceback("inc/row.inc:2: in main chunk", "t.lasp:2: in main chunk"),
		},
		{
			name:     "syntax error in an include inside a loop",
			files:    map[string]string{"inc/row.inc": "row\n<%= price * %>\n"},
			page:     "<% for i = 1, 3 do %>\n<!--#include file=\"inc/row.inc\"-->\n<% end %>\n",
			err:      "inc/row.inc:2: syntax error: unexpected end of expression",
			kind:     Compile,
			includes: []string{"t.lasp:2"},
		},
		{
			name: "runtime error in a nested include inside loops",
			files: map[string]string{
				"a.inc": "a\n<% for j = 1, 2 do %>\n<!--#include file=\"b.inc\"-->\n<% end %>",
				"b.inc": "<% local t = {} %>\n<%= t.x.y %>",
			},
			page:     "<% for i = 1, 2 do %>\n\n<!--#include file=\"a.inc\"--><% end %>",
			err:      "b.inc:2: attempt to index",
			includes: []string{"t.lasp:3", "a.inc:3"},
			check:    wantTraceback("b.inc:2: in main chunk", "a.inc:3: in main chunk", "t.lasp:3: in main chunk"),
		},
		{
			name:     "runtime error in an include in a page's function names the include directive",
			files:    map[string]string{"r.inc": "\n<%= x.y %>"},
			page:     "<% local function row(x) %>\n<!--#include file=\"r.inc\"-->\n<% end %>\n<% row(nil) %>",
			err:      "r.inc:2: attempt to index",
			includes: []string{"t.lasp:2"},
		},
		{
			name:     "runtime error in a function an include defined",
			files:    map[string]string{"f.inc": "<%\nlocal function boom()\n  error(\"boom\")\nend\n%>"},
			page:     "<!--#include file=\"f.inc\"-->\n<% boom() %>",
			err:      "f.inc:3: boom",
			includes: []string{"t.lasp:2"},
		},
		{
			name:     "a break in an include is not in the page's loop",
			files:    map[string]string{"b.inc": "\n<% break %>"},
			page:     "<% for i = 1, 2 do %>\n<!--#include file=\"b.inc\"--><% end %>",
			err:      "b.inc:2: no loop to break",
			kind:     Compile,
			includes: []string{"t.lasp:2"},
		},
		{
			name:  "too many locals with an include's",
			files: map[string]string{"many.inc": "<% local " + names("a", 150) + " %>"},
			page:  "<% local " + names("b", 100) + " %>\n<!--#include file=\"many.inc\"-->",
			err:   "t.lasp: ",
			kind:  Compile,
			check: func(t reporter, r *apiRun) {
				if !strings.Contains(r.err.Error(), "locals of an included file") {
					t.Errorf("error %v does not say that the include's locals count", r.err)
				}
			},
		},
		{
			name: "runtime error in a module required from an include",
			files: map[string]string{
				"lib/m.lua": "local M = {}\nfunction M.f()\n  error(\"failure in m\")\nend\nreturn M\n",
				"use.inc":   "\n<% require(\"m\").f() %>",
			},
			page:     "<!--#include file=\"use.inc\"-->",
			err:      "lib/m.lua:3: failure in m",
			includes: []string{"t.lasp:1", "required from use.inc:2"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checkAPICase(t, c, runAPICase(t, c))
		})
	}
}

// names returns "p1, p2, ..., pn".
func names(p string, n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s%d", p, i+1)
	}
	return strings.Join(s, ", ")
}

func wantTraceback(lines ...string) func(t reporter, r *apiRun) {
	return func(t reporter, r *apiRun) {
		var se *Error
		if !errors.As(r.err, &se) {
			return
		}
		for _, l := range lines {
			if !strings.Contains(se.Traceback, l) {
				t.Errorf("traceback does not show %q:\n%s", l, se.Traceback)
			}
		}
	}
}

// TestSyntaxErrorsInAuthorsTerms: a syntax error says what is wrong with
// what the author wrote, at its line, and never names a token of the code
// generated around it.
func TestSyntaxErrorsInAuthorsTerms(t *testing.T) {
	cases := []struct {
		name, page string
		err        string // "file:line: text", text a substring of the message
	}{
		{"incomplete expression", "<p>\n<%= price * %></p>", "t.lasp:2: syntax error: unexpected end of expression"},
		{"empty expression", "<p><%= %></p>", "t.lasp:1: empty expression in <%= %> block"},
		{"comment only", "<p><%= -- nothing %></p>", "t.lasp:1: syntax error: an expression is expected"},
		{"two names", "<%= a b %>", "t.lasp:1: syntax error near 'b'"},
		{"unclosed parenthesis", "\n<%= (a %>", "t.lasp:2: syntax error: unexpected end of expression"},
		{"unopened parenthesis", "<%= a) %>", "t.lasp:1: syntax error near ')'"},
		{"closed then opened", "<%= a) (b %>", "t.lasp:1: syntax error near ')'"},
		{"unterminated string", "<%= \"x %>\n<p>after</p>", "t.lasp:1: unterminated string"},
		{"unterminated long string", "<%= [[x %>\n<p>after</p>", "t.lasp:1: unterminated multiline string"},
		{"raw call not closed", "<%- f( %>", "t.lasp:1: syntax error: unexpected end of expression"},
		{"two expressions", "<%= a, b %>", "t.lasp:1: syntax error: one expression is expected, not 2"},
		{"fused run, one bad", "<b><%= a %> <%= b c %> <%= d %></b>", "t.lasp:1: syntax error near 'c'"},
		{"fused run over lines", "<%= a %>\n<%= b + %>\n<%= c %>", "t.lasp:2: syntax error: unexpected end of expression"},
		{"fused run, a list", "<i><%= a %>,<%= b, c %></i>", "t.lasp:1: syntax error: one expression is expected, not 2"},
		{"expression then a comment", "<%= a + -- the rest\n %>", "t.lasp:2: syntax error: unexpected end of expression"},
		{"error on an expression's second line", "<%= a +\n  * b %>", "t.lasp:2: syntax error near '*'"},
		{"a statement in an expression", "<%= a; b %>", "t.lasp:1: syntax error near 'b'"},
		{"keyword", "<%= end %>", "t.lasp:1: syntax error near 'end'"},
		{"earlier error in a code block comes first", "<% x = = 1 %>\n<%= a b %>", "t.lasp:1: syntax error near '='"},
		{"code block ends mid-statement before text", "<% local t = { %>text\n", "t.lasp:1: syntax error: the code block ends in the middle of a statement"},
		{"assignment without a value before text", "<p>\n<% x = %>text", "t.lasp:2: syntax error: the code block ends in the middle of a statement"},
		{"assignment without a value before an expression", "<% x = %><%= y %>", "t.lasp:1: syntax error: the code block ends in the middle of a statement"},
		{"concatenation cut before a fused run", "<% s = 'a' .. %><b><%= y %></b>", "t.lasp:1: syntax error: the code block ends in the middle of a statement"},
		{"return before text", "<% if a then return %>t<% end %>", "t.lasp:1: syntax error: return must be the last statement of its block"},
		{"return at the end of a page with a last line break", "a\n<% return %>\n", "t.lasp:2: syntax error: return must be the last statement of its block"},
		{"for without do", "<% for i = 1, 2 %>x<% end %>", "t.lasp:1: syntax error: the code block ends in the middle of a statement"},
		{"code block ends mid-statement before an include", "<% x = %><!--#include file=\"i.inc\"-->", "t.lasp:1: syntax error: the code block ends in the middle of a statement"},
		{"block not closed", "<% if x then %>\n<p>x</p>\n", "t.lasp:2: syntax error: unexpected end of file"},
		{"script block", "<script runat=\"server\">\nlocal x = = 1\n</script>", "t.lasp:2: syntax error near '='"},
	}
	near := regexp.MustCompile(`near '([^']*)'`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ac := apiCase{page: c.page, files: map[string]string{"i.inc": "inc"}, err: c.err, kind: Compile}
			r := runAPICase(t, ac)
			checkAPICase(t, ac, r)
			if r.err == nil {
				return
			}
			if m := near.FindStringSubmatch(r.err.Error()); m != nil && !strings.Contains(c.page, m[1]) {
				t.Errorf("%v: names %q, which the author did not write", r.err, m[1])
			}
			if strings.Contains(r.err.Error(), "__") {
				t.Errorf("%v: shows generated code", r.err)
			}
		})
	}
}

// TestExpressionsStillWork: expressions that the quick shape check is wary
// of, but that are one expression, compile and write as before.
func TestExpressionsStillWork(t *testing.T) {
	cases := []apiCase{
		{name: "commas in brackets", page: `<%= ({1, 2})[2] %>,<%= ("a,b") %>,<%= select(2, "x", "y") %>`, want: "2,a,b,y"},
		{name: "brackets in strings", page: `<%= "(" %><%= ')' %><%= [[ ] ) } ]] %>`, want: "() ] ) } "},
		{name: "a trailing comment", page: "<%= 1 + 2 -- three %>", want: "3"},
		{name: "a long comment", page: "<%= 1 --[[ ( ]] + 1 %>", want: "2"},
		{name: "an escaped quote", page: `<%= "a\"b" %>`, want: "a&#34;b"},
		{name: "a function literal", page: "<%= (function() local a, b = 1, 2 return a + b end)() %>", want: "3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checkAPICase(t, c, runAPICase(t, c))
		})
	}
}
