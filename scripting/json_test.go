package scripting

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"

	lua "github.com/yuin/gopher-lua"

	"lasp/scope"
)

// TestJSON runs pages that use the json library (docs/data.md). Each page
// runs in the same engine, so a page that breaks a state for the next one
// shows in the probe run after it.
func TestJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		page string
		body string // Request.Body
		out  string // the output, when the page works
		err  string // the start of the error, when it fails (after "<name>.lasp:")
	}{
		// A table with keys 1..n is an array, any other table an object.
		{name: "array", page: `<%- json.encode({1, 2, 3}) %>`, out: `[1,2,3]`},
		{name: "object", page: `<%- json.encode({b = "x", a = 1, c = true}) %>`, out: `{"a":1,"b":"x","c":true}`},
		{name: "nested", page: `<%- json.encode({rows = {{id = 1}, {id = 2}}, n = 2}) %>`, out: `{"n":2,"rows":[{"id":1},{"id":2}]}`},
		{name: "scalars", page: `<%- json.encode(nil) %> <%- json.encode(true) %> <%- json.encode(false) %> <%- json.encode("s") %> <%- json.encode(7) %>`, out: `null true false "s" 7`},
		{name: "mixed", page: `<%- json.encode({1, 2, n = 2}) %>`, out: `{"1":1,"2":2,"n":2}`},
		{name: "sparse", page: `<%- json.encode({[1] = "a", [10] = "b"}) %>`, out: `{"1":"a","10":"b"}`},
		{name: "holes", page: `<%- json.encode({1, nil, 3}) %>`, out: `{"1":1,"3":3}`},
		{name: "zero key", page: `<%- json.encode({[0] = "z", "a"}) %>`, out: `{"0":"z","1":"a"}`},
		{name: "number keys", page: `<%- json.encode({[2.5] = "x", [-1] = "y", [1e15] = "z"}) %>`, out: `{"-1":"y","1000000000000000":"z","2.5":"x"}`},
		{name: "bool keys", page: `<%- json.encode({[true] = 1, [false] = 0}) %>`, out: `{"false":0,"true":1}`},
		{name: "array set backwards", page: `<% local t = {} t[3] = "c" t[2] = "b" t[1] = "a" %><%- json.encode(t) %>`, out: `["a","b","c"]`},
		{name: "array emptied", page: `<% local t = {1, 2} t[1] = nil t[2] = nil %><%- json.encode(t) %>`, out: `{}`},
		{name: "string keys 1..n", page: `<%- json.encode({["1"] = "a", ["2"] = "b"}) %>`, out: `{"1":"a","2":"b"}`},
		{name: "same written key", page: "\n<%- json.encode({[1] = \"a\", [\"1\"] = \"b\"}) %>", err: `2: json.encode: cannot encode a table with two keys written as "1"`},
		{name: "same written invalid key", page: `<%- json.encode({["a\255"] = 1, ["a\254"] = 2}) %>`, err: `1: json.encode: cannot encode a table with two keys written as "a�"`},
		{name: "table key", page: `<%- json.encode({a = {[{}] = 1}}) %>`, err: `1: json.encode: cannot encode a table with a table key (at ["a"])`},

		// An empty table is {} unless made with json.array().
		{name: "empty", page: `<%- json.encode({}) %> <%- json.encode(json.array()) %> <%- json.encode(json.array({})) %> <%- json.encode({a = json.array(), b = {}}) %>`, out: `{} [] [] {"a":[],"b":{}}`},
		{name: "array keeps t", page: `<% local t = {1} %><%= json.array(t) == t %> <%- json.encode(json.array(t)) %> <%= getmetatable(json.array()) %>`, out: `true [1] false`},
		{name: "array emptied marked", page: `<% local t = json.array({1, 2}) table.remove(t) table.remove(t) %><%- json.encode(t) %>`, out: `[]`},
		{name: "array marked with a key", page: `<% local t = json.array({1}) t.x = 2 %><%- json.encode(t) %>`, out: `{"1":1,"x":2}`},
		{name: "array of not a table", page: "\n<% json.array(5) %>", err: `2: bad argument #1 to array (table expected, got number)`},
		{name: "array of an object", page: `<% json.array(setmetatable({}, {})) %>`, err: `1: json.array: the table already has a metatable`},
		{name: "array of a library", page: `<% json.array(string) %>`, err: `1: json.array: the table already has a metatable`},
		{name: "array marker protected", page: `<% setmetatable(json.array(), {}) %>`, err: `1: cannot change a protected metatable`},

		// json.null encodes null; null decodes to json.null.
		{name: "null", page: `<%- json.encode(json.null) %> <%- json.encode({json.null, 1}) %> <%- json.encode({a = json.null}) %>`, out: `null [null,1] {"a":null}`},
		{name: "null value", page: `<%= json.null %> <%= tostring(json.null) %> <%= type(json.null) %> <%= json.null == json.null %> <%= getmetatable(json.null) %>`, out: `null null userdata true false`},
		{name: "null decoded", page: `<% local t = json.decode('[null, 2, null]') %><%= json.decode("null") == json.null %> <%= #t %> <%= t[1] == json.null %> <%= t[3] == json.null %> <%= json.decode('{"a": null}').a == json.null %>`, out: `true 3 true true true`},
		{name: "null not indexable", page: `<% local x = json.null.x %>`, err: `1: attempt to index a non-table object(userdata) with key 'x'`},

		// json.decode: objects → tables, arrays → tables marked as arrays.
		{name: "decode", page: `<% local v = json.decode(' {"name": "Ada", "tags": ["a", "b"], "n": 2.5, "ok": true, "no": false} ') %><%= v.name %> <%= #v.tags %> <%= v.tags[2] %> <%= v.n %> <%= v.ok %> <%= v.no %>`, out: `Ada 2 b 2.5 true false`},
		{name: "decode scalars", page: `<%= json.decode("3") + 1 %> <%= json.decode('"x"') %> <%= json.decode("true") %> <%= type(json.decode("-1.5e2")) %> <%= json.decode("-1.5e2") %>`, out: `4 x true number -150`},
		{name: "decode arrays stay arrays", page: `<%- json.encode(json.decode("[]")) %> <%- json.encode(json.decode('{"a": [], "b": {}, "c": [[]]}')) %>`, out: `[] {"a":[],"b":{},"c":[[]]}`},
		{name: "decode duplicate keys", page: `<%= json.decode('{"a": 1, "a": 2}').a %>`, out: `2`},
		{name: "decode keys are strings", page: `<% local t = json.decode('{"1": "a"}') %><%= t[1] %> <%= t["1"] %>`, out: ` a`},
		{name: "decode arrays are tables", page: `<% local t = json.decode("[1, 2]") table.insert(t, 3) %><%- json.encode(t) %> <%= getmetatable(t) %>`, out: `[1,2,3] false`},
		{name: "decode body", page: `<% local o = json.decode(Request.Body) %><%= o.items[2].qty %>`, body: `{"items": [{"qty": 1}, {"qty": 4}]}`, out: `4`},

		// Strings.
		{name: "escapes", page: `<%- json.encode("a\"b\\c/\n\r\t\b\f" .. string.char(0, 1, 31, 127)) %>`, out: `"a\"b\\c/\n\r\t\b\f\u0000\u0001\u001f` + "\x7f" + `"`},
		{name: "html", page: `<%- json.encode("</script><!-- & ->") %>`, out: `"\u003c/script\u003e\u003c!-- \u0026 -\u003e"`},
		{name: "unicode", page: `<%- json.encode("héllo ☃ 😀") %>`, out: `"héllo ☃ 😀"`},
		{name: "line separators", page: "<%- json.encode(\"a\xe2\x80\xa8b\xe2\x80\xa9\") %>", out: `"a\u2028b\u2029"`},
		{name: "invalid utf8", page: `<%- json.encode("a\255b\192") %> <%- json.encode({["\255"] = 1}) %>`, out: `"a�b�" {"�":1}`},
		{name: "decode escapes", page: `<% local s = json.decode('"a\\"b\\\\c\\/\\n\\r\\t\\b\\f\\u0041\\u00e9\\u2603\\ud83d\\ude00"') %><%- json.encode(s) %> <%= #s %>`, out: `"a\"b\\c/\n\r\t\b\fAé☃😀" 21`},
		{name: "decode lone surrogate", page: `<%- json.encode(json.decode('["\\ud800", "\\ud800\\u0041", "\\udc00x"]')) %>`, out: `["�","�A","�x"]`},
		{name: "decode invalid utf8", page: `<%- json.encode(json.decode('"a\255b"')) %>`, out: `"a�b"`},
		{name: "decode raw unicode", page: `<%= json.decode('"☃"') == "☃" %>`, out: `true`},

		// Numbers.
		{name: "integers", page: `<%- json.encode({3, -7, 0, 1e15, 2^53, -2^63, 2^63, 1e20}) %>`, out: `[3,-7,0,1000000000000000,9007199254740992,-9223372036854776000,9223372036854776000,100000000000000000000]`},
		{name: "floats", page: `<%- json.encode({2.5, 0.1, -1.5e-10, 1e-7, 1e21, 1e300, 123456789.125, 1/3, 5e-324}) %>`, out: `[2.5,0.1,-1.5e-10,1e-7,1e+21,1e+300,123456789.125,0.3333333333333333,5e-324]`},
		{name: "negative zero", page: `<%- json.encode(-0) %> <%- json.encode(json.decode("-0")) %> <%= 1 / json.decode("-0") %> <%= 1 / json.decode("-0.0") %>`, out: `-0 -0 -Inf -Inf`},
		{name: "decode numbers", page: `<% local t = json.decode("[0, -1, 12345678901234567890, 1.5, 1E3, 1e+2, 2e-2, 1e-400, 9007199254740993]") %><%- json.encode(t) %>`, out: `[0,-1,12345678901234567000,1.5,1000,100,0.02,0,9007199254740992]`},
		{name: "nan", page: "\n<%- json.encode(0/0) %>", err: `2: json.encode: cannot encode NaN`},
		{name: "nan at", page: `<%- json.encode({a = {1, 0/0}}) %>`, err: `1: json.encode: cannot encode NaN (at ["a"][2])`},
		{name: "inf", page: `<%- json.encode({x = 1/0}) %>`, err: `1: json.encode: cannot encode inf (at ["x"])`},
		{name: "-inf", page: `<%- json.encode({-1/0}) %>`, err: `1: json.encode: cannot encode -inf (at [1])`},

		// What is not plain data.
		{name: "function", page: "\n\n<%- json.encode({a = {1, print}}) %>", err: `3: json.encode: cannot encode a function (at ["a"][2])`},
		{name: "intrinsic", page: `<%- json.encode({[1.5] = {Request}}) %>`, err: `1: json.encode: cannot encode a table with a metatable (at [1.5][1])`},
		{name: "userdata", page: `<%- json.encode({d = Server.CreateObject("Lasp.Dictionary")}) %>`, err: `1: json.encode: cannot encode a userdata (at ["d"])`},
		{name: "thread", page: `<%- json.encode({t = {[true] = coroutine.create(print)}}) %>`, err: `1: json.encode: cannot encode a thread (at ["t"][true])`},
		{name: "metatable", page: `<%- json.encode({setmetatable({}, {})}) %>`, err: `1: json.encode: cannot encode a table with a metatable (at [1])`},
		{name: "cycle", page: `<% local t = {a = {}} t.a.b = t %><%- json.encode(t) %>`, err: `1: json.encode: cannot encode a table that contains itself (at ["a"]["b"])`},
		{name: "shared not a cycle", page: `<% local s = {1} %><%- json.encode({s, s, {s}}) %>`, out: `[[1],[1],[[1]]]`},
		{name: "no argument", page: `<%- json.encode() %>`, err: `1: bad argument #1 to encode (value expected)`},

		// Bounds.
		{name: "depth 100", page: `<% local t = {} for i = 1, 99 do t = {t} end %><%= #json.encode(t) %>`, out: `200`},
		{name: "depth 101", page: `<% local t = {} for i = 1, 100 do t = {t} end %><%- json.encode(t) %>`, err: `1: json.encode: cannot encode a table nested more than 100 deep (at [1][1][1]`},
		{name: "decode depth 100", page: `<% local t = json.decode(("["):rep(100) .. ("]"):rep(100)) %><%= #json.encode(t) %>`, out: `200`},
		{name: "decode depth 101", page: `<% local t = json.decode(("["):rep(101) .. ("]"):rep(101)) %>`, err: `1: json.decode: nested more than 100 deep at byte 101`},
		{name: "decode deep objects", page: `<% local t = json.decode(('{"a":'):rep(101)) %>`, err: `1: json.decode: nested more than 100 deep at byte 501`},
		{name: "elements", page: `<% local t = {} for i = 1, 1000 do t[i] = {} for j = 1, 1000 do t[i][j] = j end end %><%- json.encode(t) %>`, err: `1: json.encode: cannot encode a value of more than 1000000 elements`},
		{name: "decode elements", page: `<% local t = json.decode("[" .. ("0,"):rep(1000000) .. "0]") %>`, err: `1: json.decode: more than 1000000 elements at byte 2000002`},
		{name: "size", page: `<% local s = ("x"):rep(9 * 1024 * 1024) %><%- json.encode({s, s}) %>`, err: `1: json.encode: result would be over 16777216 bytes`},
		{name: "size escaped", page: `<% local s = ("<"):rep(3 * 1024 * 1024) %><%- json.encode(s) %>`, err: `1: json.encode: result would be over 16777216 bytes`},
		{name: "size whole", page: `<% local s = ("x"):rep(16 * 1024 * 1024) %><%- json.encode(s) %>`, err: `1: json.encode: result would be over 16777216 bytes`},

		// Malformed texts fail with the byte, counting from 1.
		{name: "malformed empty", page: `<% json.decode("") %>`, err: `1: json.decode: unexpected end of text, expecting a value at byte 1`},
		{name: "malformed space", page: `<% json.decode("  ") %>`, err: `1: json.decode: unexpected end of text, expecting a value at byte 3`},
		{name: "malformed trailing comma", page: `<% json.decode("[1,]") %>`, err: `1: json.decode: unexpected ']', expecting a value at byte 4`},
		{name: "malformed object comma", page: `<% json.decode('{"a":1,}') %>`, err: `1: json.decode: unexpected '}', expecting a string key at byte 8`},
		{name: "malformed key", page: `<% json.decode("{a: 1}") %>`, err: `1: json.decode: unexpected 'a', expecting a string key at byte 2`},
		{name: "malformed colon", page: `<% json.decode('{"a" 1}') %>`, err: `1: json.decode: unexpected '1', expecting ':' at byte 6`},
		{name: "malformed missing comma", page: `<% json.decode("[1 2]") %>`, err: `1: json.decode: unexpected '2', expecting ',' or ']' at byte 4`},
		{name: "malformed unclosed", page: `<% json.decode('{"a": [1') %>`, err: `1: json.decode: unexpected end of text, expecting ',' or ']' at byte 9`},
		{name: "malformed literal", page: `<% json.decode("[tru]") %>`, err: `1: json.decode: unexpected ']' in literal true at byte 5`},
		{name: "malformed nul", page: `<% json.decode("nul") %>`, err: `1: json.decode: unexpected end of text in literal null at byte 4`},
		{name: "malformed after", page: `<% json.decode("[1] x") %>`, err: `1: json.decode: unexpected 'x' after the value at byte 5`},
		{name: "malformed two values", page: `<% json.decode("1 2") %>`, err: `1: json.decode: unexpected '2' after the value at byte 3`},
		{name: "malformed leading zero", page: `<% json.decode("012") %>`, err: `1: json.decode: unexpected '1' in number after a leading 0 at byte 2`},
		{name: "malformed fraction", page: `<% json.decode("1.") %>`, err: `1: json.decode: unexpected end of text in number, expecting a digit at byte 3`},
		{name: "malformed minus", page: `<% json.decode("-x") %>`, err: `1: json.decode: unexpected 'x' in number, expecting a digit at byte 2`},
		{name: "malformed plus", page: `<% json.decode("+1") %>`, err: `1: json.decode: unexpected '+', expecting a value at byte 1`},
		{name: "malformed exponent", page: `<% json.decode("1e") %>`, err: `1: json.decode: unexpected end of text in number, expecting a digit at byte 3`},
		{name: "malformed hex", page: `<% json.decode("0x10") %>`, err: `1: json.decode: unexpected 'x' after the value at byte 2`},
		{name: "malformed nan", page: `<% json.decode("NaN") %>`, err: `1: json.decode: unexpected 'N', expecting a value at byte 1`},
		{name: "malformed range", page: `<% json.decode("[1e400]") %>`, err: `1: json.decode: number 1e400 out of range at byte 2`},
		{name: "malformed unterminated", page: `<% json.decode('["abc') %>`, err: `1: json.decode: unterminated string at byte 2`},
		{name: "malformed unterminated escape", page: `<% json.decode('"ab\\') %>`, err: `1: json.decode: unterminated string at byte 1`},
		{name: "malformed escape", page: `<% json.decode('"a\\x"') %>`, err: `1: json.decode: invalid escape "\\x" in string at byte 3`},
		{name: "malformed u escape", page: `<% json.decode('"\\u12g4"') %>`, err: `1: json.decode: invalid 'g' in \u escape at byte 6`},
		{name: "malformed short u escape", page: `<% json.decode('"\\u12') %>`, err: `1: json.decode: unexpected end of text in \u escape at byte 6`},
		{name: "malformed control", page: `<% json.decode('"a\nb"') %>`, err: `1: json.decode: control character byte 0x0a in string at byte 3`},
		{name: "malformed single quotes", page: `<% json.decode("['a']") %>`, err: `1: json.decode: unexpected '\'', expecting a value at byte 2`},
		{name: "malformed comment", page: `<% json.decode("[1] // c") %>`, err: `1: json.decode: unexpected '/' after the value at byte 5`},
		{name: "malformed not a string", page: `<% json.decode({}) %>`, err: `1: bad argument #1 to decode (string expected, got table)`},
		{name: "malformed caught", page: `<% local ok, err = pcall(json.decode, "[") %><%= ok %> <%= err %>`, out: `false t.lasp:1: json.decode: unexpected end of text, expecting a value at byte 2`},

		// The library is read-only.
		{name: "read-only set", page: "\n<% json.x = 1 %>", err: `2: cannot change x: the standard libraries are read-only`},
		{name: "read-only replace", page: `<% json.encode = nil %>`, err: `1: cannot change encode: the standard libraries are read-only`},
		{name: "read-only null", page: `<% json.null = false %>`, err: `1: cannot change null: the standard libraries are read-only`},
		{name: "read-only rawset", page: `<% rawset(json, "encode", print) %>`, err: `1: rawset: the table is read-only`},
		{name: "read-only metatable", page: `<% setmetatable(json, nil) %>`, err: `1: cannot change a protected metatable`},
		{name: "read-only global", page: `<% json = {encode = function() return "mine" end} %><%= json.encode({}) %>`, out: `mine`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := New(Config{FS: fstest.MapFS{
				"t.lasp":     {Data: []byte(tc.page)},
				"probe.lasp": {Data: []byte(`<%- json.encode({json.array(), {a = json.null}, json.decode("[1]")}) %>`)},
			}})
			defer e.Close()
			out, err := runJSON(t, e, "t.lasp", tc.body)
			if tc.err == "" {
				if err != nil || out != tc.out {
					t.Errorf("got %q, %v\nwant %q", out, err, tc.out)
				}
			} else {
				var se *Error
				want := "t.lasp:" + tc.err
				if !errors.As(err, &se) || se.Kind != Runtime || !strings.HasPrefix(se.Error(), want) {
					t.Errorf("got %q, %v\nwant a runtime error %q", out, err, want)
				}
			}
			if out, err := runJSON(t, e, "probe.lasp", ""); out != `[[],{"a":null},[1]]` || err != nil {
				t.Errorf("probe after the page: %q, %v", out, err)
			}
		})
	}
}

// TestJSONRoundTrip decodes documents and encodes them again: a document
// written as json.encode writes it (sorted keys, no spaces) comes back the
// same.
func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	docs := []string{
		`null`, `true`, `false`, `0`, `-0`, `1.5`, `-12`, `1e+300`, `1e-7`, `"x"`, `""`,
		`[]`, `{}`, `[[]]`, `[{}]`, `{"a":[]}`, `[[],{},[[]],{"a":{}}]`,
		`[null]`, `[1,null,3]`, `{"a":null}`, `[true,false,null,0,"s"]`,
		`{"1":"a","2":"b"}`, `{"":1}`, `{"a":[1,2,{"b":null}],"c":"d"}`,
		`"\"\\\n\r\t\b\f\u0000\u001f\u003c\u0026\u003e\u2028"`, `"é☃😀"`,
		`{"created":"2024-01-02T03:04:05Z","id":1,"name":"Tea","price":3.5}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
	}
	var src strings.Builder
	src.WriteString("<% for _, s in ipairs(docs) do local out = json.encode(json.decode(s)) if out ~= s then Response.Write(s .. ' → ' .. out .. '\\n') end end %>ok")
	page := "<% docs = {"
	for _, d := range docs {
		page += fmt.Sprintf("%q, ", d) // Lua reads Go's quoted strings for these
	}
	page += "} %>" + src.String()
	e := New(Config{FS: fstest.MapFS{"t.lasp": {Data: []byte(page)}}})
	defer e.Close()
	if out, err := runJSON(t, e, "t.lasp", ""); out != "ok" || err != nil {
		t.Errorf("round trips:\n%s\n%v", out, err)
	}
}

// TestJSONDocs runs the examples of docs/data.md's JSON section.
func TestJSONDocs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, page, body, out string
	}{
		{
			name: "products",
			page: `<%
Response.ContentType = "application/json"
local rows = {
  {id = 1, name = "Tea", price = 3.5, tags = json.array()},
  {id = 2, name = "Cake", price = 4, tags = {"sweet"}},
}
Response.Write(json.encode({products = rows, count = #rows, next = json.null}))
%>`,
			out: `{"count":2,"next":null,"products":[{"id":1,"name":"Tea","price":3.5,"tags":[]},{"id":2,"name":"Cake","price":4,"tags":["sweet"]}]}`,
		},
		{
			name: "order",
			page: `<%
Response.ContentType = "application/json"
local order = json.decode(Request.Body)
local total = 0
for _, item in ipairs(order.items) do
  total = total + item.qty * item.price
end
Response.Write(json.encode({customer = order.customer, total = total, note = order.note == json.null and "none" or order.note}))
%>`,
			body: `{"customer": "Ada", "items": [{"qty": 2, "price": 3.5}, {"qty": 1, "price": 4}], "note": null}`,
			out:  `{"customer":"Ada","note":"none","total":11}`,
		},
		{
			name: "script",
			page: `<% local user = {name = "</script><b>Ada</b>"} %>
<script>const user = <%- json.encode(user) %>;</script>`,
			out: "\n" + `<script>const user = {"name":"\u003c/script\u003e\u003cb\u003eAda\u003c/b\u003e"};</script>`,
		},
		{
			name: "errors",
			page: `<% local ok, err = pcall(json.decode, '{"a": 1,}') %>
<%= err %>
<% ok, err = pcall(json.encode, {price = 0/0}) %>
<%= err %>`,
			out: "\nindex.lasp:1: json.decode: unexpected &#39;}&#39;, expecting a string key at byte 9\n\nindex.lasp:3: json.encode: cannot encode NaN (at [&#34;price&#34;])",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Config{FS: fstest.MapFS{"index.lasp": {Data: []byte(tc.page)}}})
			defer e.Close()
			if out, err := runJSON(t, e, "index.lasp", tc.body); out != tc.out || err != nil {
				t.Errorf("got %q, %v\nwant %q", out, err, tc.out)
			}
		})
	}
}

func runJSON(t *testing.T, e *Engine, name, body string) (string, error) {
	t.Helper()
	p, err := e.Page(name)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = e.Run(t.Context(), &out, p, &Env{Request: &testRequest{body: body}, Response: &testResponse{},
		Application: Local(scope.NewContents("Application"))})
	return out.String(), err
}

// jsonFuncs returns a state's json.encode and json.decode.
func jsonFuncs(s *state) (encode, decode *lua.LFunction) {
	lib := s.base.RawGetString("json").(*lua.LTable).Metatable.(*lua.LTable).RawGetString("__index").(*lua.LTable)
	return lib.RawGetString("encode").(*lua.LFunction), lib.RawGetString("decode").(*lua.LFunction)
}

// callJSON calls f(arg) in s, returning its result or its error.
func callJSON(s *state, f *lua.LFunction, arg lua.LValue) (lua.LValue, error) {
	L := s.L
	if err := L.CallByParam(lua.P{Fn: f, NRet: 1, Protect: true}, arg); err != nil {
		return nil, err
	}
	v := L.Get(-1)
	L.Pop(1)
	return v, nil
}

// FuzzJSON: decoding any text never panics, and what decodes encodes to a
// text that decodes to an equal value and encodes to the same text.
func FuzzJSON(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `[]`, `{}`, `[1,"a",null,true,{"b":[]}]`, `{"a":{"a":{"a":1}},"a":2}`,
		`"\ud83d\ude00\u00e9\\\/\b"`, `-0.5e-3`, `[1e400]`, "\"\xff\"", `[[[[[[]]]]]]`, ` { "x" : [ 1 , 2 ] } `,
	} {
		f.Add(seed)
	}
	s := newState(New(Config{}))
	defer s.close()
	encode, decode := jsonFuncs(s)
	f.Fuzz(func(t *testing.T, text string) {
		v, err := callJSON(s, decode, lua.LString(text))
		if err != nil {
			if !strings.Contains(err.Error(), "json.decode: ") {
				t.Fatalf("decode %q: unexpected error %v", text, err)
			}
			return
		}
		out, err := callJSON(s, encode, v)
		if err != nil {
			t.Fatalf("decode %q then encode: %v", text, err)
		}
		back, err := callJSON(s, decode, out)
		if err != nil {
			t.Fatalf("decode %q, encode %q, decode: %v", text, out, err)
		}
		if !luaEqual(v, back, 0) {
			t.Fatalf("decode %q, encode %q, decode: a different value", text, out)
		}
		if again, err := callJSON(s, encode, back); err != nil || again != out {
			t.Fatalf("decode %q: encoded %q, then %q, %v", text, out, again, err)
		}
	})
}

// luaEqual compares decoded values: numbers by value (NaN cannot occur),
// tables key by key, with the same metatable.
func luaEqual(a, b lua.LValue, depth int) bool {
	if a.Type() != b.Type() {
		return false
	}
	ta, ok := a.(*lua.LTable)
	if !ok {
		if na, ok := a.(lua.LNumber); ok && math.Signbit(float64(na)) != math.Signbit(float64(b.(lua.LNumber))) {
			return false
		}
		return a == b
	}
	tb := b.(*lua.LTable)
	if depth > scope.MaxDepth || ta.Metatable != tb.Metatable {
		return false
	}
	n, equal := 0, true
	ta.ForEach(func(k, v lua.LValue) {
		n++
		equal = equal && luaEqual(v, tb.RawGet(k), depth+1)
	})
	tb.ForEach(func(lua.LValue, lua.LValue) { n-- })
	return equal && n == 0
}

// TestJSONStored: decoded arrays and json.array tables are plain data for
// Session and Application (without their mark); json.null is not.
func TestJSONStored(t *testing.T) {
	r := runAPICase(t, apiCase{page: `<% Application["a"] = json.decode('[1, [2, {"x": [3]}]]') Application["e"] = json.array() %>` +
		`<%- json.encode(Application["a"]) %> <%- json.encode(Application["e"]) %>`})
	if r.err != nil || r.out != `[1,[2,{"x":[3]}]] {}` {
		t.Errorf("got %q, %v", r.out, r.err)
	}
	r = runAPICase(t, apiCase{page: `<% Application["n"] = json.null %>`})
	if r.err == nil || !strings.Contains(r.err.Error(), `Application["n"]: a userdata cannot be stored`) {
		t.Errorf("json.null stored: %v", r.err)
	}
}
