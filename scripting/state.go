package scripting

import (
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"lasp/scripting/lpattern"
)

// Bounds on what one script can take. Go code inside gopher-lua cannot be
// interrupted by a deadline, so every library function that can allocate or
// loop without limit is bounded here.
const (
	callStackSize   = 200     // Lua call depth
	registrySize    = 1024    // initial value stack slots
	registryMaxSize = 1 << 18 // value stack slots a state may grow to
	maxArrayIndex   = 1 << 20 // table array parts grow no further (16 MiB)
	maxString       = 16 << 20
	maxPatternSteps = 50_000_000
	// maxResults bounds the values one library call pushes (unpack,
	// string.byte), as C Lua 5.1 does (LUAI_MAXCSTACK): gopher-lua grows
	// its value stack a few slots at a time, so a call pushing a million
	// values would take minutes that no timeout can interrupt.
	maxResults = 8000
	// maxCoroutines bounds the coroutines one run creates: each is a Lua
	// thread with stacks of its own (about 17 KB), and resuming nests Go
	// calls, so the call depth bound does not hold them.
	maxCoroutines = 1000
	// maxDateFormat bounds os.date's format.
	maxDateFormat = 1024
)

// ConfigureLua makes the two settings of gopher-lua the engine relies on,
// once. They are package variables of gopher-lua, so every gopher-lua
// state in the program sees them, the embedding program's own too:
//   - lua.MaxArrayIndex is lowered to 1 Mi (by default `t[6e7] = true`
//     allocates gigabytes in one statement, which no timeout can stop);
//   - lua.CompatVarArg is turned off (Lua 5.0's implicit `arg` table in
//     vararg functions costs an allocation on every call of a main chunk).
//
// New calls it; a program that runs gopher-lua itself can call it first to
// see the settings it will run under.
func ConfigureLua() { configureLua() }

var configureLua = sync.OnceFunc(func() {
	if lua.MaxArrayIndex > maxArrayIndex {
		lua.MaxArrayIndex = maxArrayIndex
	}
	lua.CompatVarArg = false
})

// state is one sandboxed Lua state. It is owned by one goroutine at a time:
// the pool hands it to a request, which gives it back when it is done.
type state struct {
	L     *lua.LState
	e     *Engine
	base  *lua.LTable // the read-only globals every environment falls back to
	envMT *lua.LTable // metatable of every environment table
	// readOnly are the tables scripts reach but must never change.
	readOnly map[*lua.LTable]bool
	stop     *lua.LUserData // raised by Response.End and friends
	onError  *lua.LFunction // error handler recording where a run failed
	// callProtected calls protectedFn: the Go side of a run's protected call.
	callProtected *lua.LFunction
	protectedFn   func()
	modules       map[string]*module
	goObjectMT    *lua.LTable               // metatable of Go component objects
	apartment     *Apartment                // the apartment owning this state; nil for pooled states
	intrinsics    map[string]func() *object // intrinsic objects not built yet
	gen           uint64                    // engine generation this state was made in

	run *run // the request using this state; nil when idle
}

// module is a lib/ module loaded in one state.
type module struct {
	proto *lua.FunctionProto
	value lua.LValue
}

// newState makes a sandboxed state: the libraries of docs/pages.md, read-only to
// scripts, with Lasp's own require, print and pcall.
func newState(e *Engine) *state {
	return newStateWith(e, lua.Options{
		RegistrySize:        registrySize,
		MinimizeStackMemory: false, // its growing call stack panics past its end (gopher-lua v1.1.2)
	})
}

// newApartmentState is a state that lives as long as its session: it
// starts small and grows its stacks on demand. A call past the call depth
// bound fails with an error either way.
func newApartmentState(e *Engine) *state {
	return newStateWith(e, lua.Options{RegistrySize: 128, MinimizeStackMemory: true})
}

func newStateWith(e *Engine, opts lua.Options) *state {
	configureLua()
	opts.SkipOpenLibs = true
	opts.CallStackSize = callStackSize
	opts.RegistryMaxSize = registryMaxSize
	L := lua.NewState(opts)
	s := &state{L: L, e: e, readOnly: map[*lua.LTable]bool{}, modules: map[string]*module{}}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
		{lua.OsLibName, lua.OpenOs},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	s.base = L.CreateTable(0, 4)
	for _, name := range []string{
		"assert", "error", "getmetatable", "ipairs", "next", "pairs", "rawequal",
		"rawget", "select", "setmetatable", "tonumber", "tostring", "type",
		"_VERSION",
	} {
		s.base.RawSetString(name, g.RawGetString(name))
	}
	s.base.RawSetString("pcall", L.NewFunction(s.pcall))
	s.base.RawSetString("xpcall", L.NewFunction(s.xpcall))
	s.base.RawSetString("rawset", L.NewFunction(s.rawset))
	s.base.RawSetString("print", L.NewFunction(s.print))
	s.base.RawSetString("require", L.NewFunction(s.require))
	s.base.RawSetString("unpack", L.NewFunction(unpack))

	str := g.RawGetString(lua.StringLibName).(*lua.LTable)
	str.RawSetString("__index", lua.LNil)
	str.RawSetString("dump", lua.LNil)
	str.RawSetString("rep", L.NewFunction(strRep))
	str.RawSetString("byte", L.NewFunction(strByte))
	str.RawSetString("format", L.NewFunction(strFormat(str.RawGetString("format").(*lua.LFunction))))
	lpattern.Install(L, str, maxPatternSteps)
	// Strings index the real library; scripts cannot reach their metatable.
	L.SetMetatable(lua.LString(""), s.protect(L.CreateTable(0, 4), str))

	co := g.RawGetString(lua.CoroutineLibName).(*lua.LTable)
	co.RawSetString("resume", L.NewFunction(s.resume(co.RawGetString("resume").(*lua.LFunction))))
	for _, name := range []string{"create", "wrap"} {
		co.RawSetString(name, L.NewFunction(s.counted(co.RawGetString(name).(*lua.LFunction))))
	}

	tbl := g.RawGetString(lua.TabLibName).(*lua.LTable)
	tbl.RawSetString("concat", L.NewFunction(tableConcat))

	osLib := L.CreateTable(0, 4)
	for _, name := range []string{"time", "clock", "difftime"} {
		osLib.RawSetString(name, g.RawGetString(lua.OsLibName).(*lua.LTable).RawGetString(name))
	}
	osLib.RawSetString("date", L.NewFunction(osDate(g.RawGetString(lua.OsLibName).(*lua.LTable).RawGetString("date").(*lua.LFunction))))
	for name, lib := range map[string]lua.LValue{
		"string":    str,
		"table":     tbl,
		"math":      g.RawGetString(lua.MathLibName),
		"coroutine": co,
		"os":        osLib,
		"json":      s.openJSON(),
	} {
		s.base.RawSetString(name, s.readOnlyView(lib.(*lua.LTable)))
	}
	s.goObjectMT = s.newGoObjectMT()
	s.installIntrinsics()

	s.envMT = s.protect(L.CreateTable(0, 4), s.base)
	s.base.Metatable = s.protect(L.CreateTable(0, 4), L.NewFunction(s.declared))
	s.readOnly[s.base] = true
	s.stop = L.NewUserData()
	s.onError = L.NewFunction(s.recordError)
	s.callProtected = L.NewFunction(func(*lua.LState) int { s.protectedFn(); return 0 })
	// The real globals table is left holding nothing a script could use.
	L.G.Global = L.CreateTable(0, 4)
	L.Env = L.G.Global
	return s
}

// protect makes mt a metatable that indexes index and hides itself.
func (s *state) protect(mt *lua.LTable, index lua.LValue) *lua.LTable {
	mt.RawSetString("__index", index)
	mt.RawSetString("__metatable", lua.LFalse)
	return mt
}

// readOnlyView returns an empty table that reads through to lib and refuses
// writes, so that no request can change a library for the next one.
func (s *state) readOnlyView(lib *lua.LTable) *lua.LTable {
	view := s.L.CreateTable(0, 4)
	mt := s.protect(s.L.CreateTable(0, 4), lib)
	mt.RawSetString("__newindex", s.L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("cannot change %v: the standard libraries are read-only", L.Get(2))
		return 0
	}))
	view.Metatable = mt
	s.readOnly[view] = true
	s.readOnly[lib] = true
	return view
}

// newEnv is a fresh global environment for one request or module.
func (s *state) newEnv() *lua.LTable {
	env := s.L.CreateTable(0, 4)
	env.Metatable = s.envMT
	env.RawSetString("_G", env)
	return env
}

// rawset refuses the shared read-only tables.
func (s *state) rawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if s.readOnly[t] {
		L.RaiseError("rawset: the table is read-only")
	}
	L.CheckAny(2)
	L.CheckAny(3)
	t.RawSet(L.Get(2), L.Get(3))
	L.SetTop(1)
	return 1
}

// mustUnwind reports whether an error caught by a script's pcall must go on
// unwinding: the page was ended, or its run was cancelled.
func (s *state) mustUnwind(obj lua.LValue) bool {
	return obj == s.stop || (s.run != nil && (s.run.ended || s.run.ctx.Err() != nil))
}

func (s *state) pcall(L *lua.LState) int {
	L.CheckAny(1)
	err := L.PCall(L.GetTop()-1, lua.MultRet, nil)
	return s.protectedResult(L, err)
}

// xpcall calls the script's handler for the errors a script may catch only:
// the end of a page or of its run passes through untouched.
func (s *state) xpcall(L *lua.LState) int {
	handler := L.CheckFunction(2)
	L.SetTop(1)
	err := L.PCall(0, lua.MultRet, L.NewFunction(func(L *lua.LState) int {
		obj := L.Get(1)
		if s.mustUnwind(obj) {
			L.Push(obj)
			return 1
		}
		L.Push(handler)
		L.Push(obj)
		L.Call(1, 1)
		return 1
	}))
	return s.protectedResult(L, err)
}

// resume is coroutine.resume that does not catch the end of a page or of
// its run inside the coroutine.
func (s *state) resume(orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Insert(orig, 1)
		L.Call(L.GetTop()-1, lua.MultRet)
		if L.Get(1) == lua.LFalse && s.mustUnwind(L.Get(2)) {
			L.Error(L.Get(2), 0)
		}
		return L.GetTop()
	}
}

// counted is coroutine.create or wrap, bounded by maxCoroutines a run.
func (s *state) counted(orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if r := s.run; r != nil {
			if r.coroutines++; r.coroutines > maxCoroutines {
				L.RaiseError("too many coroutines: a page may create at most %d", maxCoroutines)
			}
		}
		return orig.GFunction(L)
	}
}

func (s *state) protectedResult(L *lua.LState, err error) int {
	if err == nil {
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	}
	obj := lua.LValue(lua.LString(err.Error()))
	if ae, ok := err.(*lua.ApiError); ok {
		obj = ae.Object
	}
	if s.mustUnwind(obj) {
		L.Error(obj, 0)
	}
	L.SetTop(0)
	L.Push(lua.LFalse)
	L.Push(obj)
	return 2
}

// print writes to the request's log, never to the page.
func (s *state) print(L *lua.LState) int {
	parts := make([]string, L.GetTop())
	for i := range parts {
		parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
	}
	if r := s.run; r != nil && r.env.Log != nil {
		r.env.Log.Info("print", "request_id", r.env.RequestID, "page", r.page.Name, "text", strings.Join(parts, "\t"))
	}
	return 0
}

// close releases the state.
func (s *state) close() { s.L.Close() }

// strRep is string.rep with a bound on the result.
func strRep(L *lua.LState) int {
	str := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || str == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if len(str) > maxString/n {
		L.RaiseError("string.rep: result would be over %d bytes", maxString)
	}
	L.Push(lua.LString(strings.Repeat(str, n)))
	return 1
}

// unpack is Lua 5.1's unpack, refusing more than maxResults results.
func unpack(L *lua.LState) int {
	t := L.CheckTable(1)
	i := L.OptInt(2, 1)
	j := L.OptInt(3, t.Len())
	if i > j {
		return 0
	}
	if n := uint64(j) - uint64(i) + 1; n > maxResults || n == 0 {
		L.RaiseError("too many results to unpack (%d, at most %d)", n, maxResults)
	}
	for k := i; k <= j; k++ {
		L.Push(t.RawGetInt(k))
	}
	return j - i + 1
}

// strByte is string.byte, refusing more than maxResults results.
func strByte(L *lua.LState) int {
	str := L.CheckString(1)
	i := L.OptInt(2, 1)
	j := L.OptInt(3, i)
	l := len(str)
	if i < 0 {
		i += l + 1
	}
	if j < 0 {
		j += l + 1
	}
	i, j = max(i, 1), min(j, l)
	if i > j {
		return 0
	}
	if n := j - i + 1; n > maxResults {
		L.RaiseError("too many results from string.byte (%d, at most %d)", n, maxResults)
	}
	for k := i; k <= j; k++ {
		L.Push(lua.LNumber(str[k-1]))
	}
	return j - i + 1
}

// strFormat bounds string.format's widths and precisions to two digits, as
// Lua 5.1 does (Go's fmt would allocate any width it is given), and its
// result to maxString: ("%s"):rep(100) of one 16 MiB string would make
// 1.6 GB in one call that no timeout can stop.
func strFormat(orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		f := L.CheckString(1)
		size, arg := len(f), 1
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				continue
			}
			if i+1 < len(f) && f[i+1] == '%' {
				i++
				continue
			}
			digits := 0
			for i++; i < len(f) && strings.IndexByte("-+ #0.123456789", f[i]) >= 0; i++ {
				if f[i] >= '0' && f[i] <= '9' {
					digits++
				} else {
					digits = 0
				}
				if digits > 2 {
					L.RaiseError("invalid format (width or precision too long)")
				}
			}
			arg++
			size += 100 // a number, padded to at most 99
			if i < len(f) && (f[i] == 's' || f[i] == 'q') {
				if v, ok := L.Get(arg).(lua.LString); ok {
					size += 2 * len(v) // %q may escape every byte
				}
			}
			if size > maxString {
				L.RaiseError("string.format: result would be over %d bytes", maxString)
			}
		}
		return orig.GFunction(L)
	}
}

// osDate is os.date with a bounded format: each directive can make twenty
// times its length, in one call no timeout can stop.
func osDate(orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if f := L.OptString(1, ""); len(f) > maxDateFormat {
			L.RaiseError("os.date: format longer than %d bytes", maxDateFormat)
		}
		return orig.GFunction(L)
	}
}

// tableConcat is table.concat without pushing every element onto the value
// stack (gopher-lua's fails past a few thousand elements) and with a bound.
func tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, t.Len())
	var b strings.Builder
	for k := i; k <= j; k++ {
		v := t.RawGetInt(k)
		switch v.(type) {
		case lua.LString, lua.LNumber:
		default:
			L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
		}
		if k > i {
			b.WriteString(sep)
		}
		b.WriteString(v.String())
		if b.Len() > maxString {
			L.RaiseError("table.concat: result would be over %d bytes", maxString)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}
