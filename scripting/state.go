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
	// readOnly are the state's own tables that scripts reach but must never
	// change; the shared ones are in libraries.readOnly.
	readOnly      map[*lua.LTable]bool
	stop          *lua.LUserData // raised by Response.End and friends
	onError       *lua.LFunction // error handler recording where a run failed
	callProtected *lua.LFunction // calls protectedFn: the Go side of a run's protected call
	protectedFn   func()
	modules       map[string]*module
	goObjectMT    *lua.LTable               // metatable of Go component objects
	apartment     *Apartment                // the apartment owning this state; nil for pooled states
	intrinsics    map[string]func() *object // intrinsic objects not built yet
	gen           uint64                    // engine generation this state was made in
	patterns      *lua.LTable               // string's pattern functions in this state, made on first use
	json          *jsonLib                  // json's scratch in this state, made on first use

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

// newStateWith makes a state that holds only what is its own: its globals
// table refers to the engine's shared libraries.
func newStateWith(e *Engine, opts lua.Options) *state {
	libs := e.libraries()
	opts.SkipOpenLibs = true
	opts.CallStackSize = callStackSize
	opts.RegistryMaxSize = registryMaxSize
	L := lua.NewState(opts)
	// gopher-lua's globals and registry, made large for libraries this
	// state never opens, give way to small tables: the real globals are
	// left holding nothing a script could use, and the registry holds the
	// state, for stateOf.
	L.G.Global = L.CreateTable(0, 0)
	L.Env = L.G.Global
	L.G.Registry = L.CreateTable(1, 0)
	s := &state{L: L, e: e, readOnly: map[*lua.LTable]bool{}, modules: map[string]*module{}}
	self := L.NewUserData()
	self.Value = s
	L.G.Registry.RawSetInt(1, self)

	s.base = L.CreateTable(0, len(libs.globals)+8)
	for _, g := range libs.globals {
		s.base.RawSetString(g.name, g.value)
	}
	s.base.Metatable = libs.baseMT
	s.readOnly[s.base] = true
	L.SetMetatable(lua.LString(""), libs.stringMT)
	s.goObjectMT = s.newGoObjectMT()
	s.installIntrinsics()
	s.envMT = protect(L.CreateTable(0, 2), s.base)
	s.stop = L.NewUserData()
	s.onError = libs.onError
	s.callProtected = libs.callProtected
	return s
}

// stateOf returns the state that L, or a coroutine of it, belongs to.
func stateOf(L *lua.LState) *state {
	return L.G.Registry.RawGetInt(1).(*lua.LUserData).Value.(*state)
}

// libraries are what every state of an engine shares: the library tables,
// their read-only views, and the Go functions behind them and behind
// Lasp's own globals. They are made once, in a state of their own, and
// never written again, so that states on many goroutines read them at
// once. A function that needs its state finds it with stateOf; a script
// reaches the tables only through views that refuse writes (rawset and
// table.insert, remove and sort refuse them too), and the metatables
// hide themselves.
type libraries struct {
	globals       []global    // every state's base globals
	baseMT        *lua.LTable // metatable of each state's base: declared names
	stringMT      *lua.LTable // metatable of strings
	readOnly      map[*lua.LTable]bool
	jsonNull      *lua.LUserData
	jsonArrayMT   *lua.LTable
	onError       *lua.LFunction
	callProtected *lua.LFunction
}

type global struct {
	name  string
	value lua.LValue
}

// libraries returns the engine's shared libraries, made on first use.
func (e *Engine) libraries() *libraries {
	e.sharedOnce.Do(func() { e.shared = newLibraries() })
	return e.shared
}

func newLibraries() *libraries {
	configureLua()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
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
	lib := func(name string) *lua.LTable { return g.RawGetString(name).(*lua.LTable) }
	fn := func(t *lua.LTable, name string) *lua.LFunction { return t.RawGetString(name).(*lua.LFunction) }
	// perState is a function that calls f with the state it runs in.
	perState := func(f func(*state, *lua.LState) int) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int { return f(stateOf(L), L) })
	}
	x := &libraries{readOnly: map[*lua.LTable]bool{}}
	add := func(name string, v lua.LValue) { x.globals = append(x.globals, global{name, v}) }
	for _, name := range []string{
		"assert", "error", "getmetatable", "ipairs", "next", "pairs", "rawequal",
		"rawget", "select", "setmetatable", "tonumber", "tostring", "type",
		"_VERSION",
	} {
		add(name, g.RawGetString(name))
	}
	add("pcall", perState((*state).pcall))
	add("xpcall", perState((*state).xpcall))
	add("rawset", perState((*state).rawset))
	add("print", perState((*state).print))
	add("require", perState((*state).require))
	add("unpack", L.NewFunction(unpack))
	add("__lasp_t", perState((*state).writeText))
	add("__lasp_e", perState((*state).writeEscaped))
	add("__lasp_w", perState((*state).writeMixed))
	add("__lasp_r", perState((*state).writeRaw))

	str := lib(lua.StringLibName)
	str.RawSetString("__index", lua.LNil)
	str.RawSetString("dump", lua.LNil)
	str.RawSetString("rep", L.NewFunction(strRep))
	str.RawSetString("byte", L.NewFunction(strByte))
	str.RawSetString("format", L.NewFunction(strFormat(fn(str, "format"))))
	for _, name := range []string{"find", "match", "gsub", "gmatch"} {
		str.RawSetString(name, perState(func(s *state, L *lua.LState) int { return s.pattern(name).GFunction(L) }))
	}
	str.RawSetString("gfind", str.RawGetString("gmatch"))
	// Strings index the library; scripts cannot reach their metatable.
	x.stringMT = protect(L.CreateTable(0, 2), str)

	co := lib(lua.CoroutineLibName)
	co.RawSetString("resume", L.NewFunction(resume(fn(co, "resume"))))
	for _, name := range []string{"create", "wrap"} {
		co.RawSetString(name, L.NewFunction(counted(fn(co, name))))
	}

	tbl := lib(lua.TabLibName)
	tbl.RawSetString("concat", L.NewFunction(tableConcat))
	for _, name := range []string{"insert", "remove", "sort"} {
		tbl.RawSetString(name, L.NewFunction(writing("table."+name, fn(tbl, name))))
	}

	osLib := L.CreateTable(0, 4)
	for _, name := range []string{"time", "clock", "difftime"} {
		osLib.RawSetString(name, lib(lua.OsLibName).RawGetString(name))
	}
	osLib.RawSetString("date", L.NewFunction(osDate(fn(lib(lua.OsLibName), "date"))))

	jsonLib := x.newJSON(L, perState)

	refuse := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("cannot change %v: the standard libraries are read-only", L.Get(2))
		return 0
	})
	for _, lib := range []struct {
		name  string
		table *lua.LTable
	}{{"string", str}, {"table", tbl}, {"math", lib(lua.MathLibName)}, {"coroutine", co}, {"os", osLib}, {"json", jsonLib}} {
		// A view is an empty table that reads through to the library
		// and refuses writes.
		view := L.CreateTable(0, 0)
		view.Metatable = protect(L.CreateTable(0, 3), lib.table)
		view.Metatable.(*lua.LTable).RawSetString("__newindex", refuse)
		x.readOnly[view] = true
		x.readOnly[lib.table] = true
		add(lib.name, view)
	}
	x.baseMT = protect(L.CreateTable(0, 2), perState((*state).declared))
	x.onError = perState((*state).recordError)
	x.callProtected = perState(func(s *state, _ *lua.LState) int { s.protectedFn(); return 0 })
	return x
}

// protect makes mt a metatable that indexes index and hides itself.
func protect(mt *lua.LTable, index lua.LValue) *lua.LTable {
	mt.RawSetString("__index", index)
	mt.RawSetString("__metatable", lua.LFalse)
	return mt
}

// isReadOnly reports whether scripts must not change t.
func (s *state) isReadOnly(t *lua.LTable) bool {
	return s.readOnly[t] || s.e.shared.readOnly[t]
}

// pattern is string's pattern function name in this state: lpattern keeps
// a matcher and a cache that belong to one state, made on first use.
func (s *state) pattern(name string) *lua.LFunction {
	if s.patterns == nil {
		s.patterns = s.L.CreateTable(0, 4)
		lpattern.Install(s.L, s.patterns, maxPatternSteps)
	}
	return s.patterns.RawGetString(name).(*lua.LFunction)
}

// writing is a table library function that changes its first argument in
// place, refusing the read-only tables.
func writing(name string, orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if stateOf(L).isReadOnly(L.CheckTable(1)) {
			L.RaiseError("%s: the table is read-only", name)
		}
		return orig.GFunction(L)
	}
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
	if s.isReadOnly(t) {
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
func resume(orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Insert(orig, 1)
		L.Call(L.GetTop()-1, lua.MultRet)
		if L.Get(1) == lua.LFalse && stateOf(L).mustUnwind(L.Get(2)) {
			L.Error(L.Get(2), 0)
		}
		return L.GetTop()
	}
}

// counted is coroutine.create or wrap, bounded by maxCoroutines a run.
func counted(orig *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if r := stateOf(L).run; r != nil {
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
