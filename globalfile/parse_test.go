package globalfile

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"lasp/internal/scan"
)

// specExample is the example global file of SPEC section 4.
const specExample = `<object runat="server" scope="Application" id="g_morris" progid="Animals.Cat"></object>
<object runat="server" scope="Session"     id="s_fido"   progid="Animals.Dog"></object>
<object runat="server" scope="Page"        id="p_polly"  progid="Animals.Parrot"></object>

<script runat="server" language="lua">
function Application_OnStart() Application["started"] = os.time() end
function Session_OnStart()     Session["visits"] = 0 end
function Session_OnEnd()       end
function Application_OnEnd()   end
</script>
`

// specCode is the code of specExample's script block.
const specCode = `
function Application_OnStart() Application["started"] = os.time() end
function Session_OnStart()     Session["visits"] = 0 end
function Session_OnEnd()       end
function Application_OnEnd()   end
`

// specObjects are the objects of specExample.
var specObjects = []Object{
	{Pos: Pos{1, 1}, ID: "g_morris", ProgID: "Animals.Cat", Scope: Application},
	{Pos: Pos{2, 1}, ID: "s_fido", ProgID: "Animals.Dog", Scope: Session},
	{Pos: Pos{3, 1}, ID: "p_polly", ProgID: "Animals.Parrot", Scope: Page},
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		objects []Object
		scripts []Script
	}{
		{
			name: "empty",
			src:  "",
		},
		{
			name: "white space only",
			src:  " \t\r\n\f\v\n",
		},
		{
			name: "byte order mark and white space",
			src:  "\uFEFF\r\n",
		},
		{
			name:    "SPEC example",
			src:     specExample,
			objects: specObjects,
			scripts: []Script{{Pos: Pos{5, 39}, Code: specCode}},
		},
		{
			name:    "SPEC example with CRLF line endings",
			src:     crlf(specExample),
			objects: specObjects,
			scripts: []Script{{Pos: Pos{5, 39}, Code: crlf(specCode)}},
		},
		{
			name: "comments holding tags are ignored",
			src: "<!-- <object runat=\"server\" scope=\"Session\" id=\"x\" progid=\"A.B\"></object> -->\n" +
				"<!--\n<script runat=server>\n<% x %> hello\n-->\n" +
				"<object runat=server scope=page id=x progid=A.B/>",
			objects: []Object{{Pos: Pos{6, 1}, ID: "x", ProgID: "A.B", Scope: Page}},
		},
		{
			name: "comment that mentions an include later is a comment",
			src:  `<!-- not here: <!--#include file="a.inc"-->`,
		},
		{
			name: "empty comments",
			src:  "<!----><!-- -->",
		},
		{
			name:    "byte order mark before a tag",
			src:     "\uFEFF<object runat=server scope=page id=a progid=A/>",
			objects: []Object{{Pos: Pos{1, 4}, ID: "a", ProgID: "A", Scope: Page}},
		},
		{
			name:    "self-closing, unquoted values, upper case",
			src:     `<OBJECT RUNAT=Server SCOPE=SESSION ID=Cart PROGID=Shop.Cart/>`,
			objects: []Object{{Pos: Pos{1, 1}, ID: "Cart", ProgID: "Shop.Cart", Scope: Session}},
		},
		{
			name:    "self-closing with space, unquoted value",
			src:     `<object runat=server scope=application id=c progid=Lasp.Counters />`,
			objects: []Object{{Pos: Pos{1, 1}, ID: "c", ProgID: "Lasp.Counters", Scope: Application}},
		},
		{
			name:    "single quotes, spaces around =, trimmed values",
			src:     `<object runat = ' server ' scope = ' application ' id = 'c' progid = ' Lasp.Counters ' ></object>`,
			objects: []Object{{Pos: Pos{1, 1}, ID: "c", ProgID: "Lasp.Counters", Scope: Application}},
		},
		{
			name:    "tag across lines, spaced close tag",
			src:     "\n  <object\n\trunat=\"server\"\n\tscope=\"Page\"\n\tid=\"p\"\n\tprogid=\"A_1.B2\"\n  >\n  </OBJECT >\n",
			objects: []Object{{Pos: Pos{2, 3}, ID: "p", ProgID: "A_1.B2", Scope: Page}},
		},
		{
			name: "ids are case-sensitive, as in Lua",
			src:  "<object runat=server scope=page id=cart progid=A/>\n<object runat=server scope=page id=Cart progid=A/>\n<object runat=server scope=session id=session progid=A/>",
			objects: []Object{
				{Pos: Pos{1, 1}, ID: "cart", ProgID: "A", Scope: Page},
				{Pos: Pos{2, 1}, ID: "Cart", ProgID: "A", Scope: Page},
				{Pos: Pos{3, 1}, ID: "session", ProgID: "A", Scope: Session},
			},
		},
		{
			name:    "identifier forms",
			src:     "<object runat=server scope=page id=_x9 progid=_.9/><object runat=server scope=page id=__las progid=a/>",
			objects: []Object{{Pos{1, 1}, "_x9", "_.9", Page}, {Pos{1, 52}, "__las", "a", Page}},
		},
		{
			name:    "script any case, no language, spaced close tag",
			src:     `<SCRIPT RunAt="SERVER">x = 1</Script >`,
			scripts: []Script{{Pos: Pos{1, 24}, Code: "x = 1"}},
		},
		{
			name:    "script language any case",
			src:     "<script language='LUA' runat=server>\n</script>",
			scripts: []Script{{Pos: Pos{1, 37}, Code: "\n"}},
		},
		{
			name:    "script tag across lines",
			src:     "<script\n  runat=\"server\"\n  language=\"lua\"\n>f()</script>",
			scripts: []Script{{Pos: Pos{4, 2}, Code: "f()"}},
		},
		{
			name:    "nothing is recognized inside a script",
			src:     `<script runat=server>s = "<object runat=server></object> <% %> <!-- --> <p>"</script>`,
			scripts: []Script{{Pos: Pos{1, 22}, Code: `s = "<object runat=server></object> <% %> <!-- --> <p>"`}},
		},
		{
			name:    "a script ends at the first matching close tag",
			src:     "<script runat=server>a</scripts>b</script\n>",
			scripts: []Script{{Pos: Pos{1, 22}, Code: "a</scripts>b"}},
		},
		{
			name:    "empty script",
			src:     "<script runat=server></script>",
			scripts: []Script{{Pos: Pos{1, 22}, Code: ""}},
		},
		{
			name: "two scripts on one line",
			src:  "<script runat=server>a()</script><script runat=server>b()</script>",
			scripts: []Script{
				{Pos: Pos{1, 22}, Code: "a()"},
				{Pos: Pos{1, 55}, Code: "b()"},
			},
		},
		{
			name: "objects and scripts interleaved, in file order",
			src: "<script runat=server>\nfunction Application_OnStart() end\n</script>\n" +
				"<!-- a counter -->\n<object runat=server scope=application id=hits progid=Lasp.Counters/>\n" +
				"<script runat=server>\nfunction Session_OnStart() end\n</script>\n" +
				"<object runat=server scope=session id=dict progid=Lasp.Dictionary></object>\n",
			objects: []Object{
				{Pos: Pos{5, 1}, ID: "hits", ProgID: "Lasp.Counters", Scope: Application},
				{Pos: Pos{9, 1}, ID: "dict", ProgID: "Lasp.Dictionary", Scope: Session},
			},
			scripts: []Script{
				{Pos: Pos{1, 22}, Code: "\nfunction Application_OnStart() end\n"},
				{Pos: Pos{6, 22}, Code: "\nfunction Session_OnStart() end\n"},
			},
		},
		{
			name:    "non-ASCII bytes count as columns",
			src:     "<!-- é -->  <object runat=server scope=page id=a progid=A/>",
			objects: []Object{{Pos: Pos{1, 14}, ID: "a", ProgID: "A", Scope: Page}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("global.lasa", tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Name != "global.lasa" {
				t.Errorf("Name = %q, want global.lasa", f.Name)
			}
			if !reflect.DeepEqual(f.Objects, tt.objects) {
				t.Errorf("Objects = %+v\nwant %+v", f.Objects, tt.objects)
			}
			if !reflect.DeepEqual(f.Scripts, tt.scripts) {
				t.Errorf("Scripts = %+v\nwant %+v", f.Scripts, tt.scripts)
			}
			checkFile(t, tt.src, f)
		})
	}
}

func TestParseErrors(t *testing.T) {
	obj := func(attrs string) string { return "<object runat=server scope=page " + attrs + "/>" }
	tests := []struct {
		name string
		src  string
		line int
		msg  string // the message must contain this
	}{
		// What a global file may hold.
		{name: "text", src: "\n\nhello", line: 3, msg: `text "hello" is not allowed: a global file holds only`},
		{name: "text after an object", src: obj("id=a progid=A") + "\nx", line: 2, msg: `text "x" is not allowed`},
		{name: "long text is cut", src: strings.Repeat("é", 30), line: 1, msg: `text "éééééééééé..." is not allowed`},
		{name: "text stops at the line end", src: "hello\r\nworld", line: 1, msg: `text "hello" is not allowed`},
		{name: "text is cut on a rune boundary", src: "a" + strings.Repeat("é", 30), line: 1, msg: `text "aééééééééé..." is not allowed`},
		{name: "lone <", src: "< 3", line: 1, msg: `text "< 3" is not allowed`},
		{name: "non-ASCII space", src: "\u00a0", line: 1, msg: "is not allowed"},
		{name: "byte order mark not at the start", src: " \uFEFF", line: 1, msg: "is not allowed"},
		{name: "html tag", src: "<html>", line: 1, msg: "<html> tag is not allowed"},
		{name: "closing tag", src: "\n</body>", line: 2, msg: "</body> tag is not allowed"},
		{name: "doctype", src: "<!DOCTYPE html>", line: 1, msg: "<!DOCTYPE> tag is not allowed"},
		{name: "tag named like object", src: "<objects runat=server>", line: 1, msg: "<objects> tag is not allowed"},
		{name: "code block", src: "\n<% x = 1 %>", line: 2, msg: "<% %> blocks are not allowed in a global file"},
		{name: "expression block", src: "<%= x %>", line: 1, msg: "<% %> blocks are not allowed"},
		{name: "directive", src: "<%@ Language=Lua %>", line: 1, msg: "<% %> blocks are not allowed"},
		{name: "include", src: "\n<!--#include file=\"a.inc\"-->", line: 2, msg: "#include is not allowed in a global file"},
		{name: "include spaced, any case", src: "<!-- \n#INCLUDE virtual=\"/a.inc\" -->", line: 1, msg: "#include is not allowed"},
		{name: "stray </object>", src: "</object>", line: 1, msg: "</object> without an opening tag"},
		{name: "stray </script>", src: "\n</SCRIPT >", line: 2, msg: "</SCRIPT> without an opening tag"},
		{name: "unclosed comment", src: "\n<!-- x\n\n", line: 2, msg: "unclosed comment: missing -->"},
		{name: "comment ends early", src: "<!-- a --> b -->", line: 1, msg: `text "b -->" is not allowed`},

		// Tags.
		{name: "unclosed tag", src: "\n<object runat=server", line: 2, msg: "unclosed <object> tag: missing >"},
		{name: "unclosed tag before the next", src: "<object runat=server scope=page id=a progid=A\n<script runat=server></script>", line: 1, msg: "unclosed <object> tag: missing >"},
		{name: "unclosed script tag", src: "<script\nrunat=server", line: 1, msg: "unclosed <script> tag"},
		{name: "unterminated quote", src: "<object\n runat='server></object>", line: 2, msg: "unterminated quoted value for runat"},
		{name: "missing value", src: "<object runat= >", line: 1, msg: "missing value for runat"},
		{name: "stray quote", src: `<object runat=server "x">`, line: 1, msg: "expected attribute name, found '\"'"},
		{name: "stray slash", src: "<object / runat=server>", line: 1, msg: "expected attribute name, found '/'"},
		{name: "attribute without value", src: "<object runat=server scope id=a progid=A/>", line: 1, msg: "attribute scope needs a value"},
		{name: "duplicate attribute", src: "<object runat=server scope=page\n SCOPE=session id=a progid=A/>", line: 2, msg: "attribute SCOPE given twice"},

		// Objects.
		{name: "object without runat", src: "<object scope=page id=a progid=A/>", line: 1, msg: `<object> needs runat="server"`},
		{name: "object runat without value", src: "<object runat scope=page id=a progid=A/>", line: 1, msg: `runat must be "server", not ""`},
		{name: "object runat client", src: "\n<object\n runat=client scope=page id=a progid=A/>", line: 3, msg: `runat must be "server", not "client"`},
		{name: "object without scope", src: "\n\n<object runat=server\n id=a progid=A/>", line: 3, msg: "<object> needs a scope attribute: Application, Session or Page"},
		{name: "object without id", src: "<object runat=server scope=page progid=A></object>", line: 1, msg: "<object> needs an id attribute"},
		{name: "object without progid", src: "\n<object runat=server scope=page id=a></object>", line: 2, msg: "<object> needs a progid attribute"},
		{name: "bad scope", src: "<object runat=server scope=Global id=a progid=A/>", line: 1, msg: `scope "Global" is not Application, Session or Page`},
		{name: "empty scope", src: "<object runat=server scope='' id=a progid=A/>", line: 1, msg: `scope "" is not Application`},
		{name: "classid", src: obj("id=a progid=A\n classid=\"clsid:0D43FE01\""), line: 2, msg: "classid is not supported: name the component with progid"},
		{name: "classid instead of progid", src: "<object runat=server scope=page id=a classid=x/>", line: 1, msg: "classid is not supported"},
		{name: "unknown attribute", src: obj("id=a progid=A data=x"), line: 1, msg: "unknown attribute data on <object> (want runat, scope, id and progid)"},
		{name: "id not an identifier", src: obj(`id="9lives" progid=A`), line: 1, msg: `object id "9lives" is not a Lua identifier`},
		{name: "dotted id", src: obj(`id="a.b" progid=A`), line: 1, msg: "not a Lua identifier"},
		{name: "dashed id", src: obj(`id="a-b" progid=A`), line: 1, msg: "not a Lua identifier"},
		{name: "spaced id", src: obj(`id=" a" progid=A`), line: 1, msg: "not a Lua identifier"},
		{name: "non-ASCII id", src: obj(`id="é" progid=A`), line: 1, msg: "not a Lua identifier"},
		{name: "empty id", src: obj(`id="" progid=A`), line: 1, msg: `object id "" is not a Lua identifier`},
		{name: "keyword id", src: obj("id=end progid=A"), line: 1, msg: `object id "end" is a Lua keyword`},
		{name: "goto id", src: obj("id=goto progid=A"), line: 1, msg: "is a Lua keyword"},
		{name: "id Request", src: obj("id=Request progid=A"), line: 1, msg: `object id "Request" is the name of an intrinsic object`},
		{name: "id Response", src: obj("id=Response progid=A"), line: 1, msg: "intrinsic"},
		{name: "id Server", src: obj("id=Server progid=A"), line: 1, msg: "intrinsic"},
		{name: "id Session", src: obj("id=Session progid=A"), line: 1, msg: "intrinsic"},
		{name: "id Application", src: obj("id=Application progid=A"), line: 1, msg: "intrinsic"},
		{name: "id __lasp", src: obj("id=__lasp progid=A"), line: 1, msg: `object id "__lasp" is reserved: ids starting with __lasp belong to Lasp`},
		{name: "id __lasp prefix", src: obj("id=__lasp_env progid=A"), line: 1, msg: "is reserved"},
		{name: "empty progid", src: obj(`id=a progid=""`), line: 1, msg: "empty progid"},
		{name: "blank progid", src: obj(`id=a progid="  "`), line: 1, msg: "empty progid"},
		{name: "progid with slash", src: obj(`id=a progid="../x"`), line: 1, msg: `progid "../x" may hold only letters, digits, "." and "_"`},
		{name: "progid with space", src: obj(`id=a progid="A B"`), line: 1, msg: "may hold only letters"},
		{name: "non-ASCII progid", src: obj(`id=a progid="Animals.Dög"`), line: 1, msg: "may hold only letters"},
		{name: "progid with leading dot", src: obj(`id=a progid=".A"`), line: 1, msg: `progid ".A" has an empty name between dots`},
		{name: "progid with trailing dot", src: obj(`id=a progid="A."`), line: 1, msg: "empty name between dots"},
		{name: "progid with double dot", src: obj(`id=a progid="A..B"`), line: 1, msg: "empty name between dots"},
		{name: "duplicate id", src: obj("id=a progid=A") + "\n\n" + obj("id=a progid=B"), line: 3, msg: `object id "a" declared twice (first on line 1)`},
		{name: "duplicate id across scripts and comments, CRLF", src: "\r\n" + obj("id=x progid=A") + "\r\n<script runat=server>\r\n</script>\r\n<!--\r\n-->\r\n<object runat=server\r\n scope=session\r\n id=x progid=A/>", line: 9, msg: `object id "x" declared twice (first on line 2)`},
		{name: "text inside object", src: "<object runat=server scope=page id=a progid=A>\n  hi\n</object>", line: 2, msg: "only white space may appear between <object> and </object>"},
		{name: "comment inside object", src: "<object runat=server scope=page id=a progid=A><!-- x --></object>", line: 1, msg: "only white space may appear"},
		{name: "unclosed object", src: "\n<object runat=server scope=page id=a progid=A>\n", line: 2, msg: "unclosed <object> tag: missing </object> (or />)"},
		{name: "unclosed object before another", src: "<object runat=server scope=page id=a progid=A>\n<object runat=server scope=page id=b progid=A></object>", line: 1, msg: "missing </object>"},
		{name: "unclosed object before a script", src: "<object runat=server scope=page id=a progid=A>\n<script runat=server></script></object>", line: 1, msg: "missing </object>"},
		{name: "object close tag without >", src: "<object runat=server scope=page id=a progid=A></object", line: 1, msg: "missing </object>"},

		// Scripts.
		{name: "script without runat", src: "<script>x()</script>", line: 1, msg: `<script> needs runat="server"`},
		{name: "client script", src: "\n<script type=\"text/javascript\" src=\"a.js\"></script>", line: 2, msg: `<script> needs runat="server"`},
		{name: "script runat client", src: "<script runat=client></script>", line: 1, msg: `runat must be "server", not "client"`},
		{name: "script bad language", src: "<script runat=server\n language=vbscript></script>", line: 2, msg: `unsupported script language "vbscript" (only lua)`},
		{name: "script language without value", src: "<script runat=server language></script>", line: 1, msg: "attribute language needs a value"},
		{name: "script unknown attribute", src: "<script runat=server\n\n src=x.lua></script>", line: 3, msg: `unknown attribute src on <script runat="server">`},
		{name: "script duplicate attribute", src: "<script runat=server RUNAT=server></script>", line: 1, msg: "attribute RUNAT given twice"},
		{name: "script self-closing", src: "<script runat=server />", line: 1, msg: "needs a closing </script> tag, not />"},
		{name: "unclosed script", src: "\n\n<script runat=\"server\">\nfunction f()\nend\n", line: 3, msg: `unclosed <script runat="server"> block: missing </script>`},
		{name: "unclosed script, close tag without >", src: "<script runat=server>x</script", line: 1, msg: "unclosed <script"},
		{name: "close tag inside a Lua string ends the script", src: "<script runat=server>\ns = \"</script>\"\n</script>", line: 2, msg: `text "\"" is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("global.lasa", tt.src)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", f)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if pe.Name != "global.lasa" || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("error = %q (line %d), want line %d containing %q", err, pe.Line, tt.line, tt.msg)
			}
			checkError(t, tt.src, "global.lasa", pe)
		})
	}
}

// checkError checks the contract of a parse error: it points inside src,
// Error() reads "name:line: msg", and msg is lowercase without a trailing
// newline.
func checkError(t *testing.T, src, name string, pe *Error) {
	t.Helper()
	starts := scan.LineStarts(src) // lines end as Lua ends them
	end := len(src)
	if pe.Line >= 1 && pe.Line < len(starts) {
		end = starts[pe.Line]
	}
	if pe.Line < 1 || pe.Line > len(starts) || pe.Col < 1 || starts[pe.Line-1]+pe.Col-1 > end {
		t.Fatalf("error at %d:%d lies outside the input (%d lines): %v", pe.Line, pe.Col, len(starts), pe)
	}
	if want := fmt.Sprintf("%s:%d: %s", name, pe.Line, pe.Msg); pe.Error() != want {
		t.Fatalf("Error() = %q, want %q", pe.Error(), want)
	}
	if pe.Msg == "" || 'A' <= pe.Msg[0] && pe.Msg[0] <= 'Z' || strings.HasSuffix(pe.Msg, "\n") {
		t.Fatalf("message %q should start lowercase and have no trailing newline", pe.Msg)
	}
}

func TestErrorColumn(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
	}{
		{name: "text at its first byte", src: "\n   x", line: 2, col: 4},
		{name: "bad attribute at its name", src: "<object runat=server\n   scope=x id=a progid=A/>", line: 2, col: 4},
		{name: "duplicate id at the second id", src: "<object runat=server scope=page id=a progid=A/>\n  <object runat=server scope=page id=a progid=A/>", line: 2, col: 35},
		{name: "missing attribute at the tag", src: "  <object runat=server scope=page id=a/>", line: 1, col: 3},
		{name: "object content at its first byte", src: "<object runat=server scope=page id=a progid=A>\n  x</object>", line: 2, col: 3},
		{name: "text at the start of the file", src: "x = 1\n", line: 1, col: 1},
		{name: "unclosed script at the opening tag", src: "\t<script runat=server>\n", line: 1, col: 2},
		{name: "after a byte order mark", src: "\uFEFFx", line: 1, col: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("global.lasa", tt.src)
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
	err := &Error{Name: "global.lasa", Line: 3, Col: 1, Msg: "empty progid"}
	if got, want := err.Error(), "global.lasa:3: empty progid"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestScopeString(t *testing.T) {
	tests := []struct {
		scope Scope
		want  string
	}{
		{scope: Application, want: "Application"},
		{scope: Session, want: "Session"},
		{scope: Page, want: "Page"},
		{scope: 0, want: "Scope(0)"},
		{scope: 9, want: "Scope(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.scope.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestScriptLines checks that a caller can keep every line of a script on
// its line of the file: Pos.Line-1 newlines before Code put each line of
// code where it was, whatever the line endings.
func TestScriptLines(t *testing.T) {
	for _, src := range []string{specExample, crlf(specExample)} {
		f, err := Parse("global.lasa", src)
		if err != nil {
			t.Fatal(err)
		}
		s := f.Scripts[0]
		rebuilt := strings.Split(strings.Repeat("\n", s.Pos.Line-1)+s.Code, "\n")
		lines := strings.Split(src, "\n")
		for n := 6; n <= 9; n++ { // the lines of code
			if rebuilt[n-1] != lines[n-1] {
				t.Errorf("rebuilt line %d = %q, want %q", n, rebuilt[n-1], lines[n-1])
			}
		}
	}
}

func TestLuaChunk(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{
			name: "no scripts",
			src:  "<object runat=server scope=page id=a progid=A/>",
			want: "",
		},
		{
			name: "SPEC example",
			src:  specExample,
			want: "\n\n\n\n" + specCode,
		},
		{
			name: "scripts on separate lines",
			src:  "<script runat=server>a()\nb()</script>\n\n<object runat=server scope=page id=o progid=A\n/>\n<script runat=server>\nc()\n</script>",
			want: "a()\nb()\n\n\n\n\nc()\n",
		},
		{
			name: "scripts on one line",
			src:  "<script runat=server>a()</script> <script runat=server>b()</script>",
			want: "a() b()",
		},
		{
			name: "lines ended by CR, LF CR and CR LF, as Lua ends them",
			src:  "<script runat=server>a()\rb()</script>\r\n\n\r<object runat=server scope=page id=o progid=A\r/>\r<script runat=server>\rc()\r</script>",
			want: "a()\nb()\n\n\n\n\nc()\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("global.lasa", tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.LuaChunk(); got != tt.want {
				t.Errorf("LuaChunk() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLuaChunkOfHandBuiltFile(t *testing.T) {
	f := &File{Scripts: []Script{{Pos: Pos{3, 1}, Code: "a\nb\nc"}, {Pos: Pos{1, 1}, Code: "d"}}}
	if got, want := f.LuaChunk(), "\n\na\nb\nc d"; got != want {
		t.Errorf("LuaChunk() = %q, want %q", got, want)
	}
}

// checkFile checks the position contract of a parsed file: every object's
// Pos is the "<" of an <object> tag, every script's Code is the exact
// source at its Pos just after a ">", both come in file order, and every
// object is valid.
func checkFile(t *testing.T, src string, f *File) {
	t.Helper()
	lineStart := scan.LineStarts(src) // lines end as Lua ends them
	offset := func(p Pos) int {
		if p.Line < 1 || p.Line > len(lineStart) || p.Col < 1 {
			t.Fatalf("position %v outside the source", p)
		}
		off := lineStart[p.Line-1] + p.Col - 1
		if off > len(src) || p.Line < len(lineStart) && off >= lineStart[p.Line] {
			t.Fatalf("position %v outside its line", p)
		}
		return off
	}
	prev := -1
	for _, o := range f.Objects {
		off := offset(o.Pos)
		if off <= prev || !strings.HasPrefix(strings.ToLower(src[off:]), "<object") {
			t.Fatalf("object %+v: no <object> tag there, or out of order", o)
		}
		prev = off
		if !scan.IsLuaIdentifier(o.ID) || scan.IsLuaKeyword(o.ID) || intrinsics[o.ID] || o.ProgID == "" || o.Scope < Application || o.Scope > Page {
			t.Fatalf("invalid object %+v", o)
		}
	}
	end := 0
	for _, s := range f.Scripts {
		off := offset(s.Pos)
		if off < end || off == 0 || src[off-1] != '>' || !strings.HasPrefix(src[off:], s.Code) {
			t.Fatalf("script at %v: code %q is not the source there, or out of order", s.Pos, s.Code)
		}
		end = off + len(s.Code)
	}
}
