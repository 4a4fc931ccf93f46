package page

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"lasp/internal/scan"
)

// dump renders nodes one a line for readable test failures.
func dump(nodes []Node) string {
	var b strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&b, "%T%+v\n", n, n)
	}
	return b.String()
}

func TestParseNodes(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Node
	}{
		{
			name: "empty",
			src:  "",
			want: nil,
		},
		{
			name: "text only",
			src:  "<html>\n<p>hi</p>\n",
			want: []Node{&Text{Pos{1, 1}, "<html>\n<p>hi</p>\n"}},
		},
		{
			name: "code",
			src:  "a<% x = 1 %>b",
			want: []Node{
				&Text{Pos{1, 1}, "a"},
				&Code{Pos{1, 4}, " x = 1 "},
				&Text{Pos{1, 13}, "b"},
			},
		},
		{
			name: "empty code block",
			src:  "<%%>",
			want: []Node{&Code{Pos{1, 3}, ""}},
		},
		{
			name: "escaped and raw expressions",
			src:  "<%= a %><%- b %>",
			want: []Node{
				&Expr{Pos{1, 4}, " a ", false},
				&Expr{Pos{1, 12}, " b ", true},
			},
		},
		{
			name: "expression without spaces",
			src:  "<%=x%>",
			want: []Node{&Expr{Pos{1, 4}, "x", false}},
		},
		{
			name: "first %> ends the block even in a string",
			src:  `<% s = "%>" %>`,
			want: []Node{
				&Code{Pos{1, 3}, ` s = "`},
				&Text{Pos{1, 11}, `" %>`},
			},
		},
		{
			name: "multi-line code keeps exact bytes",
			src:  "<%\nif x then\n  y()\nend\n%>",
			want: []Node{&Code{Pos{1, 3}, "\nif x then\n  y()\nend\n"}},
		},
		{
			name: "include inside code is code",
			src:  `<% --<!--#include file="a.inc"--> %>`,
			want: []Node{&Code{Pos{1, 3}, ` --<!--#include file="a.inc"--> `}},
		},
		{
			name: "lone percent and angle brackets are text",
			src:  "a < b % c %> d <",
			want: []Node{&Text{Pos{1, 1}, "a < b % c %> d <"}},
		},
		{
			name: "server script",
			src:  "<script runat=\"server\">\nfunction f() end\n</script>",
			want: []Node{&Script{Pos{1, 24}, "\nfunction f() end\n"}},
		},
		{
			name: "server script any case, language, spaced close tag",
			src:  "<SCRIPT Language='LUA' RunAt=Server>x()</Script >",
			want: []Node{&Script{Pos{1, 37}, "x()"}},
		},
		{
			name: "server script attributes across lines",
			src:  "<script\n  runat=\"server\"\n  language=\"lua\"\n>f()</script>",
			want: []Node{&Script{Pos{4, 2}, "f()"}},
		},
		{
			name: "nothing is recognized inside a server script",
			src:  `<script runat="server"> s = "<%= x %>" </script>`,
			want: []Node{&Script{Pos{1, 24}, ` s = "<%= x %>" `}},
		},
		{
			name: "server script ends at the first matching close tag",
			src:  `<script runat="server">a</scripts>b</script>c`,
			want: []Node{
				&Script{Pos{1, 24}, "a</scripts>b"},
				&Text{Pos{1, 45}, "c"},
			},
		},
		{
			name: "client script is text and code inside it runs",
			src:  `<script src="<%= url %>">var x = 1;</script>`,
			want: []Node{
				&Text{Pos{1, 1}, `<script src="`},
				&Expr{Pos{1, 17}, " url ", false},
				&Text{Pos{1, 24}, `">var x = 1;</script>`},
			},
		},
		{
			name: "malformed client script tag is text",
			src:  `<script src="x.js`,
			want: []Node{&Text{Pos{1, 1}, `<script src="x.js`}},
		},
		{
			name: "client tag with a stray slash is text",
			src:  `<script / src=x></script>`,
			want: []Node{&Text{Pos{1, 1}, `<script / src=x></script>`}},
		},
		{
			name: "scripts and objects prefix words are text",
			src:  `<scripts runat="server"><objective runat="server">`,
			want: []Node{&Text{Pos{1, 1}, `<scripts runat="server"><objective runat="server">`}},
		},
		{
			name: "object with close tag",
			src:  "x<object runat=\"server\" id=\"cart\" progid=\"Shop.Cart\">\n</object>y",
			want: []Node{
				&Text{Pos{1, 1}, "x"},
				&Object{Pos{1, 2}, "cart", "Shop.Cart"},
				&Text{Pos{2, 10}, "y"},
			},
		},
		{
			name: "self-closing object, unquoted values, scope Page",
			src:  `<OBJECT RUNAT=server ID=d PROGID=Animals.Dog Scope='page'/>`,
			want: []Node{&Object{Pos{1, 1}, "d", "Animals.Dog"}},
		},
		{
			name: "object attributes may span lines",
			src:  "<object\nrunat=\"server\"\nid=\"o\"\nprogid=\"A.B\"\n/>",
			want: []Node{&Object{Pos{1, 1}, "o", "A.B"}},
		},
		{
			name: "client object is text",
			src:  `<object data="movie.swf"></object>`,
			want: []Node{&Text{Pos{1, 1}, `<object data="movie.swf"></object>`}},
		},
		{
			name: "include file",
			src:  `a<!--#include file="inc/header.inc"-->b`,
			want: []Node{
				&Text{Pos{1, 1}, "a"},
				&Include{Pos{1, 2}, "inc/header.inc", false},
				&Text{Pos{1, 39}, "b"},
			},
		},
		{
			name: "include virtual with white space and any case",
			src:  "<!-- #INCLUDE Virtual = '/inc/a b.inc' -->",
			want: []Node{&Include{Pos{1, 1}, "/inc/a b.inc", true}},
		},
		{
			name: "include across lines",
			src:  "<!--\n#include\nfile=\"a.inc\"\n-->\nz",
			want: []Node{
				&Include{Pos{1, 1}, "a.inc", false},
				&Text{Pos{4, 4}, "\nz"},
			},
		},
		{
			name: "other comments are text and code inside them runs",
			src:  "<!-- note --><!-- <%= 1 %> -->",
			want: []Node{
				&Text{Pos{1, 1}, "<!-- note --><!-- "},
				&Expr{Pos{1, 22}, " 1 ", false},
				&Text{Pos{1, 27}, " -->"},
			},
		},
		{
			name: "positions after multi-line text",
			src:  "<p>\n  one\n  two</p>\n    <%= three %>\n\t<% four %>",
			want: []Node{
				&Text{Pos{1, 1}, "<p>\n  one\n  two</p>\n    "},
				&Expr{Pos{4, 8}, " three ", false},
				&Text{Pos{4, 17}, "\n\t"},
				&Code{Pos{5, 4}, " four "},
			},
		},
		{
			name: "CRLF line endings",
			src:  "<p>\r\n<% a %>\r\n<%= b\r\n%>\r\n",
			want: []Node{
				&Text{Pos{1, 1}, "<p>\r\n"},
				&Code{Pos{2, 3}, " a "},
				&Text{Pos{2, 8}, "\r\n"},
				&Expr{Pos{3, 4}, " b\r\n", false},
				&Text{Pos{4, 3}, "\r\n"},
			},
		},
		{
			name: "directive is not a node and splits text",
			src:  "\n<%@ Language=\"Lua\" %>\n<p>",
			want: []Node{
				&Text{Pos{1, 1}, "\n"},
				&Text{Pos{2, 22}, "\n<p>"},
			},
		},
		{
			name: "non-ASCII text counts columns in bytes",
			src:  "é<%=x%>",
			want: []Node{
				&Text{Pos{1, 1}, "é"},
				&Expr{Pos{1, 6}, "x", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("t.lasp", tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(f.Nodes, tt.want) {
				t.Errorf("nodes:\n%s\nwant:\n%s", dump(f.Nodes), dump(tt.want))
			}
			if f.Name != "t.lasp" {
				t.Errorf("Name = %q, want t.lasp", f.Name)
			}
			checkSpans(t, tt.src, f)
		})
	}
}

func TestParseDirectives(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want Directives
	}{
		{
			name: "none",
			src:  "<p>",
			want: Directives{},
		},
		{
			name: "all, quoted",
			src:  `<%@ Language="Lua" EnableSessionState="ReadOnly" ContentType="text/plain" Charset="utf-8" %>`,
			want: Directives{EnableSessionState: "ReadOnly", ContentType: "text/plain", Charset: "utf-8"},
		},
		{
			name: "names and values case-insensitive, normalized",
			src:  `<%@ LANGUAGE=lua enablesessionstate=readonly %>`,
			want: Directives{EnableSessionState: "ReadOnly"},
		},
		{
			name: "single quotes, spaces around =, no spaces inside block",
			src:  `<%@EnableSessionState = 'false' Charset= ' iso-8859-1 '%>`,
			want: Directives{EnableSessionState: "False", Charset: "iso-8859-1"},
		},
		{
			name: "True",
			src:  `<%@ EnableSessionState=TRUE %>`,
			want: Directives{EnableSessionState: "True"},
		},
		{
			name: "unquoted value may hold = and ;",
			src:  `<%@ ContentType=text/html;charset=utf-8 %>`,
			want: Directives{ContentType: "text/html;charset=utf-8"},
		},
		{
			name: "several blocks after white space, spanning lines",
			src:  "\r\n  <%@ Language=Lua %>\n<%@\n  EnableSessionState=\"False\"\n  ContentType=\"application/json\"\n%>{}",
			want: Directives{EnableSessionState: "False", ContentType: "application/json"},
		},
		{
			name: "Transaction, any case",
			src:  `<%@ TRANSACTION = requires_new %>`,
			want: Directives{Transaction: "Requires_New"},
		},
		{
			name: "after a byte order mark",
			src:  "\uFEFF<%@ Charset=\"utf-8\" %>",
			want: Directives{Charset: "utf-8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("t.lasp", tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Directives != tt.want {
				t.Errorf("Directives = %+v, want %+v", f.Directives, tt.want)
			}
			checkSpans(t, tt.src, f)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		msg  string // the message must contain this
	}{
		// Code blocks.
		{"unclosed code", "a\n\n<% x = 1\n\n", 3, "unclosed <% block"},
		{"unclosed expr", "a\n<%= x\n", 2, "unclosed <%= block"},
		{"unclosed raw expr", "<%- x", 1, "unclosed <%- block"},
		{"unclosed directive", "\n<%@ Language=Lua", 2, "unclosed <%@ directive"},
		{"percent of opener is not a closer", "<%>", 1, "unclosed <% block"},
		{"empty expr", "\n<%= %>", 2, "empty expression"},
		{"blank raw expr across lines", "<%-\n\t\n%>", 1, "empty expression"},
		{"empty expr no space", "<%=%>", 1, "empty expression"},

		// Directives.
		{"unknown directive", "<%@ Transactional=Required %>", 1, "unknown directive Transactional"},
		{"bad transaction", "<%@ Transaction=Always %>", 1, `invalid Transaction "Always" (want Not_Supported, Supported, Required or Requires_New)`},
		{"bad session state", "<%@ EnableSessionState=Maybe %>", 1, "invalid EnableSessionState"},
		{"bad language", "<%@ Language=VBScript %>", 1, "unsupported Language"},
		{"empty content type", `<%@ ContentType="" %>`, 1, "non-empty"},
		{"blank charset", `<%@ Charset="  " %>`, 1, "non-empty"},
		{"name twice in one block", "<%@ Language=Lua\n language=lua %>", 2, "given twice"},
		{"name twice across blocks", "<%@ Charset=a %>\n<%@ CHARSET=b %>", 2, "given twice (first on line 1)"},
		{"attribute without value", "<%@\nLanguage %>", 2, "needs a value"},
		{"missing value after =", "<%@ Language= %>", 1, "missing value"},
		{"unterminated quote", "<%@ Language=\"Lua %>", 1, "unterminated quoted value"},
		{"stray quote", "<%@ \"Lua\" %>", 1, "expected attribute name"},
		{"empty directive", "<%@ %>", 1, "empty directive"},
		{"bad attribute on later line", "<%@ Language=Lua\n\n Bogus=1 %>", 3, "unknown directive Bogus"},
		{"after text", "<p>\n<%@ Language=Lua %>", 2, "directive must come before any output"},
		{"after code", "<% x() %>\n<%@ Language=Lua %>", 2, "directive must come before any output"},
		{"after expr", "<%= x %><%@ Language=Lua %>", 1, "directive must come before any output"},
		{"after script", "<script runat=server></script>\n\n<%@ Language=Lua %>", 3, "directive must come before any output"},
		{"after object", "<object runat=server id=o progid=A/>\n<%@ Language=Lua %>", 2, "directive must come before any output"},
		{"after include", "<!--#include file=\"a.inc\"-->\n<%@ Language=Lua %>", 2, "directive must come before any output"},
		{"after empty code", "<%%><%@ Language=Lua %>", 1, "directive must come before any output"},
		{"byte order mark not at start", " \uFEFF<%@ Language=Lua %>", 1, "directive must come before any output"},

		// Server scripts.
		{"unclosed script", "\n<script runat=\"server\">\nf()\n", 2, "unclosed <script runat=\"server\"> block"},
		{"unclosed script tag", "<script\nrunat=\"server\"", 1, "unclosed <script> tag"},
		{"script bad runat", "<script runat=\"clinet\"></script>", 1, `runat must be "server"`},
		{"script runat without value", "<script runat></script>", 1, `runat must be "server"`},
		{"script bad language", "<script runat=server\n language=vbscript></script>", 2, "unsupported script language"},
		{"script unknown attribute", "<script runat=server\n\n type=\"text/lua\"></script>", 3, "unknown attribute type"},
		{"script duplicate attribute", "<script runat=server RUNAT=server></script>", 1, "attribute RUNAT given twice"},
		{"script unterminated runat value", "<script runat=\"server></script>", 1, "unterminated quoted value for runat"},
		{"script self-closing", "<script runat=server />", 1, "needs a closing </script>"},

		// Server objects.
		{"object missing id", "<object runat=server progid=A.B></object>", 1, "needs an id"},
		{"object missing progid", "\n<object runat=server id=x></object>", 2, "needs a progid"},
		{"object empty progid", "<object runat=server id=x progid=\"\"></object>", 1, "empty progid"},
		{"object bad id", "<object runat=server id=\"9lives\" progid=A/>", 1, "not a Lua identifier"},
		{"object dotted id", "<object runat=server id=\"a.b\" progid=A/>", 1, "not a Lua identifier"},
		{"object empty id", "<object runat=server id=\"\" progid=A/>", 1, "not a Lua identifier"},
		{"object keyword id", "<object runat=server id=end progid=A/>", 1, "is a Lua keyword"},
		{"object unknown attribute", "<object runat=server id=x progid=A\n classid=\"clsid:1\"/>", 2, "unknown attribute classid"},
		{"object session scope", "<object runat=server scope=Session id=x progid=A/>", 1, `object scope "Session" is not allowed in a page`},
		{"object attribute without value", "<object runat=server id progid=A/>", 1, "attribute id needs a value"},
		{"object duplicate attribute", "<object runat=server id=a id=b progid=A/>", 1, "attribute id given twice"},
		{"object duplicate id", "<object runat=server id=a progid=A/>\n<object runat=server id=a progid=B/>", 2, `object id "a" declared twice (first on line 1)`},
		{"object content", "<object runat=server id=a progid=A>\n  hi\n</object>", 2, "only white space"},
		{"object unclosed", "\n<object runat=server id=a progid=A>\n", 2, "missing </object>"},
		{"object unclosed tag", "<object runat=server id=a", 1, "unclosed <object> tag"},
		{"object bad runat", "<object runat=client id=a progid=A/>", 1, `runat must be "server"`},
		{"object stray slash", "<object runat=server / id=a progid=A/>", 1, "expected attribute name"},
		{"malformed tag before runat", "<object / runat=server id=a progid=A/>", 1, "expected attribute name"},
		{"unterminated value before runat", "<script\n src=\"x runat=server>", 2, "unterminated quoted value for src"},

		// Includes.
		{"include unknown kind", "\n<!--#include page=\"a.inc\"-->", 2, `unknown include kind "page"`},
		{"include no kind", "<!--#include \"a.inc\"-->", 1, "expected file= or virtual="},
		{"include no =", "<!--#include file \"a.inc\"-->", 1, "expected = after file"},
		{"include unquoted", "<!--#include file=a.inc-->", 1, "must be quoted"},
		{"include empty path", "<!--#include virtual=\"\"-->", 1, "empty include path"},
		{"include unterminated path", "<!--#include file=\"a.inc-->\n", 1, "unclosed include directive"},
		{"include unclosed", "a\n<!--#include file=\"a.inc\"", 2, "unclosed include directive"},
		{"include bad ending", "<!--#include file=\"a.inc\" ->", 1, "expected -->"},
		{"include ends early", "\n<!--#include file", 2, "unclosed include directive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("dir/t.lasp", tt.src)
			if err == nil {
				t.Fatalf("Parse succeeded with nodes:\n%s", dump(f.Nodes))
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if pe.Name != "dir/t.lasp" || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("error = %q (line %d), want line %d containing %q", err, pe.Line, tt.line, tt.msg)
			}
			if want := fmt.Sprintf("dir/t.lasp:%d: %s", pe.Line, pe.Msg); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
			if pe.Msg != strings.ToLower(pe.Msg[:1])+pe.Msg[1:] || strings.HasSuffix(pe.Msg, "\n") {
				t.Errorf("message %q should start lowercase and have no trailing newline", pe.Msg)
			}
		})
	}
}

func TestErrorColumn(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
	}{
		{"unclosed block at its <%", "ab\n  <% x", 2, 3},
		{"bad directive value at its name", "<%@ Language=Lua\n   Charset=\"\" %>", 2, 4},
		{"object content at the first non-space byte", "<object runat=server id=a progid=A>\n  x</object>", 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.lasp", tt.src)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if pe.Line != tt.line || pe.Col != tt.col {
				t.Errorf("error at %d:%d, want %d:%d (%v)", pe.Line, pe.Col, tt.line, tt.col, err)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	err := &Error{Name: "cart/x.lasp", Line: 3, Col: 1, Msg: "unclosed <% block"}
	if got, want := err.Error(), "cart/x.lasp:3: unclosed <% block"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestPosition(t *testing.T) {
	nodes := []Node{
		&Text{Pos: Pos{1, 2}}, &Code{Pos: Pos{3, 4}}, &Expr{Pos: Pos{5, 6}},
		&Script{Pos: Pos{7, 8}}, &Object{Pos: Pos{9, 10}}, &Include{Pos: Pos{11, 12}},
	}
	for i, n := range nodes {
		if want := (Pos{2*i + 1, 2*i + 2}); n.Position() != want {
			t.Errorf("%T.Position() = %v, want %v", n, n.Position(), want)
		}
	}
}

// checkSpans checks the position contract of a parsed file: every Text,
// Code, Expr and Script string is the exact source at its position, nodes
// come in order without overlapping, and their newlines never exceed the
// source's. It returns the number of newlines the nodes hold.
func checkSpans(t *testing.T, src string, f *File) int {
	t.Helper()
	lineStart := scan.LineStarts(src) // lines end as Lua ends them
	offset := func(p Pos) int {
		if p.Line < 1 || p.Line > len(lineStart) || p.Col < 1 {
			t.Fatalf("position %v outside the source", p)
		}
		return lineStart[p.Line-1] + p.Col - 1
	}
	prevEnd, newlines := 0, 0
	for _, n := range f.Nodes {
		off := offset(n.Position())
		if off < prevEnd || off > len(src) {
			t.Fatalf("%T at %v overlaps the previous node or lies past the end", n, n.Position())
		}
		s, ok := nodeText(n)
		if !ok {
			prevEnd = off + 1
			continue
		}
		if !strings.HasPrefix(src[off:], s) {
			t.Fatalf("%T at %v: text %q is not the source there", n, n.Position(), s)
		}
		prevEnd = off + len(s)
		newlines += strings.Count(s, "\n")
	}
	if total := strings.Count(src, "\n"); newlines > total {
		t.Fatalf("nodes hold %d newlines, source has %d", newlines, total)
	}
	return newlines
}

// nodeText returns the source text a node holds, if it holds any.
func nodeText(n Node) (string, bool) {
	switch n := n.(type) {
	case *Text:
		return n.Text, true
	case *Code:
		return n.Code, true
	case *Expr:
		return n.Code, true
	case *Script:
		return n.Code, true
	}
	return "", false
}

// pieces are fragments of valid pages for TestRandomSpans, each with the
// number of its newlines that lie inside a tag or directive rather than in a
// Text, Code, Expr or Script node.
var pieces = []struct {
	src    string
	hidden int
}{
	{"<p>", 0}, {"\n", 0}, {"\r\n", 0}, {"text ", 0}, {"< ", 0}, {"% ", 0},
	{">", 0}, {"%>", 0}, {"<!-- c -->", 0}, {"<% x = 1 %>", 0},
	{"<%\nfor i = 1, 3 do\n%>", 0}, {"<% end %>", 0}, {"<%= x %>", 0},
	{"<%-\n y\n%>", 0}, {"<%%>", 0}, {"<script>", 0}, {"</script>", 0},
	{"<script runat=\"server\">\nfunction f()\nend\n</script>", 0},
	{"<SCRIPT RUNAT=SERVER\nlanguage='Lua'></SCRIPT\n>", 2},
	{"<!--#include file=\"a.inc\"-->", 0},
	{"<!--\n#include virtual=\"/b.inc\"\n-->", 2},
	{"<object data=x>", 0},
}

// TestRandomSpans builds valid pages from fragments and checks that the
// nodes account for every line of each: a line is either inside a node's
// text or inside a tag or directive.
func TestRandomSpans(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var b strings.Builder
		hidden := 0
		if i%3 == 0 {
			b.WriteString(" \n<%@ Language=Lua\n EnableSessionState=False %>\n")
			hidden++
		}
		for range r.IntN(12) {
			p := pieces[r.IntN(len(pieces))]
			b.WriteString(p.src)
			hidden += p.hidden
		}
		if i%5 == 0 {
			fmt.Fprintf(&b, "<object runat=server\n id=o%d progid=A.B>\n</object>", i)
			hidden += 2
		}
		src := b.String()
		f, err := Parse("r.lasp", src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		if got, want := checkSpans(t, src, f), strings.Count(src, "\n")-hidden; got != want {
			t.Fatalf("Parse(%q): nodes hold %d newlines, want %d", src, got, want)
		}
	}
}
