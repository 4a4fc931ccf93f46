package framework

import (
	"strings"
	"testing"
)

// TestIsolation runs pages that try to leak state into the next request of
// the same Lua state. Each attack runs inside pcall, so the page succeeds and
// its state really is reused: the probe must see nothing of the attack.
func TestIsolation(t *testing.T) {
	attacks := map[string]string{
		"global":      `leaked = "yes"`,
		"string":      `string.upper = nil`,
		"table":       `table.insert = nil`,
		"metatable":   `getmetatable("").__index = {}`,
		"stringmeta":  `local mt = getmetatable("") mt.__index.upper = nil`,
		"rawset":      `rawset(string, "upper", function() return "pwned" end)`,
		"setmeta":     `setmetatable(string, nil)`,
		"g":           `_G.string = nil; _G.leaked = "g"`,
		"envmeta":     `getmetatable(_G).__index.leaked = "mt"`,
		"request":     `Request.QueryString = nil`,
		"response":    `Response.Write = function() end`,
		"members":     `rawset(Response, "Write", nil)`,
		"coroutine":   `coroutine.create = nil`,
		"osdate":      `os.date = nil`,
		"upvalue":     `local up = string; up.upper = nil`,
		"stringindex": `string.__index = nil`,
		"setmetaG":    `setmetatable(_G, {__index = function() return "mt" end})`,
		"cookie":      `Response.Cookies["leak"] = "x"`,
	}
	files := map[string]string{
		"probe.lasp": `<%= tostring(leaked) %>|<%= string.upper("a") %>|<%= ("b"):upper() %>|<% table.insert({}, 1) %>ok|<%= type(os.date) %>|<% Response.Write("w") %>|<%= tostring(Response.Cookies["leak"]) %>`,
	}
	for name, attack := range attacks {
		files[name+".lasp"] = "<% local ok, err = pcall(function() " + attack + " end) %>done"
	}
	a := newApp(t, files)
	want := "nil|A|B|ok|function|w|nil"
	if got := a.mustGet(t, "/probe.lasp"); got != want {
		t.Fatalf("probe before: %q, want %q", got, want)
	}
	for name := range attacks {
		t.Run(name, func(t *testing.T) {
			if got := a.mustGet(t, "/"+name+".lasp"); got != "done" {
				t.Fatalf("attack page: %q", got)
			}
			if got := a.mustGet(t, "/probe.lasp"); got != want {
				t.Errorf("after %s: probe says %q, want %q", name, got, want)
			}
		})
	}
	if s := a.srv.engine.Stats(); s.Created != 1 {
		t.Errorf("%d Lua states created for sequential requests, want 1 reused", s.Created)
	}
}

// TestStatesReused checks that sequential requests share one pooled state.
func TestStatesReused(t *testing.T) {
	a := newApp(t, map[string]string{"p.lasp": `<%= 1 %>`})
	for range 20 {
		a.mustGet(t, "/p.lasp")
	}
	if s := a.srv.engine.Stats(); s.Created != 1 || s.Idle != 1 {
		t.Errorf("stats after 20 sequential requests: %+v, want 1 state created and idle", s)
	}
}

// TestSandbox checks what scripts can and cannot reach.
func TestSandbox(t *testing.T) {
	a := newApp(t, map[string]string{
		"absent.lasp": `<% for _, name in ipairs({"io", "debug", "load", "loadstring", "dofile", "loadfile",
  "setfenv", "getfenv", "collectgarbage", "module", "newproxy", "channel", "package", "_printregs"}) do
  Response.Write(name .. "=" .. type(_G[name]) .. " ")
end
for _, name in ipairs({"execute", "exit", "getenv", "remove", "rename", "tmpname", "setlocale"}) do
  Response.Write("os." .. name .. "=" .. type(os[name]) .. " ")
end %>`,
		"present.lasp": `<%= type(os.time) %> <%= type(os.date) %> <%= type(os.clock) %> <%= type(os.difftime) %> <%= type(string.format) %> <%= type(math.floor) %> <%= type(coroutine.wrap) %> <%= type(table.sort) %> <%= type(pcall) %> <%= type(require) %> <%= type(print) %>`,
	})
	body := a.mustGet(t, "/absent.lasp")
	for _, f := range strings.Fields(body) {
		if !strings.HasSuffix(f, "=nil") {
			t.Errorf("reachable from a page: %s", f)
		}
	}
	if got := a.mustGet(t, "/present.lasp"); got != strings.TrimSpace(strings.Repeat("function ", 11)) {
		t.Errorf("present: %q", got)
	}
}

// TestLimits runs pages that would exhaust the server without bounds: each
// must fail cleanly or work, and the server must go on serving.
func TestLimits(t *testing.T) {
	a := newApp(t, map[string]string{
		"ok.lasp":         `ok`,
		"rep.lasp":        `<% local s = string.rep("x", 1e9) %><%= #s %>`,
		"repmethod.lasp":  `<% local s = ("x"):rep(1e9) %><%= #s %>`,
		"array.lasp":      `<% local t = {} t[1e8] = true t[6e7] = true t[2^53] = true %><%= t[6e7] %>`,
		"recursion.lasp":  `<% local function f(n) return 1 + f(n + 1) end f(1) %>`,
		"precursion.lasp": `<% local function f() pcall(f) end f() %>recovered`,
		"pieces.lasp":     `<% for i = 1, 100000 do Response.Write("x") end %>`,
		"concat.lasp":     `<% local t = {} for i = 1, 100000 do t[i] = "y" end %><%= #table.concat(t) %>`,
		"unpack.lasp":     `<% local t = {} for i = 1, 1e6 do t[i] = i end local n = select("#", unpack(t)) %><%= n %>`,
		"format.lasp":     `<%= string.format("%999999999d", 1) %>`,
		"buffer.lasp":     `<% local s = string.rep("z", 1024 * 1024) for i = 1, 10 do Response.Write(s) end %>`,
		"loop.lasp":       `<% Server.ScriptTimeout = 0.5 while true do end %>`,
		"pcallloop.lasp":  `<% Server.ScriptTimeout = 0.5 for i = 1, 100 do pcall(function() while true do end end) end %>`,
		"coloop.lasp":     `<% Server.ScriptTimeout = 0.5 coroutine.wrap(function() while true do end end)() %>`,
		"pattern.lasp":    `<% Server.ScriptTimeout = 0.5 string.find(("a"):rep(5000), ".-.-.-.-b") %>`,
		"sleep.lasp":      `<% Server.ScriptTimeout = 0.5 Server.Sleep(60) %>`,
	})
	for _, tc := range []struct {
		page   string
		status int
		body   string // a substring of the body, for 200s
	}{
		{"rep", 500, ""},
		{"repmethod", 500, ""},
		{"array", 200, "true"},
		{"recursion", 500, ""},
		{"precursion", 200, "recovered"},
		{"pieces", 200, strings.Repeat("x", 100000)},
		{"concat", 200, "100000"},
		{"unpack", 500, ""},
		{"format", 500, ""},
		{"buffer", 500, ""},
		{"loop", 500, ""},
		{"pcallloop", 500, ""},
		{"coloop", 500, ""},
		{"pattern", 500, ""},
		{"sleep", 500, ""},
	} {
		t.Run(tc.page, func(t *testing.T) {
			status, body := a.get(t, "/"+tc.page+".lasp")
			if status != tc.status || !strings.Contains(body, tc.body) {
				t.Errorf("status %d, want %d; body %.200q", status, tc.status, body)
			}
			if got := a.mustGet(t, "/ok.lasp"); got != "ok" {
				t.Errorf("after %s: %q", tc.page, got)
			}
		})
	}
}

// TestTimeoutDoesNotBlockOthers: a page stuck in a loop does not hold up
// other requests, and is stopped at its script timeout.
func TestTimeoutDoesNotBlockOthers(t *testing.T) {
	a := newApp(t, map[string]string{
		"loop.lasp": `<% Server.ScriptTimeout = 3 while true do end %>`,
		"ok.lasp":   `ok`,
	})
	loopDone := make(chan int)
	go func() {
		res, err := a.Client().Get(a.URL + "/loop.lasp")
		if err != nil {
			loopDone <- 0
			return
		}
		res.Body.Close()
		loopDone <- res.StatusCode
	}()
	for range 20 {
		a.mustGet(t, "/ok.lasp")
	}
	select {
	case status := <-loopDone:
		t.Fatalf("the looping page ended (%d) before 20 other requests were served", status)
	default:
	}
	if status := <-loopDone; status != 500 {
		t.Errorf("looping page answered %d, want 500", status)
	}
}
