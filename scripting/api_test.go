package scripting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"lasp/scope"
)

// apiCase is one use of the Lua API, run by Engine.Run against the
// in-memory Env of env_test.go: a page, the request it sees, and what must
// come out of it. They need no server, and a failure points at the engine.
// framework's TestLuaAPI keeps over HTTP only what this Env cannot show:
// requests as net/http parses them, status and headers as sent, streaming,
// error pages, log lines and state across requests.
type apiCase struct {
	name string

	// The application: page is the source of the page run (path, default
	// t.lasp); files are more files, slash-separated name → content.
	page  string
	path  string
	files map[string]string

	// The request. REQUEST_METHOD, URL, PATH_INFO, QUERY_STRING,
	// SERVER_NAME and (with form) CONTENT_TYPE are set; vars adds or
	// replaces server variables.
	query   string            // the query string, as sent
	form    string            // an urlencoded form, sent as a POST body
	body    string            // a raw POST body (without form)
	cookies map[string]string // request cookies
	vars    map[string]string
	bodyErr error // reading the body (Form, Body, TotalBytes) fails with it

	// The engine and the Env. Each case has an Application, a lock and a
	// session (testSession) unless env takes them away.
	config   func(*Config)
	env      func(*Env)
	timeout  time.Duration          // Env.ScriptTimeout
	app      map[string]scope.Value // Application contents before the run (stored in map order)
	session  map[string]scope.Value // Session contents before the run (stored in map order)
	declared map[string]string      // global.lasa's Application objects, id → progid (Env.Declared)
	// Session objects kept by a shared store as their state
	// (Env.Kept), id → progid; saved are their states before the
	// run (Kept.Load); inApartment gives them a Kept.Apartment.
	kept        map[string]string
	saved       map[string]scope.Value
	inApartment bool

	// What must come out. With err, the run must fail: err is
	// "file:line: text", text a substring of the message; kind is its kind,
	// includes its include chain. want, status and flushed are checked
	// when the run succeeds or when they are given.
	want       string
	status     int               // zero means 200
	headers    map[string]string // response headers, values joined by ", "
	absent     []string          // response headers that must not be set
	setCookies []string          // cookies set, as formatCookie shows them
	flushed    []string          // the body as it was at each Response.Flush
	log        []string          // substrings of the log (JSON lines)
	err        string
	kind       ErrorKind
	includes   []string
	fails      error                       // the run fails with an error that wraps this one (not a script error)
	wantSaved  map[string]scope.Value      // the states given to Kept.Save
	check      func(t reporter, r *apiRun) // anything else

	// bug, when set, says how the engine fails this case today: a bug
	// found and reported, not fixed here. The case is run and skipped
	// while it fails, and fails once it passes, to have this line removed.
	bug string
}

// apiRun is what running an apiCase gave.
type apiRun struct {
	e       *Engine
	env     *Env
	out     string
	err     error
	resp    *testResponse
	app     *scope.Contents
	lock    *scope.Lock
	session *testSession
	saved   map[string]scope.Value // by Kept.Save
	log     *bytes.Buffer
}

// Pages and components the cases share.
const (
	// testDog counts its instances and their ends in Application.
	testDog = `local Dog = {}
function Dog:Initialize() self.barks = 0 Application["inits"] = (Application["inits"] or 0) + 1 end
function Dog:WoofWoof() self.barks = self.barks + 1 return "Woof #" .. self.barks end
function Dog:Terminate() Application["ends"] = (Application["ends"] or 0) + 1 end
return Dog
`
	// lastErrorPage reports Server.GetLastError.
	lastErrorPage = `<% local e = Server.GetLastError() %><%= e.File %>:<%= e.Line %>|<%= e.Description %>|<%= e.Category %>|<%= e.Source %>|<%= e.RequestID %>`
)

var dogFiles = map[string]string{"components/Animals.Dog.lua": testDog}

// cartFiles hold Shop.Cart, a Lua component kept as its state.
var cartFiles = map[string]string{"components/Shop.Cart.lua": `local Cart = {}
function Cart:Initialize() self.items = 0 end
function Cart:Add(n) self.items = self.items + n return self.items end
function Cart:Hold(v) self.held = v end
function Cart:Terminate() Application["cart ended with"] = self.items end
return Cart
`}

// testTally is a Go component that keeps its state (a Keeper).
type testTally struct{ n float64 }

var _ Keeper = (*testTally)(nil)

func (c *testTally) Call(_ context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	c.n++
	return []scope.Value{c.n}, nil
}

func (c *testTally) Save() (scope.Value, error) { return c.n, nil }

func (c *testTally) Restore(state scope.Value) error {
	n, ok := state.(float64)
	if !ok {
		return errors.New("not a number")
	}
	c.n = n
	return nil
}

func withTally(c *Config) {
	c.Components = []Component{{ProgID: "Test.Tally", Threading: scope.Apartment,
		New: func() (Instance, error) { return &testTally{}, nil }}}
}

// testHorse is an apartment-threaded Go component whose Terminate fails.
type testHorse struct{}

func (testHorse) Call(_ context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	if method == "Gallop" {
		return []scope.Value{"gallop", float64(len(args))}, nil
	}
	return nil, fmt.Errorf("no method %q", method)
}

func (testHorse) Terminate() error { return errors.New("the horse will not stop") }

func withHorse(c *Config) {
	c.Components = []Component{{ProgID: "Animals.Horse", Threading: scope.Apartment,
		New: func() (Instance, error) { return testHorse{}, nil }}}
}

func withTimeout(d time.Duration) func(*Env) { return func(e *Env) { e.ScriptTimeout = d } }

var errTooLarge = errors.New("request body too large")

func TestLuaAPI(t *testing.T) {
	cases := []apiCase{
		// ---- Request.QueryString ----
		{
			name:  "QueryString[k]",
			query: "a=1&b=x&b=y",
			page:  `<%= Request.QueryString["a"] %>|<%= Request.QueryString.b %>|<%= tostring(Request.QueryString["missing"]) %>`,
			want:  "1|x|nil",
		},
		{
			name:  "QueryString:Values and .Values",
			query: "b=x&b=y&b=z",
			page:  `<%= table.concat(Request.QueryString:Values("b"), ",") %>|<%= table.concat(Request.QueryString.Values("b"), ",") %>|<%= #Request.QueryString:Values("missing") %>`,
			want:  "x,y,z|x,y,z|0",
		},
		{
			name:  "QueryString:Keys sorted",
			query: "zeta=1&alpha=2&alpha=3&mid=",
			page:  `<%= table.concat(Request.QueryString:Keys(), ",") %>|<%= table.concat(Request.QueryString.Keys(), ",") %>`,
			want:  "alpha,mid,zeta|alpha,mid,zeta",
		},
		{
			name:  "QueryString.Count",
			query: "a=1&b=2&b=3",
			page:  `<%= Request.QueryString.Count %>`,
			want:  "2",
		},
		{
			name: "QueryString.Count empty",
			page: `<%= Request.QueryString.Count %>`,
			want: "0",
		},
		{
			name:  "QueryString:Item",
			query: "a=1&a=2",
			page:  `<%= Request.QueryString:Item("a") %>|<%= Request.QueryString.Item("a") %>|<%= tostring(Request.QueryString:Item("zz")) %>`,
			want:  "1|1|nil",
		},
		{
			name:  "QueryString(k)",
			query: "a=hello",
			page:  `<%= Request.QueryString("a") %>|<%= tostring(Request.QueryString("zz")) %>`,
			want:  "hello|nil",
		},
		{
			name:  "tostring(QueryString) is the raw query",
			query: "a=1&b=%20x&b=y",
			page:  `<%- tostring(Request.QueryString) %>`,
			want:  "a=1&b=%20x&b=y",
		},
		{
			name:  "QueryString case-insensitive fallback",
			query: "UserName=ann",
			page:  `<%= Request.QueryString["username"] %>|<%= Request.QueryString("USERNAME") %>|<%= table.concat(Request.QueryString:Values("userNAME"), ",") %>`,
			want:  "ann|ann|ann",
		},
		{
			name:  "QueryString exact case first",
			query: "k=lower&K=upper",
			page:  `<%= Request.QueryString.k %>|<%= Request.QueryString.K %>`,
			want:  "lower|upper",
		},
		{
			name:  "QueryString is read-only",
			query: "a=1",
			page:  "\n<% Request.QueryString.a = 'x' %>",
			err:   "t.lasp:2: Request.QueryString.a cannot be set",
		},
		{
			name: "QueryString with a non-string key",
			page: `<%= tostring(Request.QueryString[1]) %>`,
			want: "nil",
		},

		// ---- Request.Form ----
		{
			name: "Form",
			form: "a=1&b=x&b=y&Name=J%C3%BCrg",
			page: `<%= Request.Form["a"] %>|<%= table.concat(Request.Form:Values("b"), ",") %>|<%= Request.Form.Count %>|<%= Request.Form("name") %>|<%= Request.Form:Item("a") %>|<%= table.concat(Request.Form:Keys(), ",") %>`,
			want: "1|x,y|3|Jürg|1|Name,a,b",
		},
		{
			name: "Form read within the run's context",
			form: "a=1",
			page: `<%= Request.Form.a %>|<%= Request.Form.Count %>`,
			want: "1|1",
		},
		{
			name: "Form on a GET is empty",
			page: `<%= Request.Form.Count %>|<%= tostring(Request.Form.a) %>`,
			want: "0|nil",
		},
		{
			// As in ASP, Request.Form without a key is the form data as sent.
			name: "tostring(Form) is the raw form",
			form: "b=2&a=1&b=%20x",
			page: `<%- tostring(Request.Form) %>`,
			want: "b=2&a=1&b=%20x",
		},
		{
			name: "tostring(Form) of a multipart form is encoded",
			form: "b=2&a=1",
			vars: map[string]string{"CONTENT_TYPE": "multipart/form-data; boundary=x"},
			page: `<%- tostring(Request.Form) %>`,
			want: "a=1&b=2",
		},
		{
			name:    "Form that cannot be read",
			form:    "a=1",
			bodyErr: errTooLarge,
			page:    "\n<%= Request.Form.a %>",
			err:     "t.lasp:2: Request.Form: request body too large",
			check:   wantCause(errTooLarge),
		},

		// ---- Request.Cookies ----
		{
			name:    "Cookies[k]",
			cookies: map[string]string{"a": "1", "Theme": "dark"},
			page:    `<%= Request.Cookies["a"] %>|<%= Request.Cookies("Theme") %>|<%= Request.Cookies.theme %>|<%= Request.Cookies.Count %>|<%= tostring(Request.Cookies.none) %>|<%= table.concat(Request.Cookies:Keys(), ",") %>|<%= tostring(Request.Cookies) %>`,
			want:    "1|dark|dark|2|nil|Theme,a|",
		},

		// ---- Request.ServerVariables ----
		{
			name:  "ServerVariables",
			query: "a=1",
			vars:  map[string]string{"HTTP_USER_AGENT": "lasp-test/1.0", "REMOTE_ADDR": "192.0.2.1"},
			page: `<% for _, k in ipairs({"REQUEST_METHOD", "URL", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "REMOTE_ADDR", "HTTP_USER_AGENT"}) do
  Response.Write(k .. "=" .. tostring(Request.ServerVariables[k]) .. "\n")
end %>`,
			want: "REQUEST_METHOD=GET\nURL=/t.lasp\nPATH_INFO=/t.lasp\nQUERY_STRING=a=1\nSERVER_NAME=localhost\nREMOTE_ADDR=192.0.2.1\nHTTP_USER_AGENT=lasp-test/1.0\n",
		},
		{
			name: "ServerVariables case-insensitive and callable",
			path: "sub/t.lasp",
			page: `<%= Request.ServerVariables["request_method"] %>|<%= Request.ServerVariables("Url") %>|<%= Request.ServerVariables.path_info %>|<%= tostring(Request.ServerVariables.NO_SUCH_VAR) %>`,
			want: "GET|/sub/t.lasp|/sub/t.lasp|nil",
		},
		{
			name: "ServerVariables is read-only",
			page: `<% Request.ServerVariables.URL = "/x" %>`,
			err:  "t.lasp:1: Request.ServerVariables.URL cannot be set",
		},

		// ---- Request[k], Request(k) ----
		{
			name:    "Request[k] looks in QueryString, Form, Cookies, ServerVariables",
			query:   "a=query",
			form:    "a=form&b=form",
			cookies: map[string]string{"a": "cookie", "b": "cookie", "c": "cookie"},
			page:    `<%= Request["a"] %>|<%= Request["b"] %>|<%= Request["c"] %>|<%= Request["REQUEST_METHOD"] %>|<%= Request.server_name %>|<%= tostring(Request["zz"]) %>`,
			want:    "query|form|cookie|POST|localhost|nil",
		},
		{
			name:  "Request(k)",
			query: "a=1",
			page:  `<%= Request("a") %>|<%= Request("request_method") %>|<%= tostring(Request("zz")) %>`,
			want:  "1|GET|nil",
		},
		{
			// Request(k) looks up values, not the collections' members.
			name:  "Request(k) with member names",
			query: "Item=x&Count=7",
			page:  `<%= tostring(Request("Item")) %>|<%= tostring(Request("Count")) %>|<%= tostring(Request["Keys"]) %>|<%= tostring(Request("Values")) %>`,
			want:  "x|7|nil|nil",
		},
		{
			name: "Request is read-only",
			page: `<% Request.QueryString = nil %>`,
			err:  "t.lasp:1: Request.QueryString cannot be set",
		},

		// ---- Request.TotalBytes, Request.Body ----
		{
			name: "TotalBytes and Body",
			body: "hello\x00world",
			page: `<%= Request.TotalBytes %>|<%= #Request.Body %>|<%= Request.Body:gsub("%z", "0") %>`,
			want: "11|11|hello0world",
		},
		{
			name: "TotalBytes and Body read within the run's context",
			body: "hello",
			page: `<%= Request.TotalBytes %>|<%= Request.Body %>`,
			want: "5|hello",
		},
		{
			name: "Body then Form",
			form: "a=1",
			page: `<%- Request.Body %>|<%= Request.Form.a %>`,
			want: "a=1|1",
		},
		{
			name: "TotalBytes of a GET",
			page: `<%= Request.TotalBytes %>|<%= Request.Body == "" %>`,
			want: "0|true",
		},
		{
			name:    "Body that cannot be read",
			body:    "x",
			bodyErr: errTooLarge,
			page:    `<%= #Request.Body %>`,
			err:     "t.lasp:1: Request.Body: request body too large",
			check:   wantCause(errTooLarge),
		},
		{
			name:    "TotalBytes that cannot be read",
			body:    "x",
			bodyErr: errTooLarge,
			page:    `<%= Request.TotalBytes %>`,
			err:     "t.lasp:1: Request.TotalBytes: request body too large",
			check:   wantCause(errTooLarge),
		},

		// ---- Response.Write, BinaryWrite, <%= %>, <%- %> ----
		{
			name: "Write",
			page: `<% Response.Write("a") Response:Write("b") Response.Write(42) Response:Write(1.5) Response.Write(nil) Response:Write(nil) Response.Write(true) Response.Write("<raw>") %>`,
			want: "ab421.5true<raw>",
		},
		{
			name: "Write keeps page order",
			page: `1<% Response.Write(2) %>3<%= 4 %><% Response.Write(5) %>`,
			want: "12345",
		},
		{
			name: "expressions escape, raw expressions do not",
			page: `<%= [[&<>"']] %>|<%- "<b>" %>|<%= nil %>|<%= false %>|<%- nil %>`,
			want: "&amp;&lt;&gt;&#34;&#39;|<b>||false|",
		},
		{
			name: "numbers are written as tostring writes them",
			page: `<% for _, x in ipairs({10, -3, 0.5, 2^53, 1e15, 1e100, 1/3, 1/0, -0, -123456789012345}) do %><%= x %>=<%- tostring(x) %>=<%- x %><% Response.Write(x) %> <% end %>`,
			want: "10=10=1010 -3=-3=-3-3 0.5=0.5=0.50.5 9007199254740992=9007199254740992=90071992547409929007199254740992 1000000000000000=1000000000000000=10000000000000001000000000000000 1e+100=1e+100=1e+1001e+100 0.3333333333333333=0.3333333333333333=0.33333333333333330.3333333333333333 +Inf=+Inf=+Inf+Inf 0=0=00 -123456789012345=-123456789012345=-123456789012345-123456789012345 ",
		},
		{
			name: "__tostring of a written table",
			page: `<% local o = setmetatable({}, {__tostring = function() return "<o>" end}) %><%= o %>|<%- o %>|<% Response.Write(o) %>`,
			want: "&lt;o&gt;|<o>|<o>",
		},
		{
			name: "a function call in an expression writes in order",
			page: `a<%= (function() Response.Write("b") return "c" end)() %>d`,
			want: "abcd",
		},
		{
			name: "BinaryWrite",
			page: `<% Response.BinaryWrite(string.char(0, 255, 10)) Response:BinaryWrite("x") %>`,
			want: "\x00\xff\nx",
		},
		{
			name:   "output over the buffer limit",
			config: func(c *Config) { c.MaxOutput = 10 },
			page:   "012345678\n<% Response.Write('x') %>",
			err:    "t.lasp:2: the response buffer is over its limit of 10 bytes",
		},
		{
			name:   "escaped output over the buffer limit",
			config: func(c *Config) { c.MaxOutput = 10 },
			page:   `<%= ("<"):rep(5) %>`,
			err:    "t.lasp:1: the response buffer is over its limit of 10 bytes",
		},
		{
			name:    "Buffer = false is not bounded by the buffer",
			config:  func(c *Config) { c.MaxOutput = 10 },
			page:    `<% Response.Buffer = false for i = 1, 5 do Response.Write("0123456789") end %>`,
			want:    strings.Repeat("0123456789", 5),
			flushed: []string{"", "0123456789", "01234567890123456789", "012345678901234567890123456789", "0123456789012345678901234567890123456789", strings.Repeat("0123456789", 5)},
		},

		// ---- Response.Redirect ----
		{
			name:    "Redirect",
			page:    `before<% Response.Redirect("/elsewhere?a=1&b=2") %>after`,
			status:  302,
			headers: map[string]string{"Location": "/elsewhere?a=1&b=2"},
			want:    `<html><head><title>Object moved</title></head><body><h1>Object Moved</h1>This object may be found <a href="/elsewhere?a=1&amp;b=2">here</a>.</body></html>`,
		},
		{
			name:    "Redirect with colon, inside pcall",
			page:    `<% pcall(function() Response:Redirect("/x") end) %>after`,
			status:  302,
			headers: map[string]string{"Location": "/x"},
			want:    `<html><head><title>Object moved</title></head><body><h1>Object Moved</h1>This object may be found <a href="/x">here</a>.</body></html>`,
		},
		{
			name:    "Redirect to an absolute URL, with colon, inside pcall",
			page:    `<% pcall(function() Response:Redirect("http://example.com/") end) %>after`,
			status:  302,
			headers: map[string]string{"Location": "http://example.com/"},
			want:    `<html><head><title>Object moved</title></head><body><h1>Object Moved</h1>This object may be found <a href="http://example.com/">here</a>.</body></html>`,
		},
		{
			name:   "Redirect with a line break",
			page:   `<% Response.Redirect("/x\r\nSet-Cookie: a=b") %>`,
			err:    "t.lasp:1: Response.Redirect: the URL contains a line break",
			absent: []string{"Location"},
		},
		{
			name:    "Redirect in a coroutine",
			page:    `<% local co = coroutine.create(function() Response.Redirect("/there") end) coroutine.resume(co) %>after`,
			status:  302,
			headers: map[string]string{"Location": "/there"},
			want:    `<html><head><title>Object moved</title></head><body><h1>Object Moved</h1>This object may be found <a href="/there">here</a>.</body></html>`,
		},
		{
			name:    "Redirect after Flush",
			page:    `a<% Response.Flush() Response.Redirect("/x") %>`,
			err:     "t.lasp:1: Response.Redirect: the response headers were already sent",
			flushed: []string{"a"},
		},

		// ---- Response.Status ----
		{
			name:   "Status number",
			page:   `<% Response.Status = 404 %>nf`,
			status: 404,
			want:   "nf",
		},
		{
			name:   "Status string, read back",
			page:   `<% Response.Status = "404 Not Found" %><%= Response.Status %>`,
			status: 404,
			want:   "404",
		},
		{
			name: "Status default",
			page: `<%= Response.Status %>`,
			want: "200",
		},
		{
			name:   "Status given by the Env",
			env:    func(e *Env) { e.Status = 500 },
			page:   `<%= Response.Status %>`,
			status: 500,
			want:   "500",
		},
		{
			name: "Status invalid",
			page: `<% Response.Status = "teapot" %>`,
			err:  "t.lasp:1: Response.Status: invalid status teapot",
		},
		{
			name: "Status out of range",
			page: `<% Response.Status = 99 %>`,
			err:  "t.lasp:1: Response.Status: invalid status 99",
		},
		{
			name: "Status of the wrong type",
			page: `<% Response.Status = true %>`,
			err:  "t.lasp:1: Response.Status: invalid status true",
		},

		// ---- Response.ContentType, Charset, AddHeader ----
		{
			name:    "ContentType",
			page:    `<% Response.ContentType = "text/plain" %><%= Response.ContentType %>`,
			headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			want:    "text/plain",
		},
		{
			name:    "ContentType with charset",
			page:    `<% Response.ContentType = "application/json; charset=latin1" %>{}`,
			headers: map[string]string{"Content-Type": "application/json; charset=latin1"},
			want:    "{}",
		},
		{
			name:    "ContentType and Charset default",
			page:    `<%= Response.ContentType %>|<%= Response.Charset %>`,
			headers: map[string]string{"Content-Type": "text/html; charset=utf-8", "Content-Length": "15"},
			want:    "text/html|utf-8",
		},
		{
			name:    "Charset",
			page:    `<% Response.Charset = "windows-1252" %><%= Response.Charset %>`,
			headers: map[string]string{"Content-Type": "text/html; charset=windows-1252"},
			want:    "windows-1252",
		},
		{
			name:    "empty Charset",
			page:    `<% Response.Charset = "" %>x`,
			headers: map[string]string{"Content-Type": "text/html"},
			want:    "x",
		},
		{
			name: "ContentType of the wrong type",
			page: `<% Response.ContentType = 1 %>`,
			err:  "t.lasp:1: Response.ContentType must be a string, not number",
		},
		{
			name: "Charset with a line break",
			page: `<% Response.Charset = "utf-8\r\nX: y" %>`,
			err:  "t.lasp:1: Response.Charset contains a line break",
		},
		{
			name:    "AddHeader",
			page:    `<% Response.AddHeader("X-Test", "1") Response:AddHeader("X-Test", "2") Response.AddHeader("X-Other", "o") %>ok`,
			headers: map[string]string{"X-Test": "1, 2", "X-Other": "o"},
			want:    "ok",
		},
		{
			name: "AddHeader invalid name",
			page: `<% Response.AddHeader("Bad Name", "1") %>`,
			err:  `t.lasp:1: Response.AddHeader: invalid header "Bad Name"`,
		},
		{
			name:   "AddHeader value with a line break",
			page:   `<% Response.AddHeader("X-A", "1\r\nX-B: 2") %>`,
			err:    `t.lasp:1: Response.AddHeader: invalid header "X-A"`,
			absent: []string{"X-A", "X-B"},
		},
		{
			name:    "AddHeader after Buffer = false",
			page:    `<% Response.Buffer = false %>a<% Response.AddHeader("X-Late", "1") %>b`,
			err:     "t.lasp:1: Response.AddHeader: the response headers were already sent",
			flushed: []string{"", "a"},
			absent:  []string{"X-Late"},
		},
		{
			name:    "Status after Flush",
			page:    `a<% Response.Flush() Response.Status = 404 %>b`,
			err:     "t.lasp:1: Response.Status: the response headers were already sent",
			flushed: []string{"a"},
		},

		// ---- Response.Cookies ----
		{
			name:       "Cookies[name] = value",
			page:       `<% Response.Cookies["a"] = "v" Response.Cookies.n = 42 %><%= Response.Cookies["a"] %>|<%= Response.Cookies.n %>|<%= tostring(Response.Cookies.none) %>`,
			setCookies: []string{"a=v; Path=/", "n=42; Path=/"},
			want:       "v|42|nil",
		},
		{
			name:       "Cookies[name] = table",
			page:       `<% Response.Cookies["t"] = {Value = "v", Path = "/app", Domain = "example.com", Expires = 1000000000, HttpOnly = true, Secure = true, SameSite = "Strict"} %>ok`,
			setCookies: []string{"t=v; Path=/app; Domain=example.com; Expires=2001-09-09T01:46:40Z; HttpOnly; Secure; SameSite=Strict"},
			want:       "ok",
		},
		{
			name:       "Cookies Expires as an HTTP date",
			page:       `<% Response.Cookies.t = {Value = "v", Expires = "Sun, 06 Nov 1994 08:49:37 GMT"} %>`,
			setCookies: []string{"t=v; Path=/; Expires=1994-11-06T08:49:37Z"},
		},
		{
			name: "Cookies Expires that is no date",
			page: `<% Response.Cookies.t = {Value = "v", Expires = "tomorrow"} %>`,
			err:  `t.lasp:1: Response.Cookies["t"].Expires: parsing time`,
		},
		{
			name: "Cookies bad SameSite",
			page: `<% Response.Cookies["t"] = {Value = "v", SameSite = "Sometimes"} %>`,
			err:  `t.lasp:1: Response.Cookies["t"].SameSite must be Lax, Strict or None`,
		},
		{
			name: "Cookies of the wrong type",
			page: `<% Response.Cookies.t = true %>`,
			err:  `t.lasp:1: Response.Cookies["t"] must be a string or a table, not boolean`,
		},
		{
			name:    "Cookies after Flush",
			page:    `a<% Response.Flush() Response.Cookies.late = "1" %>b`,
			err:     "t.lasp:1: Response.Cookies: the response headers were already sent",
			flushed: []string{"a"},
		},

		// ---- Response.Buffer, Flush, Clear, End ----
		{
			name: "Buffer default",
			page: `<%= Response.Buffer %>`,
			want: "true",
		},
		{
			name:    "Buffer = false sends each write",
			page:    `<% Response.Buffer = false %>first<% local x = 1 %>second<%= Response.Buffer %>`,
			want:    "firstsecondfalse",
			flushed: []string{"", "first", "firstsecond", "firstsecondfalse"},
		},
		{
			name: "Buffer of the wrong type",
			page: `<% Response.Buffer = 0 %>`,
			err:  "t.lasp:1: Response.Buffer must be true or false",
		},
		{
			name:    "Flush",
			page:    `one<% Response.Flush() %>two<% Response:Flush() %>three`,
			want:    "onetwothree",
			flushed: []string{"one", "onetwo"},
			absent:  []string{"Content-Length"},
		},
		{
			name:  "Flush that fails",
			page:  "a\n<% Response.Flush() %>",
			env:   func(e *Env) { e.Response.(*testResponse).flushErr = errReset },
			err:   "t.lasp:2: the request was canceled",
			kind:  Canceled,
			check: func(t reporter, r *apiRun) { wantCause(errReset)(t, r); wantFlushed("a\n")(t, r) },
		},
		{
			name: "Clear",
			page: `dropped<% Response.Clear() %>kept`,
			want: "kept",
		},
		{
			name:    "Clear keeps what was flushed",
			page:    `sent<% Response.Flush() %>dropped<% Response:Clear() %>|kept`,
			want:    "sent|kept",
			flushed: []string{"sent"},
		},
		{
			name: "End",
			page: `a<% Response.End() %>b`,
			want: "a",
		},
		{
			name:   "End keeps the status",
			page:   `<% Response.Status = 201 %>a<% Response:End() %>b`,
			status: 201,
			want:   "a",
		},
		{
			name:  "End from an include",
			files: map[string]string{"end.inc": `inc<% Response.End() %>after-inc`},
			page:  "page<!--#include file=\"end.inc\"-->after-page",
			want:  "pageinc",
		},

		// ---- Response.Expires, CacheControl, IsClientConnected, AppendToLog ----
		{
			name:  "Expires",
			page:  `<%= tostring(Response.Expires) %>|<% Response.Expires = 10 %><%= Response.Expires %>`,
			want:  "nil|10",
			check: wantExpires(10 * time.Minute),
		},
		{
			name:  "Expires in the past",
			page:  `<% Response.Expires = -1 %>ok`,
			want:  "ok",
			check: wantExpires(-time.Minute),
		},
		{
			name: "Expires of the wrong type",
			page: `<% Response.Expires = "soon" %>`,
			err:  "t.lasp:1: Response.Expires must be a number of minutes, not string",
		},
		{
			name: "Expires NaN",
			page: `<% Response.Expires = 0/0 %>`,
			err:  "t.lasp:1: Response.Expires must be a number of minutes from -525600 to 525600 (a year), not NaN",
		},
		{
			name: "Expires past a year",
			page: `<% Response.Expires = math.huge %>`,
			err:  "t.lasp:1: Response.Expires must be a number of minutes from -525600 to 525600 (a year), not 1.7976931348623157e+308",
		},
		{
			name: "cookie Expires past year 9999",
			page: `<% Response.Cookies["a"] = {Value = "v", Expires = math.huge} %>`,
			err:  `t.lasp:1: Response.Cookies["a"].Expires must be a Unix time from 0 to 253402300799 (year 9999), not 1.7976931348623157e+308`,
		},
		{
			name:    "CacheControl",
			page:    `<%= Response.CacheControl %>|<% Response.CacheControl = "private, max-age=60" %><%= Response.CacheControl %>`,
			headers: map[string]string{"Cache-Control": "private, max-age=60"},
			want:    "|private, max-age=60",
		},
		{
			name: "IsClientConnected",
			page: `<%= Response.IsClientConnected %>`,
			want: "true",
		},
		{
			name: "unknown Response property",
			page: `<%= tostring(Response.NoSuchThing) %><% Response.NoSuchThing = 1 %>`,
			err:  "t.lasp:1: Response.NoSuchThing cannot be set",
		},
		{
			name: "AppendToLog",
			page: `<% Response.AppendToLog("appended text") %>`,
			log:  []string{`"msg":"AppendToLog"`, `"request_id":"req-1"`, `"page":"t.lasp"`, `"text":"appended text"`},
		},
		{
			name: "tostring of the intrinsic objects",
			page: `<%= tostring(Request) %> <%= tostring(Response) %> <%= tostring(Server) %> <%= tostring(Session) %> <%= tostring(Application) %> <%= tostring(Application.Contents) %>`,
			want: "Request Response Server Session Application Application.Contents",
		},

		// ---- Server ----
		{
			name: "HTMLEncode",
			page: `<%- Server.HTMLEncode([[a&b<c>d"e'f]]) %>|<%- Server:HTMLEncode(42) %>|<%- Server.HTMLEncode(nil) %>`,
			want: "a&amp;b&lt;c&gt;d&#34;e&#39;f|42|",
		},
		{
			name: "URLEncode",
			page: `<%- Server.URLEncode("a b&c=d/é") %>|<%- Server:URLEncode("x") %>`,
			want: "a+b%26c%3Dd%2F%C3%A9|x",
		},
		{
			name:   "MapPath",
			path:   "sub/t.lasp",
			config: func(c *Config) { c.Dir = "/srv/app" },
			page:   `<%- Server.MapPath("/x.txt") %>|<%- Server.MapPath("y.txt") %>|<%- Server:MapPath("../z.txt") %>|<%- Server.MapPath("/") %>`,
			want:   "/srv/app/x.txt|/srv/app/sub/y.txt|/srv/app/z.txt|/srv/app",
		},
		{
			name: "MapPath without a directory",
			path: "sub/t.lasp",
			page: `<%- Server.MapPath("/x.txt") %>|<%- Server.MapPath("y.txt") %>|<%- Server.MapPath("/") %>`,
			want: "/x.txt|/sub/y.txt|/",
		},
		{
			name: "MapPath outside the root",
			page: `<%- Server.MapPath("../../etc/passwd") %>`,
			err:  `t.lasp:1: Server.MapPath: "../../etc/passwd" is outside the application root`,
		},
		{
			name: "MapPath with a backslash",
			page: `<%- Server.MapPath("a\\..\\..\\x") %>`,
			err:  `t.lasp:1: Server.MapPath: "a\\..\\..\\x" is outside the application root`,
		},
		{
			name:  "Execute",
			files: map[string]string{"other.lasp": `<% inner = "set by other" %>[other sees outer=<%= tostring(outer) %>]`},
			page:  `<% outer = 1 %>before<% Server.Execute("other.lasp") %>after inner=<%= tostring(inner) %> outer=<%= outer %>`,
			want:  "before[other sees outer=nil]after inner=nil outer=1",
		},
		{
			name: "Execute relative and from the root",
			path: "sub/t.lasp",
			files: map[string]string{
				"sub/o.lasp": `[sub/o]`,
				"o.lasp":     `[o]`,
			},
			page: `<% Server.Execute("o.lasp") Server:Execute("/o.lasp") Server.Execute("../sub/o.lasp") %>`,
			want: "[sub/o][o][sub/o]",
		},
		{
			name:  "Execute sees the same request",
			files: map[string]string{"other.lasp": `<%= Request.QueryString.a %>`},
			query: "a=q",
			page:  `<% Server.Execute("other.lasp") %>`,
			want:  "q",
		},
		{
			name:  "Execute sets no head of its own",
			files: map[string]string{"other.lasp": `<%@ ContentType="text/plain" %>other`},
			page:  `<% Server.Execute("other.lasp") %>`,
			want:  "other",
			// The executed page's directives do not change the head.
			headers: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "Execute a missing page",
			page: "\n<% Server.Execute(\"nope.lasp\") %>",
			err:  "t.lasp:2: Server.Execute: open nope.lasp: file does not exist",
		},
		{
			name: "Execute outside the root",
			page: `<% Server.Execute("../x.lasp") %>`,
			err:  `t.lasp:1: Server.Execute: "../x.lasp" is outside the application root`,
		},
		{
			name:  "Execute a file that is not a page",
			files: map[string]string{"x.inc": `inc`},
			page:  `<% Server.Execute("x.inc") %>`,
			err:   `t.lasp:1: Server.Execute: "x.inc" is not a .lasp page`,
		},
		{
			name:  "Response.End in an executed page ends the whole page",
			files: map[string]string{"other.lasp": `[other<% Response.End() %>not this]`},
			page:  `before<% Server.Execute("other.lasp") %>after`,
			want:  "before[other",
		},
		{
			name:  "Transfer",
			files: map[string]string{"other.lasp": `[other]`},
			page:  `before<% Server.Transfer("other.lasp") %>after`,
			want:  "before[other]",
		},
		{
			name:  "Transfer with colon, from the root",
			files: map[string]string{"dir/other.lasp": `[other <%= Request.ServerVariables.URL %>]`},
			page:  `<% Server:Transfer("/dir/other.lasp") %>after`,
			want:  "[other /t.lasp]",
		},
		{
			name: "Transfer to a missing page",
			page: `<% Server.Transfer("/nope.lasp") %>`,
			err:  "t.lasp:1: Server.Transfer: open nope.lasp: file does not exist",
		},
		{
			name: "ScriptTimeout default",
			page: `<%= Server.ScriptTimeout %>`,
			want: "90",
		},
		{
			name:   "ScriptTimeout from Config",
			config: func(c *Config) { c.ScriptTimeout = 30 * time.Second },
			page:   `<%= Server.ScriptTimeout %>`,
			want:   "30",
		},
		{
			name:    "ScriptTimeout from the Env",
			config:  func(c *Config) { c.ScriptTimeout = 30 * time.Second },
			timeout: 45 * time.Second,
			page:    `<%= Server.ScriptTimeout %>`,
			want:    "45",
		},
		{
			name: "ScriptTimeout set",
			page: `<% Server.ScriptTimeout = 5 %><%= Server.ScriptTimeout %>|<% Server.ScriptTimeout = 60.5 %><%= Server.ScriptTimeout %>`,
			want: "5|60.5",
		},
		{
			name: "ScriptTimeout invalid",
			page: `<% Server.ScriptTimeout = -1 %>`,
			err:  "t.lasp:1: Server.ScriptTimeout must be a positive number of seconds",
		},
		{
			name: "ScriptTimeout NaN",
			page: `<% Server.ScriptTimeout = 0/0 %>`,
			err:  "t.lasp:1: Server.ScriptTimeout must be a positive number of seconds, at most 86400 (a day), not NaN",
		},
		{
			name: "ScriptTimeout past a day (1e10 would overflow the timer)",
			page: `<% Server.ScriptTimeout = 1e10 %>`,
			err:  "t.lasp:1: Server.ScriptTimeout must be a positive number of seconds, at most 86400 (a day), not 10000000000",
		},
		{
			name: "unknown Server property",
			page: `<%= tostring(Server.Name) %><% Server.Name = "x" %>`,
			err:  "t.lasp:1: Server.Name cannot be set",
		},
		{
			name: "Sleep",
			page: `<% Server.Sleep(0.001) Server:Sleep(0) %>ok`,
			want: "ok",
		},
		{
			name: "Sleep past the script timeout",
			page: "before\n<% Server.ScriptTimeout = 0.05 Server.Sleep(600) %>after",
			err:  "t.lasp:2: the page ran past its script timeout of 50ms",
			kind: Timeout,
		},
		{
			name:    "a loop past the script timeout",
			timeout: 50 * time.Millisecond,
			page:    "\n<% while true do end %>",
			err:     "t.lasp:2: the page ran past its script timeout of 50ms",
			kind:    Timeout,
		},
		{
			name:  "GetLastError in an error page",
			files: map[string]string{"bad.lasp": "line 1\n<% error(\"boom\") %>\n"},
			env: func(e *Env) {
				e.Status = 500
				e.LastError = &Error{Kind: Runtime, File: "bad.lasp", Line: 2, Msg: "boom"}
			},
			page:   lastErrorPage,
			status: 500,
			want:   `bad.lasp:2|boom|Lua runtime error|&lt;% error(&#34;boom&#34;) %&gt;|req-1`,
		},
		{
			name: "GetLastError of a compile error",
			env: func(e *Env) {
				e.LastError = &Error{Kind: Compile, File: "gone.lasp", Line: 3, Msg: "syntax error"}
			},
			page: lastErrorPage,
			want: `gone.lasp:3|syntax error|Lua compile error||req-1`,
		},
		{
			name: "GetLastError outside an error page",
			page: `<% local e = Server:GetLastError() %>[<%= e.File %>][<%= e.Line %>][<%= e.Description %>][<%= e.Category %>][<%= e.RequestID %>]`,
			want: "[][0][][][req-1]",
		},

		// ---- print, pcall, coroutines ----
		{
			name: "print goes to the log",
			page: `<% print("hello from", "the page", 42, nil) %>ok`,
			want: "ok",
			log:  []string{`"msg":"print"`, `"request_id":"req-1"`, `"page":"t.lasp"`, `"text":"hello from\tthe page\t42\tnil"`},
		},
		{
			name: "print without a log",
			env:  func(e *Env) { e.Log = nil },
			page: `<% print("nowhere") Response.AppendToLog("nowhere") %>ok`,
			want: "ok",
		},
		{
			name: "pcall catches an error",
			page: `<% local ok, err = pcall(function() error("boom", 0) end) %><%= tostring(ok) %> <%= err %>|<%= select("#", pcall(error)) %>|<%= tostring(pcall(function() return 1 end)) %>`,
			want: "false boom|2|true",
		},
		{
			name: "pcall catches a runtime error with its position",
			page: "\n<% local ok, err = pcall(function() local x = nil; return x.y end) %><%= ok %>|<%= err:match(\"^t.lasp:2:\") ~= nil %>",
			want: "\nfalse|true",
		},
		{
			name: "xpcall calls its handler",
			page: `<% local ok, v = xpcall(function() error("boom", 0) end, function(e) return "handled " .. e end) %><%= tostring(ok) %> <%= v %>|<%= tostring((xpcall(function() return 1 end, print))) %>`,
			want: "false handled boom|true",
		},
		{
			name: "pcall cannot catch Response.End",
			page: `before<% pcall(function() Response.End() end) %>after`,
			want: "before",
		},
		{
			name: "pcall(Response.End) directly",
			page: `before<% pcall(Response.End) %>after`,
			want: "before",
		},
		{
			name: "xpcall cannot catch Response.End",
			page: `before<% xpcall(function() Response:End() end, function(e) return e end) %>after`,
			want: "before",
		},
		{
			name: "xpcall with a wrapping handler cannot catch Response.End",
			page: `before<% xpcall(function() Response.End() end, function(e) return "wrapped: " .. tostring(e) end) %>after`,
			want: "before",
		},
		{
			name: "coroutine.resume cannot catch Response.End",
			page: `before<% local co = coroutine.create(function() Response.End() end) local ok = coroutine.resume(co) %>after`,
			want: "before",
		},
		{
			name: "coroutine.wrap cannot catch Response.End",
			page: `before<% coroutine.wrap(function() Response.End() end)() %>after`,
			want: "before",
		},
		{
			name: "coroutine.resume reports an ordinary error",
			page: `<% local ok, err = coroutine.resume(coroutine.create(function() error("inside", 0) end)) %><%= tostring(ok) %> <%= err %>`,
			want: "false inside",
		},
		{
			name:    "pcall cannot catch a script timeout",
			timeout: 50 * time.Millisecond,
			page:    `before<% local ok = pcall(function() while true do end end) %>after`,
			err:     "t.lasp:1: the page ran past its script timeout of 50ms",
			kind:    Timeout,
		},
		{
			name:    "pcall cannot catch a timeout in Sleep",
			timeout: 50 * time.Millisecond,
			page:    `<% local ok = pcall(Server.Sleep, 600) %>after`,
			err:     "t.lasp:1: the page ran past its script timeout of 50ms",
			kind:    Timeout,
		},
		{
			name:  "pcall cannot catch a script timeout the page set",
			page:  `<% Server.ScriptTimeout = 0.05 %>before<% local ok = pcall(function() while true do end end) %>after`,
			err:   "t.lasp:1: the page ran past its script timeout of 50ms",
			kind:  Timeout,
			check: wantNoOutput("before", "after"),
		},
		{
			name:  "pcall cannot catch a timeout in Sleep the page set",
			page:  `<% Server.ScriptTimeout = 0.05 %>before<% local ok = pcall(Server.Sleep, 600) %>after`,
			err:   "t.lasp:1: the page ran past its script timeout of 50ms",
			kind:  Timeout,
			check: wantNoOutput("before", "after"),
		},
		{
			name: "error with a table",
			page: `<% error({code = 1}) %>`,
			err:  "t.lasp:1: error object is a table value",
		},
		{
			name: "error at level 0 has no position",
			page: "\n<% error('plain', 0) %>",
			err:  "t.lasp:2: plain",
		},

		// ---- the sandbox ----
		{
			name: "what a page cannot reach",
			page: `<% for _, name in ipairs({"io", "debug", "load", "loadstring", "dofile", "loadfile",
  "setfenv", "getfenv", "collectgarbage", "module", "newproxy", "channel", "package", "_printregs", "gcinfo"}) do
  Response.Write(type(_G[name]) .. " ")
end
for _, name in ipairs({"execute", "exit", "getenv", "remove", "rename", "tmpname", "setlocale"}) do
  Response.Write(type(os[name]) .. " ")
end %>`,
			want: strings.Repeat("nil ", 22),
		},
		{
			name: "what a page can reach",
			page: `<%= type(os.time) %> <%= type(os.date) %> <%= type(os.clock) %> <%= type(os.difftime) %> <%= type(string.format) %> <%= type(math.floor) %> <%= type(coroutine.wrap) %> <%= type(table.sort) %> <%= type(pcall) %> <%= type(require) %> <%= type(print) %> <%= type(string.dump) %>`,
			want: strings.Repeat("function ", 11) + "nil",
		},
		{
			name: "_G is the page's globals",
			page: `<% x = 1 _G.y = 2 %><%= _G.x %> <%= y %> <%= _G._G == _G %>`,
			want: "1 2 true",
		},
		{
			name: "libraries are read-only",
			page: "\n<% string.upper = nil %>",
			err:  "t.lasp:2: cannot change upper: the standard libraries are read-only",
		},
		{
			name: "rawset on a library",
			page: `<% rawset(string, "upper", print) %>`,
			err:  "t.lasp:1: rawset: the table is read-only",
		},
		{
			name: "rawset on an intrinsic",
			page: `<% rawset(Response, "Write", nil) %>`,
			err:  "t.lasp:1: rawset: the table is read-only",
		},
		{
			name: "rawset on a table of the page",
			page: `<% local t = rawset({}, "k", "v") %><%= t.k %>`,
			want: "v",
		},
		{
			name: "metatables are hidden",
			page: `<%= tostring(getmetatable("")) %> <%= tostring(getmetatable(string)) %> <%= tostring(getmetatable(_G)) %> <%= tostring(getmetatable(Response)) %>`,
			want: "false false false false",
		},
		{
			name: "a protected metatable cannot be replaced",
			page: `<% setmetatable(string, nil) %>`,
			err:  "t.lasp:1: cannot change a protected metatable",
		},
		{
			name: "strings have their methods",
			page: `<%= ("b"):upper() %> <%= ("abc"):sub(2) %> <%= #("x"):rep(3) %> <%= ("a,b"):find(",", 1, true) %>`,
			want: "B bc 3 2",
		},
		{
			name: "string.rep past its bound",
			page: `<% local s = ("x"):rep(1e9) %>`,
			err:  "t.lasp:1: string.rep: result would be over 16777216 bytes",
		},
		{
			name: "string.rep of nothing",
			page: `[<%= ("x"):rep(0) %><%= (""):rep(5) %>]`,
			want: "[]",
		},
		{
			name: "string.format with a width too long",
			page: `<%= string.format("%999d", 1) %>`,
			err:  "t.lasp:1: invalid format (width or precision too long)",
		},
		{
			name: "table.concat",
			page: `<%= table.concat({1, "b", 3}, "-") %>|<%= table.concat({1, 2, 3}, ",", 2) %>|<%= table.concat({}) %>`,
			want: "1-b-3|2,3|",
		},
		{
			name: "table.concat of a table",
			page: `<%= table.concat({1, {}, 3}) %>`,
			err:  "t.lasp:1: invalid value (at index 2) in table for 'concat'",
		},
		{
			name: "a huge array index",
			page: `<% local t = {} t[1e8] = true t[2^53] = true %><%= t[1e8] %>`,
			want: "true",
		},
		{
			name: "recursion past the call depth",
			page: "\n<% local function f(n) return 1 + f(n + 1) end f(1) %>",
			err:  "t.lasp:2: stack overflow",
			bug:  `the error has Line 0 and its message keeps the position: "t.lasp: t.lasp:2: stack overflow"`,
		},
		{
			name: "recursion past the call depth, caught",
			page: `<% local function f() pcall(f) end f() %>recovered`,
			want: "recovered",
		},
		{
			name: "_VERSION",
			page: `<%= _VERSION %>`,
			want: "Lua 5.1",
		},

		// ---- require ----
		{
			name: "require a lib module",
			files: map[string]string{
				"lib/greet.lua":     "local M = {}\nfunction M.hello(who) return 'hello, ' .. who end\nloaded = true\nreturn M",
				"lib/util/text.lua": "return {up = string.upper, name = ...}",
			},
			page: `<% local g = require("greet") %><%= g.hello("you") %>|<%= require("greet") == g %>|<%= tostring(loaded) %>|<%= require("util.text").up("x") %>|<%= require("util.text").name %>`,
			want: "hello, you|true|nil|X|util.text",
		},
		{
			name:  "a module that returns nothing",
			files: map[string]string{"lib/side.lua": "local x = 1"},
			page:  `<%= tostring(require("side")) %>`,
			want:  "true",
		},
		{
			name: "require a missing module",
			page: "\n<% require('nope.mod') %>",
			err:  "t.lasp:2: module 'nope.mod' not found: no file lib/nope/mod.lua",
		},
		{
			name: "require an invalid name",
			page: `<% require("../secret") %>`,
			err:  `t.lasp:1: require: invalid module name "../secret"`,
		},
		{
			name:  "a module that requires itself",
			files: map[string]string{"lib/loop.lua": "return require('loop')"},
			page:  `<% require("loop") %>`,
			err:   "lib/loop.lua:1: require: loop or previous error loading module 'loop'",
		},

		// ---- Session ----
		{
			name:    "Session get and set",
			session: map[string]scope.Value{"visits": float64(2)},
			page:    `<% Session["visits"] = Session["visits"] + 1 Session.name = "ann" %><%= Session["visits"] %> <%= Session.Contents.name %> <%= Session.Contents.Count %> <%= Session.SessionID %>`,
			want:    "3 ann 2 sess-1",
		},
		{
			name:    "Session.Contents methods",
			session: map[string]scope.Value{"a": float64(1)},
			page:    `<% Session.b = 2 Session.Contents.c = 3 Session.Contents:Remove("a") Session.Contents.d = 4 %><%= table.concat(Session.Contents:Keys(), ",") %>|<% Session.Contents.RemoveAll() %><%= Session.Contents.Count %>`,
			want:    "b,c,d|0",
		},
		{
			name: "Session.Timeout",
			page: `<%= Session.Timeout %>|<% Session.Timeout = 1.5 %><%= Session.Timeout %>`,
			want: "20|1.5",
		},
		{
			name: "Session.Timeout zero",
			page: "\n<% Session.Timeout = 0 %>",
			err:  "t.lasp:2: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not 0",
		},
		{
			name: "Session.Timeout negative",
			page: `<% Session.Timeout = -1 %>`,
			err:  "t.lasp:1: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not -1",
		},
		{
			name: "Session.Timeout infinite",
			page: `<% Session.Timeout = 1/0 %>`,
			err:  "t.lasp:1: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not +Inf",
		},
		{
			name: "Session.Timeout over a year",
			page: `<% Session.Timeout = 525601 %>`,
			err:  "t.lasp:1: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not 525601",
		},
		{
			name: "Session.Timeout NaN",
			page: `<% Session.Timeout = 0/0 %>`,
			err:  "t.lasp:1: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not NaN",
		},
		{
			name: "Session.Timeout math.huge",
			page: `<% Session.Timeout = math.huge %>`,
			err:  "t.lasp:1: Session.Timeout must be a positive number of minutes, at most 525600 (a year), not 1.7976931348623157e+308",
		},
		{
			name:  "Session:Abandon",
			page:  `<% Session:Abandon() %>bye`,
			want:  "bye",
			check: func(t reporter, r *apiRun) { wantTrue(t, "abandoned", r.session.abandoned) },
		},
		{
			name: "Session:RenewID gives the new ID at once",
			page: `<%= Session.SessionID %> <% Session:RenewID() %><%= Session.SessionID %> <% Session.RenewID() %><%= Session.SessionID %>`,
			want: "sess-1 sess-1-renewed sess-1-renewed-renewed",
		},
		{
			name: "Session:Abandon on a ReadOnly page",
			env:  func(e *Env) { e.SessionReadOnly = true },
			page: "\n<% Session:Abandon() %>",
			err:  "t.lasp:2: Session is read-only on this page (EnableSessionState=ReadOnly)",
		},
		{
			name: "Session:RenewID on a ReadOnly page",
			env:  func(e *Env) { e.SessionReadOnly = true },
			page: "\n<% Session:RenewID() %>",
			err:  "t.lasp:2: Session is read-only on this page (EnableSessionState=ReadOnly)",
		},
		{
			name: "Session:RenewID that fails",
			env: func(e *Env) {
				e.Session.(*testSession).renewErr = errors.New("Session:RenewID cannot run once the response has been flushed")
			},
			page: "\n\n<% Session:RenewID() %>",
			err:  "t.lasp:3: Session:RenewID cannot run once the response has been flushed",
		},
		{
			name: "Session values are copies",
			page: `<% local t = {1} Session.t = t t[1] = 99 local u = Session.t u[1] = 7 %><%= Session.t[1] %>`,
			want: "1",
		},
		{
			name: "Session refuses a function",
			page: `<% Session["f"] = function() end %>`,
			err:  `t.lasp:1: Session["f"]: a function cannot be stored in Session scope`,
		},
		{
			name: "Session on a page without one",
			env:  func(e *Env) { e.Session, e.NoSession = nil, "the page has EnableSessionState=False" },
			page: "\n<%= Session.visits %>",
			err:  "t.lasp:2: Session is not available: the page has EnableSessionState=False",
		},
		{
			name: "Session.SessionID on a page without one",
			env:  func(e *Env) { e.Session, e.NoSession = nil, "no session here" },
			page: `<%= Session.SessionID %>`,
			err:  "t.lasp:1: Session is not available: no session here",
		},
		{
			name:    "Session on a ReadOnly page can be read",
			env:     func(e *Env) { e.SessionReadOnly = true },
			session: map[string]scope.Value{"visits": float64(2)},
			page:    `<%= Session.visits %> <%= Session.Contents.Count %> <%= Session.Timeout %>`,
			want:    "2 1 20",
		},
		{
			name:    "Session on a ReadOnly page cannot be written",
			env:     func(e *Env) { e.SessionReadOnly = true },
			session: map[string]scope.Value{"visits": float64(2)},
			page:    `<% Session.visits = 3 %>`,
			err:     "t.lasp:1: Session is read-only on this page (EnableSessionState=ReadOnly)",
			check:   func(t reporter, r *apiRun) { wantValue(t, r.session, "visits", float64(2)) },
		},
		{
			name: "Session.Contents:Remove on a ReadOnly page",
			env:  func(e *Env) { e.SessionReadOnly = true },
			page: `<% Session.Contents:Remove("visits") %>`,
			err:  "t.lasp:1: Session is read-only on this page",
		},
		{
			name: "Session.Timeout on a ReadOnly page",
			env:  func(e *Env) { e.SessionReadOnly = true },
			page: `<% Session.Timeout = 5 %>`,
			err:  "t.lasp:1: Session is read-only on this page",
		},
		{
			name:     "Session.StaticObjects",
			declared: map[string]string{"hits": "Lasp.Counters"},
			page:     `<%= Session.StaticObjects["hits"]:Increment("n") %> <%= tostring(Session.StaticObjects.none) %>`,
			want:     "1 nil",
		},

		// ---- Application ----
		{
			name: "Application plain data",
			page: `<% Application["s"] = "hi" Application.n = 1.5 Application.b = false Application.a = {1, "two", {3}} Application.m = {x = {y = "deep"}} %>` +
				`<%= Application.s %> <%= Application.n + 1 %> <%= tostring(Application.b) %> <%= Application.a[1] .. Application.a[2] .. Application.a[3][1] .. #Application.a %> <%= Application.m.x.y %>`,
			want: "hi 2.5 false 1two33 deep",
		},
		{
			name: "Application values are copies",
			page: `<% local t = {1} Application.t = t t[1] = 99 %><%= Application.t[1] %><% local u = Application.t u[1] = 7 %><%= Application.t[1] %>`,
			want: "11",
		},
		{
			name: "Application keys are case-insensitive",
			page: `<% Application["Cart"] = "c" %><%= Application["cart"] .. Application.Contents["CART"] %>|<%= table.concat(Application.Contents:Keys(), ",") %>`,
			want: "cc|Cart",
		},
		{
			name: "Application nil removes",
			app:  map[string]scope.Value{"gone": float64(1)},
			page: `<% Application["gone"] = nil %><%= tostring(Application["gone"]) .. Application.Contents.Count %>`,
			want: "nil0",
		},
		{
			name: "Application.Contents methods",
			page: `<% Application.Contents["a"] = 1 Application["b"] = 2 Application.Contents:Remove("a") %><%= table.concat(Application.Contents:Keys(), ",") %><% Application.Contents:RemoveAll() %><%= Application.Contents.Count %>`,
			want: "b0",
		},
		{
			name: "Application refuses a function",
			page: `<% Application["f"] = function() end %>`,
			err:  `t.lasp:1: Application["f"]: a function cannot be stored in Application scope`,
		},
		{
			name: "Application refuses a table holding a function",
			page: `<% Application["t"] = {handler = print} %>`,
			err:  `t.lasp:1: Application["t"]: a function (at ["handler"]) cannot be stored in Application scope`,
		},
		{
			name: "Application refuses a coroutine",
			page: `<% Application["co"] = coroutine.create(function() end) %>`,
			err:  `t.lasp:1: Application["co"]: a thread cannot be stored in Application scope`,
		},
		{
			name: "Application refuses an intrinsic object",
			page: `<% Application["r"] = Response %>`,
			err:  `t.lasp:1: Application["r"]: a table with a metatable cannot be stored in Application scope`,
		},
		{
			name: "Application refuses a cycle",
			page: `<% local t = {} t.self = t Application["c"] = t %>`,
			err:  `t.lasp:1: Application["c"]: a table that contains itself (at ["self"]) cannot be stored`,
		},
		{
			name: "Application keeps mixed, sparse and number- or boolean-keyed tables",
			page: `<% Application["m"] = {1, 2, n = 2} Application["s"] = {[1] = "a", [10] = "b"} Application["k"] = {[true] = "yes", [false] = "no", [2.5] = "x", [-1] = {[1] = "n"}} %>` +
				`<% local m, s, k = Application["m"], Application["s"], Application["k"] %>` +
				`<%= m[1] %>,<%= m[2] %>,<%= m.n %> <%= s[1] %><%= s[10] %><%= tostring(s[2]) %> <%= k[true] %> <%= k[false] %> <%= k[2.5] %> <%= k[-1][1] %> <%= tostring(k["2.5"]) %>`,
			want: "1,2,2 abnil yes no x n nil",
		},
		{
			name: "a mixed table read back is a copy with every key",
			page: `<% local t = {10, 20, 30, label = "x", [7] = "seven"} Application["t"] = t t[1] = 99 %>` +
				`<% local n = 0 for k, v in pairs(Application["t"]) do n = n + 1 end %><%= n %> <%= Application["t"][1] %> <%= Application["t"][7] %> <%= #Application["t"] >= 3 %>`,
			want: "5 10 seven true",
		},
		{
			name: "Session keeps a table with a hole",
			page: `<% Session["h"] = {1, nil, 3} %><%= Session["h"][1] %> <%= tostring(Session["h"][2]) %> <%= Session["h"][3] %>`,
			want: "1 nil 3",
		},
		{
			name: "Application refuses a table with a table key",
			page: `<% Application["m"] = {[{}] = 1} %>`,
			err:  `t.lasp:1: Application["m"]: a table with a table key cannot be stored`,
		},
		{
			name:  "Application refuses a Lua object",
			files: dogFiles,
			page:  `<% Application["ed"] = Server.CreateObject("Animals.Dog") %>`,
			err:   `t.lasp:1: Application["ed"]: Animals.Dog is apartment-threaded and cannot be stored in Application scope`,
		},
		{
			name:   "Application refuses an apartment Go object",
			config: withHorse,
			page:   `<% Application["ed"] = Server.CreateObject("Animals.Horse") %>`,
			err:    `t.lasp:1: Application["ed"]: Animals.Horse is apartment-threaded and cannot be stored in Application scope`,
		},
		{
			name: "Application keeps an agile object",
			page: `<% Application.hits = Server.CreateObject("Lasp.Counters") Application.hits:Increment("n") %><%= Application.hits:Increment("n") %> <%= tostring(Application.hits) %>`,
			want: "2 Lasp.Counters",
		},
		{
			name:  "Application:Lock and Unlock",
			page:  `<% Application:Lock() Application.Lock() Application.n = (Application.n or 0) + 1 Application:Unlock() Application.Unlock() %><%= Application.n %>`,
			want:  "1",
			check: wantUnlocked,
		},
		{
			name:  "a lock held when the page ends is released",
			page:  `<% Application:Lock() %>kept`,
			want:  "kept",
			check: wantUnlocked,
		},
		{
			name:  "a lock held when the page fails is released",
			page:  `<% Application:Lock() error("boom") %>`,
			err:   "t.lasp:1: boom",
			check: wantUnlocked,
		},
		{
			name: "Application:Unlock without Lock",
			page: `<% Application:Unlock() %>`,
			err:  "t.lasp:1: Application:Unlock: ",
		},
		{
			name:    "Application:Lock held by another for the whole script timeout",
			timeout: 50 * time.Millisecond,
			env: func(e *Env) {
				if err := e.ApplicationLock.Lock(context.Background(), "another request"); err != nil {
					panic(err)
				}
			},
			page:  "\n<% Application:Lock() %>",
			err:   "t.lasp:2: Application:Lock waited for the whole script timeout of 50ms",
			kind:  Timeout,
			check: wantCause(ErrBusy),
		},
		{
			name: "Application without one",
			env:  func(e *Env) { e.Application = nil },
			page: `<% Application:Lock() %>`,
			err:  "t.lasp:1: Application is not available here",
		},
		{
			name:  "Application whose store fails",
			env:   func(e *Env) { e.Application = failingContents{errStore} },
			page:  "\n<%= Application.x %>",
			err:   "t.lasp:2: the store is down",
			check: wantCause(errStore),
		},
		{
			name:  "Application.Contents.Count whose store fails",
			env:   func(e *Env) { e.Application = failingContents{errStore} },
			page:  `<%= Application.Contents.Count %>`,
			err:   "t.lasp:1: the store is down",
			check: wantCause(errStore),
		},
		{
			name:  "Application.Contents:Keys whose store fails",
			env:   func(e *Env) { e.Application = failingContents{errStore} },
			page:  `<%= Application.Contents:Keys() %>`,
			err:   "t.lasp:1: the store is down",
			check: wantCause(errStore),
		},

		// ---- StaticObjects and global.lasa's objects ----
		{
			name:     "Application.StaticObjects",
			declared: map[string]string{"hits": "Lasp.Counters"},
			page:     `<%= Application.StaticObjects["hits"]:Increment("n") %> <%= Application.StaticObjects.hits:Increment("n") %> <%= tostring(Application.StaticObjects.none) %>`,
			want:     "1 2 nil",
		},
		{
			name: "StaticObjects without declarations",
			page: `<%= tostring(Application.StaticObjects.hits) %>`,
			want: "nil",
		},
		{
			name:     "a declared object by its name",
			declared: map[string]string{"hits": "Lasp.Counters"},
			page:     `<%= hits:Increment("n") %> <%= hits:Increment("n") %> <%= tostring(nothing) %>`,
			want:     "1 2 nil",
		},
		{
			name:     "a declared Lua object lives in its apartment",
			files:    dogFiles,
			declared: map[string]string{"fido": "Animals.Dog"},
			page:     `<%= fido:WoofWoof() %> <%= fido.WoofWoof() %> <%= tostring(fido) %>`,
			want:     "Woof #1 Woof #2 Animals.Dog",
		},
		{
			name:     "a declared object that cannot be made",
			declared: map[string]string{"ghost": "No.Such"},
			page:     "\n<% ghost:Boo() %>",
			err:      `t.lasp:2: unknown progid "No.Such"`,
		},
		{
			name:     "a declared object that cannot be made, the message",
			declared: map[string]string{"ghost": "No.Such"},
			page:     `<% ghost:Boo() %>`,
			err:      `t.lasp:1: creating ghost: unknown progid "No.Such"`,
		},
		{
			name:     "a declared object that cannot be made, by StaticObjects",
			declared: map[string]string{"ghost": "No.Such"},
			page:     `<% local g = Application.StaticObjects.ghost %>`,
			err:      `t.lasp:1: unknown progid "No.Such"`,
		},
		{
			name:  "global.lasa's Page objects",
			files: dogFiles,
			env:   func(e *Env) { e.PageObjects = map[string]string{"pd": "Animals.Dog", "never": "Animals.Dog"} },
			page:  `<%= pd:WoofWoof() %> <%= pd:WoofWoof() %>`,
			want:  "Woof #1 Woof #2",
			check: wantApp(map[string]scope.Value{"inits": float64(1), "ends": float64(1)}),
		},

		// ---- page objects, Server.CreateObject ----
		{
			name:  "CreateObject of a Lua component",
			files: dogFiles,
			page:  `<% local d = Server.CreateObject("Animals.Dog") %><%= d:WoofWoof() %>,<%= d.WoofWoof(d) %>,<%= tostring(d) %>`,
			want:  "Woof #1,Woof #2,Animals.Dog",
			check: wantApp(map[string]scope.Value{"inits": float64(1), "ends": float64(1)}),
		},
		{
			name:  "object tags",
			files: dogFiles,
			page: `<object runat="server" id="fido" progid="Animals.Dog"></object>
<object runat="server" id="never" progid="Animals.Dog"></object>
<%= fido:WoofWoof() %> <%= fido:WoofWoof() %> <%= type(print) %>`,
			want:  "\n\nWoof #1 Woof #2 function",
			check: wantApp(map[string]scope.Value{"inits": float64(1), "ends": float64(1)}),
		},
		{
			name: "object tags beside an intrinsic object",
			page: `<object runat="server" id="d" progid="Lasp.Dictionary"></object><% d:Add("k", "v") Response.Write(d:Item("k")) %>`,
			want: "v",
		},
		{
			name:     "object tags beside a declared object",
			declared: map[string]string{"hits": "Lasp.Counters"},
			page:     `<object runat="server" id="d" progid="Lasp.Dictionary"></object><%= hits:Increment("n") %>`,
			want:     "1",
		},
		{
			name: "object tags with the same id",
			page: "<object runat=\"server\" id=\"d\" progid=\"Lasp.Dictionary\"></object>\n<object runat=\"server\" id=\"d\" progid=\"Lasp.Counters\"></object>",
			err:  `t.lasp:2: object id "d"`,
			kind: Compile,
		},
		{
			name: "Lasp.Dictionary",
			page: `<% local d = Server.CreateObject("Lasp.Dictionary") d:Add("a", {1, 2}) d.Add(d, "b", "x") d:Add(3, "three") %>` +
				`<%= d:Count() %> <%= d:Item("a")[2] %> <%= tostring(d:Exists("b")) %> <%= table.concat(d:Keys(), ",") %>` +
				`<% d:Remove("a") d:Remove("zz") d:Item("b", "y") %> <%= d:Count() %> <%= d:Item("b") %> <%= tostring(d:Item("none")) %> <%= d:Item("3") %>`,
			want: "3 2 true a,b,3 2 y nil three",
		},
		{
			name: "Lasp.Dictionary, two keys, one removed",
			page: `<% local d = Server.CreateObject("Lasp.Dictionary") d:Add("a", {1, 2}) d.Add(d, "b", "x") %><%= d:Count() %> <%= d:Item("a")[2] %> <%= tostring(d:Exists("b")) %> <%= table.concat(d:Keys(), ",") %><% d:Remove("a") %> <%= d:Count() %>`,
			want: "2 2 true a,b 1",
		},
		{
			name: "Lasp.Dictionary:Add of a key it has",
			page: `<% local d = Server.CreateObject("Lasp.Dictionary") d:Add("a", 1) d:Add("a", 2) %>`,
			err:  `t.lasp:1: Lasp.Dictionary.Add: Add: key "a" already exists`,
		},
		{
			name: "Lasp.Dictionary without arguments",
			page: `<% Server.CreateObject("Lasp.Dictionary"):Add() %>`,
			err:  "t.lasp:1: Lasp.Dictionary.Add: Add needs 1 argument(s), got 0",
		},
		{
			name: "Lasp.Dictionary:Add without a value",
			page: `<% Server.CreateObject("Lasp.Dictionary"):Add("k") %>`,
			err:  "t.lasp:1: Lasp.Dictionary.Add: Add needs 2 argument(s), got 1",
		},
		{
			name: "Lasp.Dictionary with a key that is no string",
			page: `<% Server.CreateObject("Lasp.Dictionary"):Exists(true) %>`,
			err:  "t.lasp:1: Lasp.Dictionary.Exists: Exists: argument 1 must be a string",
		},
		{
			name: "Lasp.Dictionary holds plain data only",
			page: `<% Server.CreateObject("Lasp.Dictionary"):Add("f", print) %>`,
			err:  "t.lasp:1: Lasp.Dictionary.Add: argument 2 cannot be passed (a function is not plain data)",
		},
		{
			name: "Lasp.Dictionary has no such method",
			page: `<% Server.CreateObject("Lasp.Dictionary"):Sort("x") %>`,
			err:  `t.lasp:1: Lasp.Dictionary.Sort: Lasp.Dictionary has no method "Sort"`,
		},
		{
			name: "Lasp.Counters",
			page: `<% local c = Server.CreateObject("Lasp.Counters") %><%= c:Get("n") %> <%= c:Increment("n") %> <%= c.Increment("n") %> <%= c:Set("n", 10) %> <%= c:Get("n") %><% c:Remove("n") %> <%= c:Get("n") %> <%= c:Increment(7) %>`,
			want: "0 1 2 10 10 0 1",
		},
		{
			name: "Lasp.Counters:Set of a string",
			page: `<% Server.CreateObject("Lasp.Counters"):Set("n", "ten") %>`,
			err:  "t.lasp:1: Lasp.Counters.Set: Set: the value must be a number",
		},
		{
			name: "Lasp.Counters:Set without a value",
			page: `<% Server.CreateObject("Lasp.Counters"):Set("n") %>`,
			err:  "t.lasp:1: Lasp.Counters.Set: Set needs 2 argument(s), got 1",
		},
		{
			name: "Lasp.Counters has no such method",
			page: `<% Server.CreateObject("Lasp.Counters"):Reset("n") %>`,
			err:  `t.lasp:1: Lasp.Counters.Reset: Lasp.Counters has no method "Reset"`,
		},
		{
			name:   "CreateObject of an apartment Go component",
			config: withHorse,
			page:   `<% local h = Server.CreateObject("Animals.Horse") %><%= h:Gallop(1, 2) %> <%= select(2, h:Gallop(1, 2)) %>`,
			want:   "gallop 2",
			log:    []string{`"msg":"Terminate failed"`, `"err":"the horse will not stop"`},
		},
		{
			name:   "a Go component's error",
			config: withHorse,
			page:   `<% Server.CreateObject("Animals.Horse"):Trot() %>`,
			err:    `t.lasp:1: Animals.Horse.Trot: no method "Trot"`,
		},
		{
			name: "CreateObject of an unknown progid",
			page: `<% Server.CreateObject("No.Such") %>`,
			err:  `t.lasp:1: unknown progid "No.Such": no Go component of that name and no components/No.Such.lua`,
		},
		{
			name: "CreateObject of an invalid progid",
			page: `<% Server.CreateObject("../x") %>`,
			err:  `t.lasp:1: unknown progid "../x"`,
		},
		{
			name:  "a Lua component that returns no table",
			files: map[string]string{"components/Bad.Thing.lua": "return 42"},
			page:  `<% Server.CreateObject("Bad.Thing") %>`,
			err:   "t.lasp:1: components/Bad.Thing.lua must return a table of methods",
		},
		{
			name:  "a Lua component that does not compile",
			files: map[string]string{"components/Bad.Syntax.lua": "local C = {}\nfunction C:X( end\nreturn C"},
			page:  `<% Server.CreateObject("Bad.Syntax") %>`,
			err:   "components/Bad.Syntax.lua:2: syntax error",
			kind:  Compile,
		},
		{
			name:  "a Lua component whose Terminate fails",
			files: map[string]string{"components/Bad.End.lua": "local C = {}\nfunction C:Terminate() error('no end') end\nreturn C"},
			page:  `<% Server.CreateObject("Bad.End") %>ok`,
			want:  "ok",
			log:   []string{`"msg":"Terminate failed"`, `no end`},
		},

		// ---- Session objects kept as their state, Commit ----
		{
			name:      "a kept Lua object, new",
			files:     cartFiles,
			kept:      map[string]string{"cart": "Shop.Cart"},
			page:      `<%= cart:Add(2) %> <%= Session.StaticObjects.cart:Add(1) %> <%= tostring(cart) %>`,
			want:      "2 3 Shop.Cart",
			wantSaved: map[string]scope.Value{"cart": map[string]scope.Value{"items": float64(3)}},
		},
		{
			name:      "a kept Lua object, restored without Initialize",
			files:     cartFiles,
			kept:      map[string]string{"cart": "Shop.Cart"},
			saved:     map[string]scope.Value{"cart": map[string]scope.Value{"items": float64(5)}},
			page:      `<%= cart:Add(1) %>`,
			want:      "6",
			wantSaved: map[string]scope.Value{"cart": map[string]scope.Value{"items": float64(6)}},
		},
		{
			name:        "a kept Lua object in the session's apartment",
			files:       cartFiles,
			kept:        map[string]string{"cart": "Shop.Cart"},
			inApartment: true,
			page:        `<%= cart:Add(2) %> <%= Session.StaticObjects.cart:Add(1) %> <%= tostring(cart) %>`,
			want:        "2 3 Shop.Cart",
			wantSaved:   map[string]scope.Value{"cart": map[string]scope.Value{"items": float64(3)}},
		},
		{
			name:      "a kept object that is not used is not saved",
			files:     cartFiles,
			kept:      map[string]string{"cart": "Shop.Cart"},
			page:      `ok`,
			want:      "ok",
			wantSaved: map[string]scope.Value{},
		},
		{
			name:      "a kept Go object",
			config:    withTally,
			kept:      map[string]string{"n": "Test.Tally"},
			page:      `<%= n:Count() %> <%= n:Count() %>`,
			want:      "1 2",
			wantSaved: map[string]scope.Value{"n": float64(2)},
		},
		{
			name:      "a kept Go object, restored",
			config:    withTally,
			kept:      map[string]string{"n": "Test.Tally"},
			saved:     map[string]scope.Value{"n": float64(10)},
			page:      `<%= n:Count() %>`,
			want:      "11",
			wantSaved: map[string]scope.Value{"n": float64(11)},
		},
		{
			name:        "a kept Go object in the session's apartment",
			config:      withTally,
			kept:        map[string]string{"n": "Test.Tally"},
			saved:       map[string]scope.Value{"n": float64(10)},
			inApartment: true,
			page:        `<%= n:Count() %> <%= Session.StaticObjects.n:Count() %>`,
			want:        "11 12",
			wantSaved:   map[string]scope.Value{"n": float64(12)},
		},
		{
			name:   "a kept Go object that cannot restore its state",
			config: withTally,
			kept:   map[string]string{"n": "Test.Tally"},
			saved:  map[string]scope.Value{"n": "ten"},
			page:   "\n<%= n:Count() %>",
			err:    "t.lasp:2: restoring Test.Tally: not a number",
		},
		{
			name: "a kept object whose component cannot keep its state",
			kept: map[string]string{"c": "Lasp.Counters"},
			page: `<%= c:Get("x") %>`,
			err:  "t.lasp:1: Lasp.Counters cannot be kept with the session: it does not save and restore its state",
		},
		{
			name:  "a kept Lua object holding a function",
			files: cartFiles,
			kept:  map[string]string{"cart": "Shop.Cart"},
			page:  `<% cart:Hold(print) %>`,
			err:   "t.lasp: Session object cart (Shop.Cart) cannot be saved with the session: its self holds a function",
		},
		{
			name:  "a kept Lua object with a number key",
			files: cartFiles,
			kept:  map[string]string{"cart": "Shop.Cart"},
			page:  `<% cart[1] = true %>`,
			err:   "t.lasp: Session object cart (Shop.Cart) cannot be saved with the session: its self holds a number key",
		},
		{
			name:  "a kept object on a page without a session",
			files: cartFiles,
			kept:  map[string]string{"cart": "Shop.Cart"},
			env:   func(e *Env) { e.Session, e.NoSession = nil, "the page has EnableSessionState=False" },
			page:  `<%= cart:Add(1) %>`,
			err:   "t.lasp:1: cart is a Session object, and the page has EnableSessionState=False",
		},
		{
			name:  "Kept.Save that fails",
			files: cartFiles,
			kept:  map[string]string{"cart": "Shop.Cart"},
			env: func(e *Env) {
				e.Kept.(*testKept).save = func(string, scope.Value) error { return errStore }
			},
			page:  `<%= cart:Add(1) %>`,
			fails: errStore,
		},
		{
			name: "Commit runs before the head is sent",
			env: func(e *Env) {
				e.Commit = func() error {
					if e.Response.(*testResponse).heads != 0 {
						return errors.New("the head was sent before Commit")
					}
					e.Response.Header().Set("X-Committed", "yes")
					return nil
				}
			},
			page:    `ok`,
			want:    "ok",
			headers: map[string]string{"X-Committed": "yes"},
		},
		{
			name:  "Commit that fails fails the page",
			env:   func(e *Env) { e.Commit = func() error { return errStore } },
			page:  `not sent`,
			fails: errStore,
			check: func(t reporter, r *apiRun) {
				if r.out != "" || r.resp.heads != 0 {
					t.Errorf("sent %q (%d heads) though Commit failed", r.out, r.resp.heads)
				}
			},
		},

		// ---- directives ----
		{
			name:    "ContentType directive",
			page:    `<%@ ContentType="text/plain" %>plain`,
			headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			want:    "plain",
		},
		{
			name:    "Charset directive",
			page:    `<%@ Charset="ISO-8859-1" %><%= Response.Charset %>`,
			headers: map[string]string{"Content-Type": "text/html; charset=ISO-8859-1"},
			want:    "ISO-8859-1",
		},
		{
			name:    "directive names are case-insensitive",
			page:    `<%@ contenttype="text/csv" CHARSET="ascii" language="lua" %>a,b`,
			headers: map[string]string{"Content-Type": "text/csv; charset=ascii"},
			want:    "a,b",
		},
		{
			name:    "ContentType directive then property",
			page:    `<%@ ContentType="text/plain" %><% Response.ContentType = "text/xml" %><x/>`,
			headers: map[string]string{"Content-Type": "text/xml; charset=utf-8"},
			want:    "<x/>",
		},
		{
			name:  "EnableSessionState True",
			page:  `<%@ EnableSessionState="True" %>ok`,
			want:  "ok",
			check: func(t reporter, r *apiRun) { wantDirective(t, r, "True") },
		},
		{
			name:  "EnableSessionState ReadOnly",
			page:  `<%@ EnableSessionState="ReadOnly" %>ok`,
			want:  "ok",
			check: func(t reporter, r *apiRun) { wantDirective(t, r, "ReadOnly") },
		},
		{
			name:  "EnableSessionState False",
			page:  `<%@ EnableSessionState=False %>ok`,
			want:  "ok",
			check: func(t reporter, r *apiRun) { wantDirective(t, r, "False") },
		},
		{
			name:  "EnableSessionState any case",
			page:  `<%@ enablesessionstate="readonly" Language="LUA" %>ok`,
			want:  "ok",
			check: func(t reporter, r *apiRun) { wantDirective(t, r, "ReadOnly") },
		},
		{
			name:  "no EnableSessionState",
			page:  `ok`,
			want:  "ok",
			check: func(t reporter, r *apiRun) { wantDirective(t, r, "") },
		},
		{
			name: "EnableSessionState bad value",
			page: `<%@ EnableSessionState="Sometimes" %>ok`,
			err:  "t.lasp:1: invalid EnableSessionState",
			kind: Compile,
		},
		{
			name: "unknown directive",
			page: "\n<%@ NoSuchDirective=\"x\" %>ok",
			err:  "t.lasp:2: unknown directive NoSuchDirective",
			kind: Compile,
		},
		{
			name: "unknown directive on the first line",
			page: `<%@ Transactional="Required" %>ok`,
			err:  "t.lasp:1: unknown directive Transactional",
			kind: Compile,
		},
		{
			name: "Transaction directive with a bad value",
			page: `<%@ Transaction="Always" %>ok`,
			err:  `t.lasp:1: invalid Transaction "Always" (want Not_Supported, Supported, Required or Requires_New)`,
			kind: Compile,
		},
		{
			name: "a transactional page that uses no database commits nothing and runs its handler",
			page: `<%@ Transaction="Required" %>page<script runat="server">function OnTransactionCommit() Response.Write(" committed") end</script>`,
			want: "page committed",
		},
		{
			name: "SetAbort runs OnTransactionAbort and keeps no session change",
			page: `<%@ Transaction="Requires_New" %><% Session["x"] = 1 ObjectContext:SetAbort() %>page` +
				`<script runat="server">function OnTransactionAbort() Response.Write(" aborted") end function OnTransactionCommit() Response.Write(" committed") end</script>`,
			env:  func(e *Env) { e.Commit = func() error { return errors.New("the session was committed") } },
			want: "page aborted",
		},
		{
			name:  "a handler may write text and use the page's includes",
			files: map[string]string{"done.inc": `done<% Response.Write("!") %>`},
			page:  `<%@ Transaction="Required" %>page <% function OnTransactionCommit() %>then <!--#include file="done.inc"--><% end %>`,
			want:  "page then done!",
		},
		{
			name: "SetComplete undoes SetAbort",
			page: `<%@ Transaction="Required" %><% ObjectContext.SetAbort() ObjectContext.SetComplete() %>page<script runat="server">function OnTransactionCommit() Response.Write(" committed") end</script>`,
			want: "page committed",
		},
		{
			name: "a failing handler is logged; the page keeps its answer",
			page: `<%@ Transaction="Required" %>page<script runat="server">function OnTransactionCommit() Response.Write(" c") error("in the handler") end</script>`,
			want: "page c",
			check: func(t reporter, r *apiRun) {
				if !strings.Contains(r.log.String(), "OnTransactionCommit failed") || !strings.Contains(r.log.String(), "in the handler") {
					t.Errorf("log: %s", r.log.String())
				}
			},
		},
		{
			name: "ObjectContext on a page without a transaction",
			page: "\n<% ObjectContext:SetAbort() %>",
			err:  `t.lasp:2: ObjectContext:SetAbort: the page has no transaction (Transaction="Required" or "Requires_New")`,
		},
		{
			name: "a Supported page run alone has no transaction",
			page: `<%@ Transaction="Supported" %><% ObjectContext:SetComplete() %>`,
			err:  `t.lasp:1: ObjectContext:SetComplete: the page has no transaction (Transaction="Required" or "Requires_New")`,
		},
		{
			name:  "an executed Supported page joins its caller's transaction",
			files: map[string]string{"inner.lasp": `<%@ Transaction="Supported" %><% ObjectContext:SetAbort() %>inner `},
			page:  `<%@ Transaction="Required" %><% Server.Execute("inner.lasp") %>outer<script runat="server">function OnTransactionAbort() Response.Write(" aborted") end</script>`,
			want:  "inner outer aborted",
		},
		{
			name:  "an executed page without the directive is outside the transaction",
			files: map[string]string{"inner.lasp": `<% ObjectContext:SetAbort() %>`},
			page:  `<%@ Transaction="Required" %><% Server.Execute("inner.lasp") %>`,
			err:   `inner.lasp:1: ObjectContext:SetAbort: the page has no transaction (Transaction="Required" or "Requires_New")`,
		},
		{
			name: "Language VBScript",
			page: `<%@ Language="VBScript" %>ok`,
			err:  "t.lasp:1: unsupported Language",
			kind: Compile,
		},
		{
			name: "directive after output",
			page: `text<%@ Language="Lua" %>`,
			err:  "t.lasp:1: directive must come before any output",
			kind: Compile,
		},
		{
			name:  "an include with directives",
			files: map[string]string{"dir.inc": `<%@ ContentType="text/plain" %>`},
			page:  "x\n<!--#include file=\"dir.inc\"-->",
			err:   "t.lasp:2: dir.inc has page directives (<%@ %>): they belong in the page, not in an included file",
			kind:  Compile,
		},

		// ---- errors: where they are reported ----
		{
			name: "runtime error in a page",
			page: "<h1>Title</h1>\n<% local n = nil %>\n<% n.field = 1 %>\n<p>after</p>\n",
			err:  "t.lasp:3: attempt to index",
		},
		{
			name: "error() on a later line of a block",
			page: "a\nb\n\n<%\n  local x = 1\n  error(\"custom failure \" .. x)\n%>\n",
			err:  "t.lasp:6: custom failure 1",
		},
		{
			name:     "runtime error in an include",
			files:    map[string]string{"inc/part.inc": "part line 1\npart line 2\n<% error(\"failure in the include\") %>\n"},
			page:     "<p>top</p>\n<!--#include file=\"inc/part.inc\"-->\n<p>bottom</p>\n",
			err:      "inc/part.inc:3: failure in the include",
			includes: []string{"t.lasp:2"},
		},
		{
			name: "runtime error in a nested include",
			files: map[string]string{
				"inc/outer.inc": "outer\n<!--#include file=\"inner.inc\"-->\n",
				"inc/inner.inc": "inner\n<% local t = {} %>\n<%= t.a.b %>\n",
			},
			page:     "\n\n<!--#include virtual=\"/inc/outer.inc\"-->\n",
			err:      "inc/inner.inc:3: attempt to index",
			includes: []string{"t.lasp:3", "inc/outer.inc:2"},
		},
		{
			name: "runtime error in a CRLF page",
			page: "a\r\nb\r\n<% error(\"failure in a CRLF file\") %>\r\nc\r\n",
			err:  "t.lasp:3: failure in a CRLF file",
		},
		{
			name: "runtime error in a page with CR line endings, on a line after code that spans lines",
			page: "a\rb\r<% local x = 1\r  local y = 2 %>\r<% error(\"failure in a CR file\") %>\rc\r",
			err:  "t.lasp:5: failure in a CR file",
		},
		{
			name: "runtime error after LF CR line endings and a long string",
			page: "a\n\r<% local s = [[x\n\ry\r\nz]] %>\n\r<% error(#s .. \" in an LF CR file\") %>\n\r",
			err:  "t.lasp:5: 5 in an LF CR file",
		},
		{
			name: "runtime error in an expression among text",
			page: "<p>\n<%= 1 %>\n<b><%= \n  missing.field %></b>\n</p>\n",
			err:  "t.lasp:4: attempt to index",
		},
		{
			name: "runtime error after a byte order mark and a directive",
			page: "\xef\xbb\xbf<%@ Language=\"Lua\" %>\n\n<% error(\"failure after a BOM\") %>\n",
			err:  "t.lasp:3: failure after a BOM",
		},
		{
			name: "runtime error in top-level code of a script block",
			page: "text\n<script runat=\"server\">\nlocal a = 1\nlocal b = nil .. \"x\"\n</script>\n",
			err:  "t.lasp:4: cannot perform concat operation between nil and string",
		},
		{
			name:     "runtime error in a function of an include's script block",
			files:    map[string]string{"s.inc": "<script runat=\"server\">\nfunction g()\n  error(\"failure in g\")\nend\n</script>\n"},
			page:     "<!--#include file=\"s.inc\"-->\n<% g() %>\n",
			err:      "s.inc:3: failure in g",
			includes: []string{"t.lasp:2"},
		},
		{
			name:     "runtime error in the second inclusion of a file",
			files:    map[string]string{"t.inc": `<% n = (n or 0) + 1 if n == 2 then error("second time") end %>`},
			page:     "<!--#include file=\"t.inc\"-->\n<!--#include file=\"t.inc\"-->\n",
			err:      "t.inc:1: second time",
			includes: []string{"t.lasp:2"},
		},
		{
			name: "error in a function of a script block",
			page: "<script runat=\"server\">\nfunction f()\n  local t = nil\n  return t.z\nend\n</script>\nbody\n<% f() %>\n",
			err:  "t.lasp:4: attempt to index",
			check: func(t reporter, r *apiRun) {
				var se *Error
				if errors.As(r.err, &se) && !strings.Contains(se.Traceback, "t.lasp:8: in main chunk") {
					t.Errorf("traceback does not show the call at line 8:\n%s", se.Traceback)
				}
			},
		},
		{
			name: "compile error in a page",
			page: "<html>\n<body>\n<% local x = 1 %>\n<% if x then %>\n",
			err:  "t.lasp:4: syntax error",
			kind: Compile,
		},
		{
			name: "compile error on a later line of a block",
			page: "<%\nlocal a = 1\nlocal b = = 2\n%>\n",
			err:  "t.lasp:3: syntax error near '='",
			kind: Compile,
		},
		{
			name: "compile error of a break outside a loop",
			page: "\n<% break %>",
			err:  "t.lasp:2: ",
			kind: Compile,
		},
		{
			name:     "compile error in an include",
			files:    map[string]string{"broken.inc": "b1\n<% while do %>\n"},
			page:     "one\ntwo\n<!--#include file=\"broken.inc\"-->\n",
			err:      "broken.inc:2: syntax error",
			kind:     Compile,
			includes: []string{"t.lasp:3"},
		},
		{
			name: "unclosed code block",
			page: "a\n\n<% x = 1\nmore text\n",
			err:  "t.lasp:3: unclosed <% block",
			kind: Compile,
		},
		{
			name: "missing include file",
			path: "sub/t.lasp",
			page: "a\nb\n<!--#include file=\"nope.inc\"-->\n",
			err:  "sub/t.lasp:3: include file not found: sub/nope.inc",
			kind: Compile,
		},
		{
			name:     "missing nested include",
			files:    map[string]string{"inc/a.inc": "a1\na2\n<!--#include virtual=\"/inc/gone.inc\"-->\n"},
			page:     "<!--#include file=\"inc/a.inc\"-->\n",
			err:      "inc/a.inc:3: include file not found: inc/gone.inc",
			kind:     Compile,
			includes: []string{"t.lasp:1"},
		},
		{
			name:     "missing include file of the page",
			page:     "\n<!--#include file=\"nope.inc\"-->\n",
			err:      "t.lasp:2: include file not found: nope.inc",
			kind:     Compile,
			includes: []string{},
		},
		{
			name: "include cycle",
			files: map[string]string{
				"inc/x.inc": "x1\n<!--#include file=\"y.inc\"-->\n",
				"inc/y.inc": "y1\ny2\n<!--#include file=\"x.inc\"-->\n",
			},
			page:     "<!--#include file=\"inc/x.inc\"-->\n",
			err:      "inc/y.inc:3: include cycle: inc/y.inc includes inc/x.inc again",
			kind:     Compile,
			includes: []string{"t.lasp:1", "inc/x.inc:2"},
		},
		{
			name: "include outside the root",
			page: "\n<!--#include file=\"../../etc/passwd\"-->\n",
			err:  `t.lasp:2: include path "../../etc/passwd" is outside the application root`,
			kind: Compile,
		},
		{
			name:     "runtime error in a lib module",
			files:    map[string]string{"lib/x.lua": "local M = {}\nfunction M.f()\n  error(\"failure in the module\")\nend\nreturn M\n"},
			page:     "<% local m = require(\"x\") %>\n<% m.f() %>\n",
			err:      "lib/x.lua:3: failure in the module",
			includes: []string{"required from t.lasp:2"},
		},
		{
			name:     "error while a lib module loads",
			files:    map[string]string{"lib/pkg/loader.lua": "local t = {}\nlocal v = t.a.b\nreturn t\n"},
			page:     "\n<% require(\"pkg.loader\") %>\n",
			err:      "lib/pkg/loader.lua:2: attempt to index",
			includes: []string{"required from t.lasp:2"},
		},
		{
			name:  "compile error in a lib module",
			files: map[string]string{"lib/bad.lua": "local x = 1\nif then\nreturn x\n"},
			page:  "<% require(\"bad\") %>\n",
			err:   "lib/bad.lua:2: syntax error",
			kind:  Compile,
		},
		{
			name:     "error in a page run by Server.Execute",
			files:    map[string]string{"callee.lasp": "c1\n\n<% error(\"failure in the callee\") %>\n"},
			page:     "x\n<% Server.Execute(\"callee.lasp\") %>\n",
			err:      "callee.lasp:3: failure in the callee",
			includes: []string{"t.lasp:2"},
		},
		{
			name:  "compile error in a page run by Server.Execute",
			files: map[string]string{"callee.lasp": "\n<% if then %>\n"},
			page:  "<% Server.Execute(\"callee.lasp\") %>\n",
			err:   "callee.lasp:2: syntax error",
			kind:  Compile,
		},
		{
			name:  "error in a page run by Server.Transfer",
			files: map[string]string{"to.lasp": "t1\n<% error(\"failure after transfer\") %>\n"},
			page:  "<% Server.Transfer(\"to.lasp\") %>\n",
			err:   "to.lasp:2: failure after transfer",
		},
		{
			name: "a page that executes itself",
			page: "a\n<% Server.Execute(\"t.lasp\") %>\n",
			err:  "t.lasp:2: Server.Execute: pages nested more than 16 deep (does t.lasp run itself?)",
		},
	}

	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Fatalf("duplicate case %q", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runAPICase(t, c)
			if c.bug == "" {
				checkAPICase(t, c, r)
				return
			}
			rec := &recorder{}
			rec.run(func() { checkAPICase(rec, c, r) })
			if len(rec.failures) == 0 {
				t.Fatalf("the case passes: the bug (%s) is fixed, remove its bug field", c.bug)
			}
			t.Skipf("known bug: %s\n%s", c.bug, strings.Join(rec.failures, "\n"))
		})
	}
}

var (
	errStore = errors.New("the store is down")
	errReset = errors.New("connection reset")
)

// runAPICase runs c's page once.
func runAPICase(t *testing.T, c apiCase) *apiRun {
	t.Helper()
	path := c.path
	if path == "" {
		path = "t.lasp"
	}
	fsys := fstest.MapFS{}
	for name, src := range c.files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	if c.page != "" {
		fsys[path] = &fstest.MapFile{Data: []byte(c.page)}
	}
	r := &apiRun{log: &bytes.Buffer{}, app: scope.NewContents("Application"), lock: &scope.Lock{}, session: newTestSession()}
	logger := slog.New(slog.NewJSONHandler(&syncWriter{w: r.log}, nil))
	cfg := Config{FS: fsys, Logger: logger}
	if c.config != nil {
		c.config(&cfg)
	}
	r.e = New(cfg)
	t.Cleanup(r.e.Close)

	req := requestFor(t, c, path)
	var out bytes.Buffer
	r.resp = &testResponse{out: &out}
	for k, v := range c.app {
		if err := r.app.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range c.session {
		if err := r.session.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	r.env = &Env{
		Request: req, Response: r.resp, Log: logger, RequestID: "req-1",
		Application: Local(r.app), ApplicationLock: r.lock, Session: r.session,
		ScriptTimeout: c.timeout,
	}
	if c.declared != nil {
		r.env.Declared = declaredFor(t, r.e, c.declared, r.env)
	}
	if c.kept != nil {
		keepObjects(t, r, c)
	}
	if c.env != nil {
		c.env(r.env)
	}
	var p *Page
	if p, r.err = r.e.Page(path); r.err == nil {
		r.err = r.e.Run(t.Context(), &out, p, r.env)
	}
	r.out = out.String()
	// The body is read within the run's context, which ends with the run:
	// a client sending it slowly fails the page at its script timeout.
	if ctx := req.(*testRequest).ctx; ctx != nil && ctx.Err() == nil {
		t.Errorf("the body was read within a context that outlived the run")
	}
	return r
}

// requestFor is c's request to the page at path.
func requestFor(t *testing.T, c apiCase, path string) Request {
	t.Helper()
	query, err := url.ParseQuery(c.query)
	if err != nil {
		t.Fatal(err)
	}
	req := &testRequest{query: query, raw: c.query, body: c.body, err: c.bodyErr, cookies: c.cookies, vars: map[string]string{
		"REQUEST_METHOD": "GET", "URL": "/" + path, "PATH_INFO": "/" + path,
		"QUERY_STRING": c.query, "SERVER_NAME": "localhost",
	}}
	if c.form != "" {
		if req.form, err = url.ParseQuery(c.form); err != nil {
			t.Fatal(err)
		}
		req.body = c.form
		req.vars["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
	}
	if req.body != "" {
		req.vars["REQUEST_METHOD"] = "POST"
	}
	for k, v := range c.vars {
		req.vars[k] = v
	}
	return req
}

// declaredFor is an Env.Declared for objects declared with Application
// scope, id → progid, made on first reference as framework makes them:
// agile Go objects directly, the others in an apartment of their own.
func declaredFor(t *testing.T, e *Engine, decls map[string]string, env *Env) func(context.Context, string) (scope.Object, bool, error) {
	var apt *Apartment
	t.Cleanup(func() {
		if apt != nil {
			apt.Close(context.Background())
		}
	})
	made := map[string]scope.Object{}
	return func(ctx context.Context, id string) (scope.Object, bool, error) {
		progid, ok := decls[id]
		if !ok {
			return nil, false, nil
		}
		if o := made[id]; o != nil {
			return o, true, nil
		}
		o, err := e.NewObject(ctx, progid, func() *Apartment {
			if apt == nil {
				apt = e.NewApartment("application", Env{Application: env.Application, ApplicationLock: env.ApplicationLock})
			}
			return apt
		})
		if err != nil {
			return nil, false, err
		}
		made[id] = o
		return o, true, nil
	}
}

// keepObjects gives r's Env c's kept Session objects, as framework does
// with a shared session store.
func keepObjects(t *testing.T, r *apiRun, c apiCase) {
	r.saved = map[string]scope.Value{}
	k := &testKept{objects: c.kept}
	k.load = func(id string) (scope.Value, bool) {
		v, ok := c.saved[id]
		return v, ok
	}
	k.save = func(id string, state scope.Value) error {
		r.saved[id] = state
		return nil
	}
	if c.inApartment {
		var apt *Apartment
		t.Cleanup(func() {
			if apt != nil {
				apt.Close(context.Background())
			}
		})
		k.apartment = func() *Apartment {
			if apt == nil {
				apt = r.e.NewApartment("Session sess-1", Env{Application: r.env.Application, ApplicationLock: r.env.ApplicationLock})
			}
			return apt
		}
	}
	r.env.Kept = k
}

// testKept is an Env.Kept made of the tests' functions: apartment nil
// means none.
type testKept struct {
	objects   map[string]string
	load      func(id string) (scope.Value, bool)
	save      func(id string, state scope.Value) error
	apartment func() *Apartment
	ending    bool
}

var _ Kept = (*testKept)(nil)

func (k *testKept) Objects() map[string]string              { return k.objects }
func (k *testKept) Load(id string) (scope.Value, bool)      { return k.load(id) }
func (k *testKept) Save(id string, state scope.Value) error { return k.save(id, state) }
func (k *testKept) Ending() bool                            { return k.ending }
func (k *testKept) Apartment() *Apartment {
	if k.apartment == nil {
		return nil
	}
	return k.apartment()
}

// checkAPICase checks what running c gave.
func checkAPICase(t reporter, c apiCase, r *apiRun) {
	t.Helper()
	switch {
	case c.err != "":
		checkError(t, r.err, c.err, c.kind, c.includes)
	case c.fails != nil:
		if !errors.Is(r.err, c.fails) {
			t.Errorf("error %v, want %v", r.err, c.fails)
		}
	case r.err != nil:
		t.Fatalf("unexpected error: %v\nlog:\n%s", r.err, r.log)
	}
	failed := c.err != "" || c.fails != nil
	if !failed || c.want != "" {
		if r.out != c.want {
			t.Errorf("body:\n%q\nwant:\n%q", r.out, c.want)
		}
	}
	if r.resp.heads > 1 {
		t.Errorf("WriteHeader called %d times", r.resp.heads)
	}
	if !failed {
		want := c.status
		if want == 0 {
			want = 200
		}
		if r.resp.heads != 1 || r.resp.status != want {
			t.Errorf("status %d (WriteHeader called %d times), want %d", r.resp.status, r.resp.heads, want)
		}
	}
	if c.flushed != nil || !failed {
		if strings.Join(r.resp.flushed, "\x00") != strings.Join(c.flushed, "\x00") {
			t.Errorf("flushed %q, want %q", r.resp.flushed, c.flushed)
		}
	}
	for k, v := range c.headers {
		if got := strings.Join(r.resp.Header().Values(k), ", "); got != v {
			t.Errorf("header %s: %q, want %q", k, got, v)
		}
	}
	for _, k := range c.absent {
		if v := r.resp.Header().Values(k); len(v) > 0 {
			t.Errorf("header %s: %q, want none", k, v)
		}
	}
	var cookies []string
	for _, ck := range r.resp.cookies {
		cookies = append(cookies, formatCookie(ck))
	}
	if strings.Join(cookies, "\n") != strings.Join(c.setCookies, "\n") {
		t.Errorf("cookies set:\n%q\nwant:\n%q", cookies, c.setCookies)
	}
	for _, s := range c.log {
		if !strings.Contains(r.log.String(), s) {
			t.Errorf("log does not contain %s:\n%s", s, r.log)
		}
	}
	if c.wantSaved != nil && !scope.Equal(scope.Value(r.saved), scope.Value(c.wantSaved)) {
		t.Errorf("states saved: %v, want %v", r.saved, c.wantSaved)
	}
	if c.check != nil {
		c.check(t, r)
	}
}

// checkError checks that err is an *Error of kind at where ("file:line:
// text", the text a substring of its message), with the include chain
// includes (when not nil).
func checkError(t reporter, err error, where string, kind ErrorKind, includes []string) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want an *Error at %s", err, err, where)
	}
	at, text, _ := strings.Cut(where, ": ")
	got := se.File
	if se.Line > 0 {
		got += ":" + strconv.Itoa(se.Line)
	}
	if got != at {
		t.Errorf("error at %q: %v\nwant it at %q", got, err, at)
	}
	if !strings.Contains(se.Msg, text) {
		t.Errorf("error %q, want its message to contain %q", se.Error(), text)
	}
	if se.Kind != kind {
		t.Errorf("error kind %v, want %v: %v", se.Kind, kind, err)
	}
	if strings.Contains(se.Error(), "__") {
		t.Errorf("the error shows generated code: %v", err)
	}
	if includes != nil && strings.Join(chainStrings(se.Includes), " ") != strings.Join(includes, " ") {
		t.Errorf("include chain %q, want %q", se.Includes, includes)
	}
}

// chainStrings shows an error's chain as "file:line" steps, a call into a
// module as "required from file:line".
func chainStrings(sites []Site) []string {
	var out []string
	for _, s := range sites {
		if s.Require {
			out = append(out, "required from "+s.String())
		} else {
			out = append(out, s.String())
		}
	}
	return out
}

// reporter is what the checks of a case report to: the test, or a
// recorder for a case that shows a known bug.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// recorder is a reporter that keeps the failures.
type recorder struct{ failures []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// Fatalf records and stops the checks, as testing.T's does.
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(r)
}

// run runs checks until they end or one calls Fatalf.
func (r *recorder) run(checks func()) {
	defer func() {
		if v := recover(); v != nil && v != r {
			panic(v)
		}
	}()
	checks()
}

// syncWriter serializes writes: log lines may come from an apartment's
// goroutine.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func wantCause(target error) func(t reporter, r *apiRun) {
	return func(t reporter, r *apiRun) {
		t.Helper()
		if !errors.Is(r.err, target) {
			t.Errorf("error %v does not wrap %v", r.err, target)
		}
	}
}

// wantNoOutput checks that none of texts was written: the page failed
// before its buffer was sent.
func wantNoOutput(texts ...string) func(t reporter, r *apiRun) {
	return func(t reporter, r *apiRun) {
		t.Helper()
		for _, s := range texts {
			if strings.Contains(r.out, s) {
				t.Errorf("the output %q contains %q", r.out, s)
			}
		}
	}
}

func wantFlushed(want ...string) func(t reporter, r *apiRun) {
	return func(t reporter, r *apiRun) {
		t.Helper()
		if strings.Join(r.resp.flushed, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("flushed %q, want %q", r.resp.flushed, want)
		}
	}
}

// wantExpires checks the Expires header: about d from now.
func wantExpires(d time.Duration) func(t reporter, r *apiRun) {
	return func(t reporter, r *apiRun) {
		t.Helper()
		at, err := time.Parse(httpTime, r.resp.Header().Get("Expires"))
		if err != nil {
			t.Fatalf("Expires %q: %v", r.resp.Header().Get("Expires"), err)
		}
		// Wide: this checks the unit and the sign, not the clock.
		if want := time.Now().Add(d); at.Before(want.Add(-time.Minute/2)) || at.After(want.Add(time.Minute/2)) {
			t.Errorf("Expires %v, want about %v", at, want)
		}
	}
}

func wantUnlocked(t reporter, r *apiRun) {
	t.Helper()
	if !r.lock.TryLock("next request") {
		t.Errorf("Application's lock is still held after the page")
	}
}

func wantApp(want map[string]scope.Value) func(t reporter, r *apiRun) {
	return func(t reporter, r *apiRun) {
		t.Helper()
		if got := r.app.Snapshot(); !scope.Equal(got, scope.Value(want)) {
			t.Errorf("Application holds %v, want %v", got, want)
		}
	}
}

func wantValue(t reporter, c Contents, key string, want scope.Value) {
	t.Helper()
	if got, _, err := c.Get(key); err != nil || !scope.Equal(got, want) {
		t.Errorf("%s[%q] = %v (%v), want %v", c.Name(), key, got, err, want)
	}
}

func wantTrue(t reporter, what string, ok bool) {
	t.Helper()
	if !ok {
		t.Errorf("not %s", what)
	}
}

func wantDirective(t reporter, r *apiRun, mode string) {
	t.Helper()
	p, err := r.e.Page("t.lasp")
	if err != nil || p.Directives.EnableSessionState != mode {
		t.Errorf("EnableSessionState %q (%v), want %q", p.Directives.EnableSessionState, err, mode)
	}
}
