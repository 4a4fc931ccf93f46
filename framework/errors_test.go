package framework

import (
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// errorCase is a page that fails, and where the failure must be reported.
type errorCase struct {
	name  string
	files map[string]string // the application
	path  string            // the URL path requested

	file      string   // the file the error is in
	line      int      // its line there
	kind      string   // "runtime error" or "compile error"
	msg       string   // a substring of the message, as plain text
	src       string   // line `line` of file, as it is on disk
	chain     []string // "file:line" entries that must be shown with the error (include chain or traceback)
	traceback bool     // a Lua traceback is expected
}

var errorLocationCases = []errorCase{
	{
		name:      "runtime error in a page",
		files:     map[string]string{"page_rt.lasp": "<h1>Title</h1>\n<% local n = nil %>\n<% n.field = 1 %>\n<p>after</p>\n"},
		path:      "/page_rt.lasp",
		file:      "page_rt.lasp",
		line:      3,
		kind:      "runtime error",
		msg:       "attempt to index",
		src:       "<% n.field = 1 %>",
		traceback: true,
	},
	{
		name:      "error() in a page",
		files:     map[string]string{"dir/raiser.lasp": "a\nb\n\n<%\n  local x = 1\n  error(\"custom failure \" .. x)\n%>\n"},
		path:      "/dir/raiser.lasp",
		file:      "dir/raiser.lasp",
		line:      6,
		kind:      "runtime error",
		msg:       "custom failure 1",
		src:       `  error("custom failure " .. x)`,
		traceback: true,
	},
	{
		name: "runtime error in an include",
		files: map[string]string{
			"incpage.lasp":  "<p>top</p>\n<!--#include file=\"inc/part.inc\"-->\n<p>bottom</p>\n",
			"inc/part.inc":  "part line 1\npart line 2\n<% error(\"failure in the include\") %>\n",
			"unrelated.inc": "nothing",
		},
		path:      "/incpage.lasp",
		file:      "inc/part.inc",
		line:      3,
		kind:      "runtime error",
		msg:       "failure in the include",
		src:       `<% error("failure in the include") %>`,
		chain:     []string{"incpage.lasp:2"},
		traceback: true,
	},
	{
		name: "runtime error in a nested include",
		files: map[string]string{
			"nested.lasp":   "\n\n<!--#include virtual=\"/inc/outer.inc\"-->\n",
			"inc/outer.inc": "outer\n<!--#include file=\"inner.inc\"-->\n",
			"inc/inner.inc": "inner\n<% local t = {} %>\n<%= t.a.b %>\n",
		},
		path:      "/nested.lasp",
		file:      "inc/inner.inc",
		line:      3,
		kind:      "runtime error",
		msg:       "attempt to index",
		src:       "<%= t.a.b %>",
		chain:     []string{"nested.lasp:3", "inc/outer.inc:2"},
		traceback: true,
	},
	{
		name:      "runtime error in a CRLF page",
		files:     map[string]string{"crlf.lasp": "a\r\nb\r\n<% error(\"failure in a CRLF file\") %>\r\nc\r\n"},
		path:      "/crlf.lasp",
		file:      "crlf.lasp",
		line:      3,
		kind:      "runtime error",
		msg:       "failure in a CRLF file",
		src:       `<% error("failure in a CRLF file") %>`,
		traceback: true,
	},
	{
		name: "runtime error in an include with CR line endings, included from a CR page",
		files: map[string]string{
			"cr.lasp":   "a\rb\r<% local x = 1\r  local y = 2 %>\r<!--#include file=\"cr.inc\"-->\rc\r",
			"cr.inc":    "one\rtwo\r<% error(\"failure in a CR file\") %>\rthree\r",
			"other.inc": "",
		},
		path:      "/cr.lasp",
		file:      "cr.inc",
		line:      3,
		kind:      "runtime error",
		msg:       "failure in a CR file",
		src:       `<% error("failure in a CR file") %>`,
		traceback: true,
		chain:     []string{"cr.lasp:5"},
	},
	{
		name:      "runtime error in an expression among text",
		files:     map[string]string{"expr.lasp": "<p>\n<%= 1 %>\n<b><%= \n  missing.field %></b>\n</p>\n"},
		path:      "/expr.lasp",
		file:      "expr.lasp",
		line:      4,
		kind:      "runtime error",
		msg:       "attempt to index",
		src:       "  missing.field %></b>",
		traceback: true,
	},
	{
		name:      "runtime error after a byte order mark and a directive",
		files:     map[string]string{"bom.lasp": "\xef\xbb\xbf<%@ Language=\"Lua\" %>\n\n<% error(\"failure after a BOM\") %>\n"},
		path:      "/bom.lasp",
		file:      "bom.lasp",
		line:      3,
		kind:      "runtime error",
		msg:       "failure after a BOM",
		src:       `<% error("failure after a BOM") %>`,
		traceback: true,
	},
	{
		name:      "runtime error in top-level code of a script block",
		files:     map[string]string{"scripttop.lasp": "text\n<script runat=\"server\">\nlocal a = 1\nlocal b = nil .. \"x\"\n</script>\n"},
		path:      "/scripttop.lasp",
		file:      "scripttop.lasp",
		line:      4,
		kind:      "runtime error",
		msg:       "concat",
		src:       `local b = nil .. "x"`,
		traceback: true,
	},
	{
		name: "runtime error in a function of an include's script block",
		files: map[string]string{
			"incscript.lasp": "<!--#include file=\"s.inc\"-->\n<% g() %>\n",
			"s.inc":          "<script runat=\"server\">\nfunction g()\n  error(\"failure in g\")\nend\n</script>\n",
		},
		path:      "/incscript.lasp",
		file:      "s.inc",
		line:      3,
		kind:      "runtime error",
		msg:       "failure in g",
		src:       `  error("failure in g")`,
		chain:     []string{"incscript.lasp:2"},
		traceback: true,
	},
	{
		name: "runtime error in the second inclusion of a file",
		files: map[string]string{
			"twice.lasp": "<!--#include file=\"t.inc\"-->\n<!--#include file=\"t.inc\"-->\n",
			"t.inc":      "<% n = (n or 0) + 1 if n == 2 then error(\"second time\") end %>",
		},
		path:      "/twice.lasp",
		file:      "t.inc",
		line:      1,
		kind:      "runtime error",
		msg:       "second time",
		src:       `<% n = (n or 0) + 1 if n == 2 then error("second time") end %>`,
		chain:     []string{"twice.lasp:2"},
		traceback: true,
	},
	{
		name:  "compile error in a page",
		files: map[string]string{"syntax.lasp": "<html>\n<body>\n<% local x = 1 %>\n<% if x then %>\n"},
		path:  "/syntax.lasp",
		file:  "syntax.lasp",
		line:  4,
		kind:  "compile error",
		msg:   "syntax error",
		src:   "<% if x then %>",
	},
	{
		name:  "compile error on a later line of a block",
		files: map[string]string{"syntax2.lasp": "<%\nlocal a = 1\nlocal b = = 2\n%>\n"},
		path:  "/syntax2.lasp",
		file:  "syntax2.lasp",
		line:  3,
		kind:  "compile error",
		msg:   "syntax error",
		src:   "local b = = 2",
	},
	{
		name: "compile error in an include",
		files: map[string]string{
			"incsyntax.lasp": "one\ntwo\n<!--#include file=\"broken.inc\"-->\n",
			"broken.inc":     "b1\n<% while do %>\n",
		},
		path:  "/incsyntax.lasp",
		file:  "broken.inc",
		line:  2,
		kind:  "compile error",
		msg:   "syntax error",
		src:   "<% while do %>",
		chain: []string{"incsyntax.lasp:3"},
	},
	{
		name:  "unclosed code block",
		files: map[string]string{"unclosed.lasp": "a\n\n<% x = 1\nmore text\n"},
		path:  "/unclosed.lasp",
		file:  "unclosed.lasp",
		line:  3,
		kind:  "compile error",
		msg:   "unclosed <% block",
		src:   "<% x = 1",
	},
	{
		name:  "bad directive",
		files: map[string]string{"directive.lasp": "\n<%@ Transactional=\"Required\" %>\nbody\n"},
		path:  "/directive.lasp",
		file:  "directive.lasp",
		line:  2,
		kind:  "compile error",
		msg:   "unknown directive Transactional",
		src:   `<%@ Transactional="Required" %>`,
	},
	{
		name:  "missing include file",
		files: map[string]string{"sub/missing.lasp": "a\nb\n<!--#include file=\"nope.inc\"-->\n"},
		path:  "/sub/missing.lasp",
		file:  "sub/missing.lasp",
		line:  3,
		kind:  "compile error",
		msg:   "sub/nope.inc",
		src:   `<!--#include file="nope.inc"-->`,
	},
	{
		name: "missing nested include",
		files: map[string]string{
			"missing2.lasp": "<!--#include file=\"inc/a.inc\"-->\n",
			"inc/a.inc":     "a1\na2\n<!--#include virtual=\"/inc/gone.inc\"-->\n",
		},
		path:  "/missing2.lasp",
		file:  "inc/a.inc",
		line:  3,
		kind:  "compile error",
		msg:   "inc/gone.inc",
		src:   `<!--#include virtual="/inc/gone.inc"-->`,
		chain: []string{"missing2.lasp:1"},
	},
	{
		name: "include cycle",
		files: map[string]string{
			"cycle.lasp": "<!--#include file=\"inc/x.inc\"-->\n",
			"inc/x.inc":  "x1\n<!--#include file=\"y.inc\"-->\n",
			"inc/y.inc":  "y1\ny2\n<!--#include file=\"x.inc\"-->\n",
		},
		path:  "/cycle.lasp",
		file:  "inc/y.inc",
		line:  3,
		kind:  "compile error",
		msg:   "include cycle",
		src:   `<!--#include file="x.inc"-->`,
		chain: []string{"cycle.lasp:1", "inc/x.inc:2"},
	},
	{
		name:  "include outside the root",
		files: map[string]string{"outside.lasp": "\n<!--#include file=\"../../etc/passwd\"-->\n"},
		path:  "/outside.lasp",
		file:  "outside.lasp",
		line:  2,
		kind:  "compile error",
		msg:   "outside the application root",
		src:   `<!--#include file="../../etc/passwd"-->`,
	},
	{
		name: "runtime error in a lib module",
		files: map[string]string{
			"usesmod.lasp": "<% local m = require(\"x\") %>\n<% m.f() %>\n",
			"lib/x.lua":    "local M = {}\nfunction M.f()\n  error(\"failure in the module\")\nend\nreturn M\n",
		},
		path:      "/usesmod.lasp",
		file:      "lib/x.lua",
		line:      3,
		kind:      "runtime error",
		msg:       "failure in the module",
		src:       `  error("failure in the module")`,
		chain:     []string{"usesmod.lasp:2"},
		traceback: true,
	},
	{
		name: "error while a lib module loads",
		files: map[string]string{
			"loadmod.lasp":       "\n<% require(\"pkg.loader\") %>\n",
			"lib/pkg/loader.lua": "local t = {}\nlocal v = t.a.b\nreturn t\n",
		},
		path:      "/loadmod.lasp",
		file:      "lib/pkg/loader.lua",
		line:      2,
		kind:      "runtime error",
		msg:       "attempt to index",
		src:       "local v = t.a.b",
		chain:     []string{"loadmod.lasp:2"},
		traceback: true,
	},
	{
		name: "compile error in a lib module",
		files: map[string]string{
			"badmod.lasp": "<% require(\"bad\") %>\n",
			"lib/bad.lua": "local x = 1\nif then\nreturn x\n",
		},
		path: "/badmod.lasp",
		file: "lib/bad.lua",
		line: 2,
		kind: "compile error",
		msg:  "syntax error",
		src:  "if then",
	},
	{
		name:      "error in a function of a script block",
		files:     map[string]string{"script.lasp": "<script runat=\"server\">\nfunction f()\n  local t = nil\n  return t.z\nend\n</script>\nbody\n<% f() %>\n"},
		path:      "/script.lasp",
		file:      "script.lasp",
		line:      4,
		kind:      "runtime error",
		msg:       "attempt to index",
		src:       "  return t.z",
		chain:     []string{"script.lasp:8"},
		traceback: true,
	},
	{
		name: "error in a page run by Server.Execute",
		files: map[string]string{
			"caller.lasp":  "x\n<% Server.Execute(\"callee.lasp\") %>\n",
			"callee.lasp":  "c1\n\n<% error(\"failure in the callee\") %>\n",
			"innocent.inc": "",
		},
		path:      "/caller.lasp",
		file:      "callee.lasp",
		line:      3,
		kind:      "runtime error",
		msg:       "failure in the callee",
		src:       `<% error("failure in the callee") %>`,
		chain:     []string{"caller.lasp:2"},
		traceback: true,
	},
	{
		name: "compile error in a page run by Server.Execute",
		files: map[string]string{
			"caller2.lasp": "<% Server.Execute(\"callee2.lasp\") %>\n",
			"callee2.lasp": "\n<% if then %>\n",
		},
		path: "/caller2.lasp",
		file: "callee2.lasp",
		line: 2,
		kind: "compile error",
		msg:  "syntax error",
		src:  "<% if then %>",
	},
	{
		name: "error in a page run by Server.Transfer",
		files: map[string]string{
			"from.lasp": "<% Server.Transfer(\"to.lasp\") %>\n",
			"to.lasp":   "t1\n<% error(\"failure after transfer\") %>\n",
		},
		path:      "/from.lasp",
		file:      "to.lasp",
		line:      2,
		kind:      "runtime error",
		msg:       "failure after transfer",
		src:       `<% error("failure after transfer") %>`,
		traceback: true,
	},
	{
		name:      "a page that executes itself",
		files:     map[string]string{"self.lasp": "a\n<% Server.Execute(\"self.lasp\") %>\n"},
		path:      "/self.lasp",
		file:      "self.lasp",
		line:      2,
		kind:      "runtime error",
		msg:       "Server.Execute: pages nested more than 16 deep (does self.lasp run itself?)",
		src:       `<% Server.Execute("self.lasp") %>`,
		traceback: true,
	},
	{
		name:      "HTML in the message",
		files:     map[string]string{"xss.lasp": "\n<% error(\"<img src=x onerror=alert(1)> & <b>bold</b>\") %>\n"},
		path:      "/xss.lasp",
		file:      "xss.lasp",
		line:      2,
		kind:      "runtime error",
		msg:       "<img src=x onerror=alert(1)> & <b>bold</b>",
		src:       `<% error("<img src=x onerror=alert(1)> & <b>bold</b>") %>`,
		traceback: true,
	},
}

// lastErrorLasp is a 500.lasp that reports where the error was.
const lastErrorLasp = `<% local e = Server.GetLastError() %><%- e.File .. ":" .. e.Line .. " " .. e.Description %>`

// TestErrorLocations runs each failing page three ways: in production (a
// generic page with a request ID, details in the log only), in -dev (the
// detailed page), and with an application 500.lasp.
func TestErrorLocations(t *testing.T) {
	for _, c := range errorLocationCases {
		t.Run(c.name, func(t *testing.T) {
			where := c.file + ":" + strconv.Itoa(c.line)

			t.Run("production", func(t *testing.T) {
				a := newApp(t, c.files)
				status, body := a.get(t, c.path)
				if status != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500; body: %.200q", status, body)
				}
				id := pageRequestID(t, body)
				for _, leak := range []string{c.msg, html.EscapeString(c.msg), c.file, c.src, html.EscapeString(c.src),
					"stack traceback", "traceback", ".lasp", ".inc", ".lua", c.kind} {
					if leak != "" && strings.Contains(body, leak) {
						t.Errorf("the generic page shows %q:\n%s", leak, body)
					}
				}
				line := failureLogLine(t, a, id)
				if line["file"] != c.file || line["line"] != float64(c.line) || line["kind"] != c.kind {
					t.Errorf("log: file %v line %v kind %v, want %s:%d %s\n%v", line["file"], line["line"], line["kind"], c.file, c.line, c.kind, line)
				}
				if err, _ := line["err"].(string); !strings.Contains(err, c.msg) || !strings.HasPrefix(err, where+": ") {
					t.Errorf("log err %q, want %q and %q", err, where+": ", c.msg)
				}
				raw := failureLogRaw(t, a, id)
				for _, ch := range c.chain {
					if !strings.Contains(raw, ch) {
						t.Errorf("log does not show %s:\n%s", ch, raw)
					}
				}
			})

			t.Run("dev", func(t *testing.T) {
				a := newApp(t, c.files, func(cfg *Config) { cfg.Dev = true })
				status, body := a.get(t, c.path)
				if status != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500; body: %.200q", status, body)
				}
				pageRequestID(t, body)
				if m := devMessage.FindStringSubmatch(body); m == nil || !strings.Contains(html.UnescapeString(m[1]), c.msg) {
					t.Errorf("dev page does not show the message %q:\n%s", c.msg, body)
				}
				if c.msg != html.EscapeString(c.msg) && strings.Contains(body, c.msg) {
					t.Errorf("dev page shows the message unescaped:\n%s", body)
				}
				if !strings.Contains(body, "<code>"+where+"</code>") {
					t.Errorf("dev page does not show %s:\n%s", where, body)
				}
				if !strings.Contains(body, c.kind) {
					t.Errorf("dev page does not say %q", c.kind)
				}
				n, text, ok := currentSourceLine(body)
				if !ok {
					t.Errorf("dev page marks no source line:\n%s", body)
				} else if n != c.line || html.UnescapeString(text) != c.src {
					t.Errorf("dev page marks line %d %q, want %d %q", n, html.UnescapeString(text), c.line, c.src)
				}
				if got := strings.Contains(body, "stack traceback:"); got != c.traceback {
					t.Errorf("dev page shows a traceback: %v, want %v\n%s", got, c.traceback, body)
				}
				for _, ch := range c.chain {
					if !strings.Contains(body, ch) {
						t.Errorf("dev page does not show %s:\n%s", ch, body)
					}
				}
			})

			t.Run("500.lasp", func(t *testing.T) {
				files := map[string]string{"500.lasp": lastErrorLasp}
				for k, v := range c.files {
					files[k] = v
				}
				a := newApp(t, files)
				status, body := a.get(t, c.path)
				if status != http.StatusInternalServerError {
					t.Errorf("status %d, want 500", status)
				}
				if !strings.HasPrefix(body, where+" ") || !strings.Contains(body, c.msg) {
					t.Errorf("500.lasp wrote %.200q, want %q followed by the message %q", body, where+" ", c.msg)
				}
			})
		})
	}
}

// TestErrorPages covers error responses that are not about locations.
func TestErrorPages(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		config func(*Config)
		method string
		path   string
		ctype  string
		body   string

		status   int
		want     string   // the body exactly, when not empty
		contains []string // substrings of the body
		excludes []string // strings the body must not contain
		generic  bool     // the generic error page, with a request ID
		log      []string // substrings of the log
	}{
		{
			name: "500.lasp that fails",
			files: map[string]string{
				"500.lasp": "partial output of 500.lasp<% error(\"the error page fails too\") %>",
				"p.lasp":   `<% error("first failure") %>`,
			},
			path:     "/p.lasp",
			status:   500,
			generic:  true,
			excludes: []string{"partial output", "first failure", "fails too"},
			log:      []string{"500.lasp failed", "first failure", "the error page fails too"},
		},
		{
			name: "500.lasp that does not compile",
			files: map[string]string{
				"500.lasp": "<% if then %>",
				"p.lasp":   `<% error("first failure") %>`,
			},
			path:     "/p.lasp",
			status:   500,
			generic:  true,
			excludes: []string{"first failure", "syntax"},
			log:      []string{"500.lasp", "first failure"},
		},
		{
			name: "500.lasp that ends with Response.End",
			files: map[string]string{
				"500.lasp": "sorry<% Response.End() %>not this",
				"p.lasp":   `before<% error("first failure") %>`,
			},
			path:   "/p.lasp",
			status: 500,
			want:   "sorry",
		},
		{
			name: "500.lasp keeps none of the failed page's output or headers",
			files: map[string]string{
				"500.lasp": `[<%= Response.Status %>]`,
				"p.lasp":   `before<% Response.AddHeader("X-Failed", "1") Response.Status = 404 error("x") %>`,
			},
			path:     "/p.lasp",
			status:   500,
			want:     "[500]",
			excludes: []string{"before"},
		},
		{
			name:     "500.lasp is not used in -dev",
			files:    map[string]string{"500.lasp": `custom`, "p.lasp": `<% error("dev failure") %>`},
			config:   func(c *Config) { c.Dev = true },
			path:     "/p.lasp",
			status:   500,
			contains: []string{"dev failure", "p.lasp:1"},
			excludes: []string{"custom"},
		},
		{
			name:     "missing page",
			path:     "/nope.lasp",
			status:   404,
			contains: []string{"Not Found"},
			excludes: []string{"nope.lasp"},
		},
		{
			name:     "missing page with a 500.lasp",
			files:    map[string]string{"500.lasp": `custom`},
			path:     "/dir/nope.lasp",
			status:   404,
			contains: []string{"Not Found"},
			excludes: []string{"custom"},
		},
		{
			name:     "missing page in -dev",
			config:   func(c *Config) { c.Dev = true },
			path:     "/nope.lasp",
			status:   404,
			contains: []string{"Not Found"},
		},
		{
			name:     "body over MaxRequestBody through Request.Form",
			files:    map[string]string{"form.lasp": `<%= Request.Form("a") %>`},
			config:   func(c *Config) { c.MaxRequestBody = 16 },
			method:   "POST",
			path:     "/form.lasp",
			ctype:    "application/x-www-form-urlencoded",
			body:     "a=" + strings.Repeat("x", 100),
			status:   413,
			contains: []string{"Request Entity Too Large"},
			excludes: []string{"xxxx"},
		},
		{
			name:     "multipart body over MaxRequestBody",
			files:    map[string]string{"form.lasp": `<%= Request.Form("a") %>`},
			config:   func(c *Config) { c.MaxRequestBody = 64 },
			method:   "POST",
			path:     "/form.lasp",
			ctype:    bigMultipartType,
			body:     bigMultipartBody,
			status:   413,
			contains: []string{"Request Entity Too Large"},
		},
		{
			name:     "body over MaxRequestBody through Request.Body",
			files:    map[string]string{"body.lasp": `<%= #Request.Body %>`},
			config:   func(c *Config) { c.MaxRequestBody = 16 },
			method:   "POST",
			path:     "/body.lasp",
			ctype:    "text/plain",
			body:     strings.Repeat("y", 100),
			status:   413,
			contains: []string{"Request Entity Too Large"},
		},
		{
			name:   "body over MaxRequestBody through Request.TotalBytes",
			files:  map[string]string{"body.lasp": `<%= Request.TotalBytes %>`},
			config: func(c *Config) { c.MaxRequestBody = 16 },
			method: "POST",
			path:   "/body.lasp",
			ctype:  "text/plain",
			body:   strings.Repeat("y", 100),
			status: 413,
		},
		{
			name:   "body at MaxRequestBody",
			files:  map[string]string{"form.lasp": `<%= #Request.Form("a") %>`},
			config: func(c *Config) { c.MaxRequestBody = 16 },
			method: "POST",
			path:   "/form.lasp",
			ctype:  "application/x-www-form-urlencoded",
			body:   "a=" + strings.Repeat("x", 14),
			status: 200,
			want:   "14",
		},
		{
			name:   "body over MaxRequestBody caught by pcall",
			files:  map[string]string{"form.lasp": `<% local ok = pcall(function() return Request.Form.a end) %>ok=<%= ok %>`},
			config: func(c *Config) { c.MaxRequestBody = 16 },
			method: "POST",
			path:   "/form.lasp",
			ctype:  "application/x-www-form-urlencoded",
			body:   "a=" + strings.Repeat("x", 100),
			// The page handled the failure itself: ASP pages that check
			// for errors get to answer.
			status: 200,
			want:   "ok=false",
		},
		{
			name:     "script timeout",
			files:    map[string]string{"slow.lasp": "\n<% Server.ScriptTimeout = 0.05 while true do end %>"},
			path:     "/slow.lasp",
			status:   500,
			generic:  true,
			excludes: []string{"timeout", "slow.lasp"},
			log:      []string{`"kind":"script timeout"`, `"file":"slow.lasp"`, `"line":2`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var configure []func(*Config)
			if c.config != nil {
				configure = append(configure, c.config)
			}
			a := newApp(t, c.files, configure...)
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			req := newRequest(t, method, a.URL+c.path, c.body)
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			res, body := a.do(t, req)
			if res.StatusCode != c.status {
				t.Errorf("status %d, want %d\nbody:\n%s\nlog:\n%s", res.StatusCode, c.status, body, a.log)
			}
			if c.want != "" && body != c.want {
				t.Errorf("body %q, want %q", body, c.want)
			}
			for _, s := range c.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body does not contain %q:\n%s", s, body)
				}
			}
			for _, s := range c.excludes {
				if strings.Contains(body, s) {
					t.Errorf("body contains %q:\n%s", s, body)
				}
			}
			if c.generic {
				id := pageRequestID(t, body)
				failureLogLine(t, a, id)
			}
			logs := a.log.String()
			for _, s := range c.log {
				if !strings.Contains(logs, s) {
					t.Errorf("log does not contain %q:\n%s", s, logs)
				}
			}
		})
	}
}

// TestErrorAfterFlush: a page that fails after its head was sent keeps its
// status and what it sent; no error page is appended, and the response is
// cut short, so that the client (and any cache) can tell it is incomplete.
func TestErrorAfterFlush(t *testing.T) {
	cases := []struct {
		name string
		page string
		sent string // what the client must have received
	}{
		{"Flush", `sent<% Response.Flush() %>held<% error("late failure") %>`, "sent"},
		{"Buffer false", `<% Response.Buffer = false %>sent<% error("late failure") %>`, "sent"},
		{"Flush with a 500.lasp", `sent<% Response.Flush() %><% error("late failure") %>`, "sent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"p.lasp": c.page}
			if strings.Contains(c.name, "500.lasp") {
				files["500.lasp"] = "custom error page"
			}
			a := newApp(t, files)
			res, err := a.Client().Get(a.URL + "/p.lasp")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, readErr := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200 (sent before the failure)", res.StatusCode)
			}
			if string(b) != c.sent {
				t.Errorf("body %q, want %q and nothing more", b, c.sent)
			}
			if !strings.Contains(a.log.String(), "late failure") {
				t.Errorf("the failure is not logged:\n%s", a.log)
			}
			if readErr == nil {
				t.Errorf("the response ended cleanly: a client cannot tell that %q is incomplete", b)
			}
		})
	}
}

// pageRequestID returns the request ID an error page shows.
func pageRequestID(t *testing.T, body string) string {
	t.Helper()
	m := requestIDInPage.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no request ID in the error page:\n%s", body)
	}
	return m[1]
}

var requestIDInPage = regexp.MustCompile(`Request ID: <code>([0-9a-f]+-[0-9]+)</code>`)

// failureLogLine returns the "page failed" log line of request id.
func failureLogLine(t *testing.T, a *app, id string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, line := range apiLogLines(t, a) {
		if line["request_id"] == id && line["level"] == "ERROR" {
			found = append(found, line)
		}
	}
	if len(found) == 0 {
		t.Fatalf("no error log line with request_id %s:\n%s", id, a.log)
	}
	return found[0]
}

// failureLogRaw returns the raw text of the error log lines of request id.
func failureLogRaw(t *testing.T, a *app, id string) string {
	t.Helper()
	var b strings.Builder
	for _, l := range strings.Split(a.log.String(), "\n") {
		if strings.Contains(l, `"request_id":"`+id+`"`) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// currentSourceLine finds the source line the dev page marks as current.
func currentSourceLine(body string) (int, string, bool) {
	m := currentRow.FindStringSubmatch(body)
	if m == nil {
		return 0, "", false
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[2], true
}

// devMessage finds the message on the dev error page.
var devMessage = regexp.MustCompile(`(?s)<pre class="message">(.*?)</pre>`)

// devFailure gets path from a (-dev), which must answer 500 with the dev
// error page, and returns that page's message, unescaped, and the page.
func devFailure(t *testing.T, a *app, path string) (msg, body string) {
	t.Helper()
	status, body := a.get(t, path)
	if status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", status)
	}
	m := devMessage.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no message on the dev page:\n%s", body)
	}
	return html.UnescapeString(m[1]), body
}

var currentRow = regexp.MustCompile(`<tr class="current"[^>]*><td class="n">(\d+)</td><td>(.*?)</td></tr>`)

// A multipart body larger than 64 bytes.
var bigMultipartType, bigMultipartBody = func() (string, string) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	w.WriteField("a", strings.Repeat("z", 200))
	w.Close()
	return w.FormDataContentType(), b.String()
}()

// TestIncludeSymlinkOut: an include whose file is a symbolic link out of
// the root is a compile error at the include's line, shown on the -dev
// page like any other, and its target is never read.
func TestIncludeSymlinkOut(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "app")
	writeTree(t, base, map[string]string{
		"secret.inc":    "top secret",
		"app/page.lasp": "a\n<!--#include file=\"evil.inc\"-->\n",
	})
	if err := os.Symlink(filepath.Join(base, "secret.inc"), filepath.Join(dir, "evil.inc")); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
	a := serveDir(t, dir, func(c *Config) { c.Dev = true })
	status, body := a.get(t, "/page.lasp")
	if status != http.StatusInternalServerError || strings.Contains(body, "top secret") {
		t.Fatalf("status %d, want 500; body: %.300q", status, body)
	}
	if m := devMessage.FindStringSubmatch(body); m == nil || !strings.Contains(html.UnescapeString(m[1]), "include file evil.inc cannot be read") {
		t.Errorf("dev page does not show the include's error:\n%s", body)
	}
	if !strings.Contains(body, "<code>page.lasp:2</code>") || !strings.Contains(body, "compile error") {
		t.Errorf("dev page does not point at page.lasp:2 as a compile error:\n%s", body)
	}
}
