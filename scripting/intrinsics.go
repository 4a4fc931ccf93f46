package scripting

import (
	"fmt"
	"html"
	"maps"
	"math"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// installIntrinsics readies Request, Response, Server, Application,
// Session and ObjectContext, which act on the state's current run. The
// page write functions (__lasp_t and friends) are shared (libraries).
func (s *state) installIntrinsics() {
	// The intrinsic objects are built on their first use in the state
	// (see state.declared): a state that never touches Request, such as an
	// apartment's, never pays for it.
	s.intrinsics = map[string]func() *object{
		"Request":     s.request,
		"Response":    s.response,
		"Server":      s.server,
		"Application": s.application,
		"Session":     s.session,
		// ObjectContext: SetAbort and SetComplete (transaction.go).
		"ObjectContext": s.objectContext,
	}
}

// writeText is __lasp_t(i): the page's text i.
func (s *state) writeText(L *lua.LState) int {
	s.run.out.writeString(L, s.run.page.texts[L.CheckInt(1)])
	return 0
}

// writeEscaped is __lasp_e(v): <%= v %>.
func (s *state) writeEscaped(L *lua.LState) int {
	s.run.out.writeValue(L, L.Get(1), false)
	return 0
}

// writeRaw is __lasp_r(v): <%- v %>.
func (s *state) writeRaw(L *lua.LState) int {
	s.run.out.writeValue(L, L.Get(1), true)
	return 0
}

// writeMixed is __lasp_w(i, ...): the page's write sequence i, texts and
// the values given.
func (s *state) writeMixed(L *lua.LState) int {
	r := s.run
	arg := 2
	for _, op := range r.page.writes[L.CheckInt(1)] {
		if op.text >= 0 {
			r.out.writeString(L, r.page.texts[op.text])
			continue
		}
		r.out.writeValue(L, L.Get(arg), op.raw)
		arg++
	}
	return 0
}

// writeValue writes v as <%= %> (escaped) or <%- %> and Response.Write (raw) do.
func (o *output) writeValue(L *lua.LState, v lua.LValue, raw bool) {
	if n, ok := v.(lua.LNumber); ok && isInteger(n) {
		// Digits need no escaping: written with no string made.
		var b [24]byte
		digits := strconv.AppendInt(b[:0], int64(n), 10)
		o.grow(L, len(digits))
		o.buf = append(o.buf, digits...)
		if !o.buffered {
			o.flush(L)
		}
		return
	}
	str, ok := valueString(L, v)
	switch {
	case !ok:
	case raw:
		o.writeString(L, str)
	default:
		o.writeEscaped(L, str)
	}
}

// valueString is what writing v outputs: nothing for nil, else tostring(v).
func valueString(L *lua.LState, v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case *lua.LNilType:
		return "", false
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return numberString(v), true
	}
	return L.ToStringMeta(v).String(), true
}

// numberString is tostring(n) without fmt for integers, the common case.
func numberString(n lua.LNumber) string {
	if isInteger(n) {
		return strconv.FormatInt(int64(n), 10)
	}
	return n.String()
}

// isInteger reports whether tostring(n) is n's digits, as an integer.
func isInteger(n lua.LNumber) bool {
	f := float64(n)
	return f == math.Trunc(f) && math.Abs(f) < 1e15
}

// collection is a read-only, case-insensitive view of request values, as
// Request.QueryString, Form, Cookies and ServerVariables.
func (s *state) collection(name string, values func(L *lua.LState) url.Values, raw func() string) (*object, func(*lua.LState, string) lua.LValue) {
	return collectionOf(s, name, func(L *lua.LState) map[string][]string { return values(L) },
		func(_ *lua.LState, v string) lua.LValue { return lua.LString(v) }, raw)
}

// collectionOf is a read-only, case-insensitive view of a request's
// values by name, each made a Lua value by conv: index and call give the
// first value of a name, Item too, Values all of them, Keys the names in
// order, Count their number; tostring gives raw(), when raw is not nil.
func collectionOf[T any](s *state, name string, values func(L *lua.LState) map[string][]T, conv func(*lua.LState, T) lua.LValue, raw func() string) (*object, func(*lua.LState, string) lua.LValue) {
	lookup := func(L *lua.LState, key string) []T {
		vals := values(L)
		if v, ok := vals[key]; ok {
			return v
		}
		for k, v := range vals {
			if strings.EqualFold(k, key) {
				return v
			}
		}
		return nil
	}
	first := func(L *lua.LState, key string) lua.LValue {
		if v := lookup(L, key); len(v) > 0 {
			return conv(L, v[0])
		}
		return lua.LNil
	}
	o := s.newObject(name, func(L *lua.LState, key string) (lua.LValue, bool) {
		if key == "Count" {
			return lua.LNumber(len(values(L))), true
		}
		return first(L, key), true
	}, nil)
	o.method(s.L, "Item", func(L *lua.LState) int {
		L.Push(first(L, L.CheckString(1)))
		return 1
	})
	o.method(s.L, "Values", func(L *lua.LState) int {
		vals := lookup(L, L.CheckString(1))
		t := L.CreateTable(len(vals), 0)
		for _, v := range vals {
			t.Append(conv(L, v))
		}
		L.Push(t)
		return 1
	})
	o.method(s.L, "Keys", func(L *lua.LState) int {
		L.Push(stringArray(L, slices.Sorted(maps.Keys(values(L)))))
		return 1
	})
	o.meta(s.L, "__call", func(L *lua.LState) int {
		L.Push(first(L, L.CheckString(2)))
		return 1
	})
	if raw != nil {
		o.meta(s.L, "__tostring", func(L *lua.LState) int {
			L.Push(lua.LString(raw()))
			return 1
		})
	}
	return o, first
}

func stringArray(L *lua.LState, vals []string) *lua.LTable {
	t := L.CreateTable(len(vals), 0)
	for _, v := range vals {
		t.Append(lua.LString(v))
	}
	return t
}

// bodyCheck raises err from reading the body as the page's runtime error,
// keeping err as its cause (the framework answers 413 or 400 for some).
func (s *state) bodyCheck(L *lua.LState, what string, err error) {
	if err != nil {
		s.run.raised = err
		L.RaiseError("%s: %v", what, err)
	}
}

// request builds the Request object.
func (s *state) request() *object {
	req := func() Request { return s.run.env.Request }
	query, queryValue := s.collection("Request.QueryString", func(*lua.LState) url.Values { return req().Query() },
		func() string { return req().RawQuery() })
	form, formValue := s.collection("Request.Form", func(L *lua.LState) url.Values {
		f, err := req().Form(s.run.ctx)
		s.bodyCheck(L, "Request.Form", err)
		return f
	}, func() string {
		// ASP gives the form data as sent.
		if ct, _ := req().ServerVariable("CONTENT_TYPE"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			b, _ := req().Body(s.run.ctx)
			return b
		}
		f, _ := req().Form(s.run.ctx)
		return f.Encode()
	})
	cookies, cookieValue := s.collection("Request.Cookies", func(*lua.LState) url.Values {
		names := req().CookieNames()
		vals := make(url.Values, len(names))
		for _, n := range names {
			v, _ := req().Cookie(n)
			vals[n] = []string{v}
		}
		return vals
	}, func() string { return "" })
	varValue := func(_ *lua.LState, key string) lua.LValue {
		if v, ok := req().ServerVariable(strings.ToUpper(key)); ok {
			return lua.LString(v)
		}
		return lua.LNil
	}
	vars := s.newObject("Request.ServerVariables", func(L *lua.LState, key string) (lua.LValue, bool) {
		return varValue(L, key), true
	}, nil)
	vars.meta(s.L, "__call", func(L *lua.LState) int {
		L.Push(varValue(L, L.CheckString(2)))
		return 1
	})
	body := func(L *lua.LState) string {
		b, err := req().Body(s.run.ctx)
		s.bodyCheck(L, "Request.Body", err)
		return b
	}
	totalBytes := func(L *lua.LState) int64 {
		n, err := req().TotalBytes(s.run.ctx)
		s.bodyCheck(L, "Request.TotalBytes", err)
		return n
	}
	// Request[k] looks in QueryString, Form, Cookies, then ServerVariables.
	lookup := func(L *lua.LState, key string) lua.LValue {
		for _, value := range []func(*lua.LState, string) lua.LValue{queryValue, formValue, cookieValue, varValue} {
			if v := value(L, key); v != lua.LNil {
				return v
			}
		}
		return lua.LNil
	}
	o := s.newObject("Request", func(L *lua.LState, key string) (lua.LValue, bool) {
		switch key {
		case "TotalBytes":
			return lua.LNumber(totalBytes(L)), true
		case "Body":
			return lua.LString(body(L)), true
		}
		return lookup(L, key), true
	}, nil)
	o.field("QueryString", query.proxy)
	o.field("Form", form.proxy)
	o.field("Cookies", cookies.proxy)
	o.field("ServerVariables", vars.proxy)
	o.field("Files", s.files(req).proxy)
	o.meta(s.L, "__call", func(L *lua.LState) int {
		L.Push(lookup(L, L.CheckString(2)))
		return 1
	})
	return o
}

// files builds Request.Files: the uploaded files of a multipart form, a
// collection as Request.Form is, whose values are file objects.
func (s *state) files(req func() Request) *object {
	values := func(L *lua.LState) map[string][]File {
		f, err := req().Files(s.run.ctx)
		s.bodyCheck(L, "Request.Files", err)
		return f
	}
	mt := s.newFileMT()
	file := func(L *lua.LState, f File) lua.LValue {
		ud := L.NewUserData()
		ud.Value = &uploaded{f: f, r: s.run}
		ud.Metatable = mt
		return ud
	}
	o, _ := collectionOf(s, "Request.Files", values, file, nil)
	return o
}

// uploaded is a file of Request.Files as scripts hold it: it is usable in
// the run that read it only, its temporary file going with its request.
type uploaded struct {
	f File
	r *run
}

// newFileMT is the metatable of the files of Request.Files: Name, Size
// and ContentType, and the methods Read and SaveAs (with "." or ":").
func (s *state) newFileMT() *lua.LTable {
	L := s.L
	methods := map[string]func(L *lua.LState, f File) int{
		"Read": func(L *lua.LState, f File) int {
			b, err := f.Read()
			if err != nil {
				s.check(L, fmt.Errorf("Request.Files: Read: %w", err))
			}
			L.Push(lua.LString(b))
			return 1
		},
		"SaveAs": func(L *lua.LState, f File) int {
			p, err := f.SaveAs(s.run.ctx, L.CheckString(1))
			if err != nil {
				s.check(L, fmt.Errorf("Request.Files: SaveAs: %w", err))
			}
			L.Push(lua.LString(p))
			return 1
		},
	}
	mt := L.CreateTable(0, 4)
	mt.RawSetString("__metatable", lua.LFalse)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		f := ud.Value.(*uploaded).f
		switch key := L.CheckString(2); key {
		case "Name":
			L.Push(lua.LString(f.Name()))
		case "Size":
			L.Push(lua.LNumber(f.Size()))
		case "ContentType":
			L.Push(lua.LString(f.ContentType()))
		default:
			method, ok := methods[key]
			if !ok {
				return 0
			}
			L.Push(L.NewFunction(func(L *lua.LState) int {
				if L.GetTop() > 0 && L.Get(1) == ud {
					L.Remove(1)
				}
				if ud.Value.(*uploaded).r != s.run {
					L.RaiseError("Request.Files: %s: the file %q came with a request that has ended", key, f.Name())
				}
				return method(L, f)
			}))
		}
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Request.Files: a file's %s cannot be set", L.CheckString(2))
		return 0
	}))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(L.CheckUserData(1).Value.(*uploaded).f.Name()))
		return 1
	}))
	return mt
}

// headSent raises an error when the response head was already sent.
func (s *state) headSent(L *lua.LState, what string) {
	if s.run.out.committed {
		L.RaiseError("%s: the response headers were already sent (by Response.Flush or Response.Buffer = false)", what)
	}
}

// response builds the Response object.
func (s *state) response() *object {
	L := s.L
	o := s.newObject("Response", func(L *lua.LState, key string) (lua.LValue, bool) {
		r := s.run
		switch key {
		case "Status":
			return lua.LNumber(r.status), true
		case "ContentType":
			return lua.LString(r.contentType), true
		case "Charset":
			return lua.LString(r.charset), true
		case "Buffer":
			return lua.LBool(r.out.buffered), true
		case "CacheControl":
			return lua.LString(r.cacheControl), true
		case "Expires":
			if r.expires == nil {
				return lua.LNil, true
			}
			return lua.LNumber(*r.expires), true
		case "IsClientConnected":
			return lua.LBool(r.ctx.Err() == nil), true
		}
		return lua.LNil, false
	}, func(L *lua.LState, key string, v lua.LValue) bool {
		r := s.run
		switch key {
		case "Status":
			s.headSent(L, "Response.Status")
			r.status = parseStatus(L, v)
		case "ContentType":
			s.headSent(L, "Response.ContentType")
			r.contentType = checkString(L, "Response.ContentType", v)
		case "Charset":
			s.headSent(L, "Response.Charset")
			r.charset = checkString(L, "Response.Charset", v)
		case "CacheControl":
			s.headSent(L, "Response.CacheControl")
			r.cacheControl = checkString(L, "Response.CacheControl", v)
		case "Expires":
			s.headSent(L, "Response.Expires")
			n, ok := v.(lua.LNumber)
			if !ok {
				L.RaiseError("Response.Expires must be a number of minutes, not %s", v.Type())
			}
			// HTTP asks for no Expires more than a year ahead; NaN fails both.
			if !(n >= -maxExpires && n <= maxExpires) {
				L.RaiseError("Response.Expires must be a number of minutes from -%d to %d (a year), not %s", maxExpires, maxExpires, n)
			}
			minutes := float64(n)
			r.expires = &minutes
			at := time.Now().Add(time.Duration(minutes * float64(time.Minute)))
			r.env.Response.Header().Set("Expires", at.UTC().Format(httpTime))
		case "Buffer":
			b, ok := v.(lua.LBool)
			if !ok {
				L.RaiseError("Response.Buffer must be true or false")
			}
			r.out.buffered = bool(b)
			if !r.out.buffered {
				r.out.flush(L)
			}
		default:
			return false
		}
		return true
	})
	o.method(L, "Write", func(L *lua.LState) int {
		s.run.out.writeValue(L, L.Get(1), true)
		return 0
	})
	o.method(L, "BinaryWrite", func(L *lua.LState) int {
		s.run.out.writeString(L, L.CheckString(1))
		return 0
	})
	o.method(L, "AddHeader", func(L *lua.LState) int {
		s.headSent(L, "Response.AddHeader")
		name, value := L.CheckString(1), L.CheckString(2)
		if !validHeader(name, value) {
			L.RaiseError("Response.AddHeader: invalid header %q", name)
		}
		s.run.env.Response.Header().Add(name, value)
		return 0
	})
	o.method(L, "Redirect", func(L *lua.LState) int {
		s.headSent(L, "Response.Redirect")
		to := L.CheckString(1)
		if strings.ContainsAny(to, "\r\n") {
			L.RaiseError("Response.Redirect: the URL contains a line break")
		}
		r := s.run
		r.status = 302
		r.env.Response.Header().Set("Location", to)
		r.out.buf = r.out.buf[:0]
		r.out.writeString(L, `<html><head><title>Object moved</title></head><body><h1>Object Moved</h1>This object may be found <a href="`+
			html.EscapeString(to)+`">here</a>.</body></html>`)
		r.stopPage(L)
		return 0
	})
	o.method(L, "Flush", func(L *lua.LState) int {
		s.run.out.flush(L)
		return 0
	})
	o.method(L, "Clear", func(L *lua.LState) int {
		s.run.out.buf = s.run.out.buf[:0]
		return 0
	})
	o.method(L, "End", func(L *lua.LState) int {
		s.run.stopPage(L)
		return 0
	})
	o.method(L, "AppendToLog", func(L *lua.LState) int {
		if r := s.run; r.env.Log != nil {
			r.env.Log.Info("AppendToLog", "request_id", r.env.RequestID, "page", r.page.Name, "text", L.CheckString(1))
		}
		return 0
	})
	o.field("Cookies", s.responseCookies().proxy)
	return o
}

const httpTime = "Mon, 02 Jan 2006 15:04:05 GMT"

func checkString(L *lua.LState, what string, v lua.LValue) string {
	str, ok := v.(lua.LString)
	if !ok {
		L.RaiseError("%s must be a string, not %s", what, v.Type())
	}
	if strings.ContainsAny(string(str), "\r\n") {
		L.RaiseError("%s contains a line break", what)
	}
	return string(str)
}

// parseStatus accepts 404 or "404 Not Found".
func parseStatus(L *lua.LState, v lua.LValue) int {
	var n int
	switch v := v.(type) {
	case lua.LNumber:
		n = int(v)
	case lua.LString:
		f := strings.Fields(string(v))
		if len(f) > 0 {
			n, _ = strconv.Atoi(f[0])
		}
	}
	if n < 100 || n > 999 {
		L.RaiseError("Response.Status: invalid status %s", v.String())
	}
	return n
}

var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func validHeader(name, value string) bool {
	return headerName.MatchString(name) && !strings.ContainsAny(value, "\r\n\x00")
}

// responseCookies builds Response.Cookies: Response.Cookies[name] = value or
// = {Value=, Path=, Domain=, Expires=, HttpOnly=, Secure=, SameSite=}.
func (s *state) responseCookies() *object {
	return s.newObject("Response.Cookies", func(L *lua.LState, key string) (lua.LValue, bool) {
		if v, ok := s.run.cookies[key]; ok {
			return lua.LString(v), true
		}
		return lua.LNil, true
	}, func(L *lua.LState, name string, v lua.LValue) bool {
		s.headSent(L, "Response.Cookies")
		c := &Cookie{Name: name, Path: "/"}
		switch v := v.(type) {
		case lua.LString, lua.LNumber:
			c.Value = v.String()
		case *lua.LTable:
			c.Value = lua.LVAsString(v.RawGetString("Value"))
			if p := v.RawGetString("Path"); p != lua.LNil {
				c.Path = lua.LVAsString(p)
			}
			c.Domain = lua.LVAsString(v.RawGetString("Domain"))
			c.HttpOnly = lua.LVAsBool(v.RawGetString("HttpOnly"))
			c.Secure = lua.LVAsBool(v.RawGetString("Secure"))
			c.SameSite = lua.LVAsString(v.RawGetString("SameSite"))
			switch e := v.RawGetString("Expires").(type) {
			case lua.LNumber:
				if !(e >= 0 && e <= maxCookieExpires) { // NaN fails both
					L.RaiseError("Response.Cookies[%q].Expires must be a Unix time from 0 to %d (year 9999), not %s", name, int64(maxCookieExpires), e)
				}
				c.Expires = time.Unix(int64(e), 0)
			case lua.LString:
				t, err := time.Parse(httpTime, string(e))
				if err != nil {
					L.RaiseError("Response.Cookies[%q].Expires: %v", name, err)
				}
				c.Expires = t
			}
			switch strings.ToLower(c.SameSite) {
			case "", "lax", "strict", "none":
			default:
				L.RaiseError("Response.Cookies[%q].SameSite must be Lax, Strict or None", name)
			}
		default:
			L.RaiseError("Response.Cookies[%q] must be a string or a table, not %s", name, v.Type())
		}
		r := s.run
		if r.cookies == nil {
			r.cookies = map[string]string{}
		}
		r.cookies[name] = c.Value
		r.env.Response.SetCookie(c)
		return true
	})
}

// server builds the Server object.
func (s *state) server() *object {
	L := s.L
	o := s.newObject("Server", func(L *lua.LState, key string) (lua.LValue, bool) {
		if key == "ScriptTimeout" {
			return lua.LNumber(s.run.timeout.Seconds()), true
		}
		return lua.LNil, false
	}, func(L *lua.LState, key string, v lua.LValue) bool {
		if key != "ScriptTimeout" {
			return false
		}
		n, ok := v.(lua.LNumber)
		if !ok || !(n > 0 && n <= maxScriptTimeout) { // NaN fails both
			L.RaiseError("Server.ScriptTimeout must be a positive number of seconds, at most %d (a day), not %s",
				maxScriptTimeout, L.ToStringMeta(v).String())
		}
		s.run.setTimeout(time.Duration(float64(n) * float64(time.Second)))
		return true
	})
	o.method(L, "CreateObject", func(L *lua.LState) int {
		L.Push(s.createObject(L, L.CheckString(1)))
		return 1
	})
	o.method(L, "HTMLEncode", func(L *lua.LState) int {
		str, _ := valueString(L, L.Get(1))
		L.Push(lua.LString(html.EscapeString(str)))
		return 1
	})
	o.method(L, "URLEncode", func(L *lua.LState) int {
		str, _ := valueString(L, L.Get(1))
		L.Push(lua.LString(url.QueryEscape(str)))
		return 1
	})
	o.method(L, "MapPath", func(L *lua.LState) int {
		name := s.resolve(L, "Server.MapPath", L.CheckString(1))
		if s.e.cfg.Dir != "" {
			L.Push(lua.LString(filepath.Join(s.e.cfg.Dir, filepath.FromSlash(name))))
		} else {
			L.Push(lua.LString("/" + strings.TrimPrefix(name, ".")))
		}
		return 1
	})
	o.method(L, "Execute", func(L *lua.LState) int {
		s.run.runNested(L, s.loadPage(L, "Server.Execute", L.CheckString(1)), "Server.Execute")
		return 0
	})
	o.method(L, "Transfer", func(L *lua.LState) int {
		s.run.runNested(L, s.loadPage(L, "Server.Transfer", L.CheckString(1)), "Server.Transfer")
		s.run.stopPage(L)
		return 0
	})
	o.method(L, "GetLastError", func(L *lua.LState) int {
		L.Push(s.lastError(L))
		return 1
	})
	o.method(L, "Sleep", func(L *lua.LState) int {
		d := time.Duration(float64(L.CheckNumber(1)) * float64(time.Second))
		t := time.NewTimer(d)
		defer t.Stop()
		defer s.run.waiting()()
		select {
		case <-t.C:
		case <-s.run.ctx.Done():
			L.RaiseError("Server.Sleep: %v", s.run.ctx.Err())
		}
		return 0
	})
	return o
}

// maxExpires bounds Response.Expires, in minutes (a year), and
// maxCookieExpires a cookie's Expires as a Unix time (the end of 9999).
const (
	maxExpires       = 525_600
	maxCookieExpires = 253_402_300_799
)

// maxScriptTimeout bounds Server.ScriptTimeout, in seconds: a page runs a
// day at most, and a larger number would overflow the timer.
const maxScriptTimeout = 86_400

// resolve turns a path given to Server.MapPath/Execute/Transfer into an
// app-relative name: "/x" from the root, "x" from the current page's folder.
func (s *state) resolve(L *lua.LState, what, p string) string {
	var name string
	if strings.HasPrefix(p, "/") {
		name = path.Clean(p[1:])
	} else {
		name = path.Join(path.Dir(s.run.page.Name), p)
	}
	if name == "" {
		name = "."
	}
	if name == ".." || strings.HasPrefix(name, "../") || strings.Contains(p, "\\") {
		L.RaiseError("%s: %q is outside the application root", what, p)
	}
	return name
}

// loadPage compiles the page a Server.Execute or Transfer names.
func (s *state) loadPage(L *lua.LState, what, p string) *Page {
	name := s.resolve(L, what, p)
	if !strings.HasSuffix(strings.ToLower(name), ".lasp") {
		L.RaiseError("%s: %q is not a .lasp page", what, p)
	}
	pg, err := s.e.Page(name)
	if err != nil {
		if se, ok := err.(*Error); ok {
			s.run.pending = se
		}
		L.RaiseError("%s: %v", what, err)
	}
	return pg
}

// lastError is Server.GetLastError's object.
func (s *state) lastError(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 4)
	e := s.run.env.LastError
	t.RawSetString("RequestID", lua.LString(s.run.env.RequestID))
	if e == nil {
		for _, k := range []string{"File", "Description", "Category", "Source"} {
			t.RawSetString(k, lua.LString(""))
		}
		t.RawSetString("Line", lua.LNumber(0))
		return t
	}
	t.RawSetString("File", lua.LString(e.File))
	t.RawSetString("Line", lua.LNumber(e.Line))
	t.RawSetString("Description", lua.LString(e.Msg))
	t.RawSetString("Category", lua.LString("Lua "+e.Kind.String()))
	t.RawSetString("Source", lua.LString(s.e.sourceLine(e.File, e.Line)))
	return t
}
