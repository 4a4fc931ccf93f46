package lpattern

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Install replaces find, match, gmatch and gsub in lib (the string library
// table of L, i.e. the table that OpenString registered and that the string
// metatable's __index uses) with versions that stop with a Lua error when
// L's context (L.Context(), may be nil) is done — checked at least every 1024
// matcher steps and at every new start position — or when one call exceeds
// maxSteps matcher steps (error message: "pattern too complex (over N
// steps)"). maxSteps <= 0 means no step limit.
//
// If lib also has gopher-lua's alias gfind, it is replaced by the new gmatch
// too. The functions keep state private to L (a scratch matcher and a small
// cache of compiled patterns); install them in each state separately.
//
// A step is one move of the matcher: testing a subject byte against a
// pattern item, resuming a choice point, or starting at a new position. An
// everyday pattern costs a few steps per byte of subject (gsub of "%s+" over
// 1 MB of text takes about 2.3 million steps), so maxSteps also bounds the
// subject length; the matcher runs at roughly 5-10 ns a step.
func Install(L *lua.LState, lib *lua.LTable, maxSteps int) {
	x := &library{maxSteps: maxSteps, cache: make(map[string]*prog)}
	x.iter = L.NewFunction(x.gmatchIter)
	lib.RawSetString("find", L.NewFunction(x.find))
	lib.RawSetString("match", L.NewFunction(x.match))
	lib.RawSetString("gsub", L.NewFunction(x.gsub))
	gmatch := L.NewFunction(x.gmatch)
	lib.RawSetString("gmatch", gmatch)
	if lib.RawGetString("gfind") != lua.LNil {
		lib.RawSetString("gfind", gmatch)
	}
}

// Bounds of the compiled-pattern cache.
const (
	cacheEntries    = 64
	cachePatternLen = 128
	// keepOut is the largest match buffer a matcher keeps between calls.
	keepOut = 1 << 12
)

// library is the state behind one Install: the limits, a matcher reused by
// calls that do not overlap, and recently compiled patterns.
type library struct {
	maxSteps int
	scratch  *matcher
	cache    map[string]*prog
	iter     *lua.LFunction
}

// compile returns the compiled pattern, raising a Lua error if it is
// malformed.
func (x *library) compile(L *lua.LState, pattern string) *prog {
	if p, ok := x.cache[pattern]; ok {
		return p
	}
	p, err := compile(pattern)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	if len(pattern) <= cachePatternLen {
		if len(x.cache) >= cacheEntries {
			clear(x.cache)
		}
		x.cache[pattern] = p
	}
	return p
}

// run finds up to limit matches of p in src from init and returns the
// matcher holding them in m.out; the caller gives it back with release. It
// raises a Lua error if the matcher stops.
func (x *library) run(L *lua.LState, p *prog, src string, init, limit int) *matcher {
	m := x.scratch
	if m == nil {
		m = &matcher{}
	}
	x.scratch = nil
	m.reset(L.Context(), x.maxSteps)
	if m.find(p, src, init, limit) < 0 {
		msg := m.err()
		x.release(m)
		L.RaiseError("%s", msg)
	}
	return m
}

// release gives a matcher back for reuse.
func (x *library) release(m *matcher) {
	m.ctx, m.done, m.src, m.p = nil, nil, "", nil
	if cap(m.out) > keepOut {
		m.out = nil
	}
	x.scratch = m
}

// detach takes the matches out of m, so that they survive calls back into
// Lua, and releases m.
func (x *library) detach(m *matcher) []int {
	out := m.out
	m.out = nil
	x.release(m)
	return out
}

// capture returns capture i (1-based) of the match whose slots are s: a
// number for a position capture, else the captured text.
func capture(p *prog, src string, s []int, i int) lua.LValue {
	if p.pos[i] {
		return lua.LNumber(s[2*i])
	}
	return lua.LString(src[s[2*i]:s[2*i+1]])
}

// find is string.find(s, pattern [, init [, plain]]).
func (x *library) find(L *lua.LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	if len(pattern) == 0 {
		// gopher-lua answers 1, 0 whatever init is.
		L.Push(lua.LNumber(1))
		L.Push(lua.LNumber(0))
		return 2
	}
	init := startIndex(len(str), L.OptInt(3, 1))
	plain := false
	if L.GetTop() == 4 {
		plain = lua.LVAsBool(L.Get(4))
	}
	if plain {
		if init > len(str) {
			// gopher-lua fails here too (slicing out of range).
			L.ArgError(3, "initial position out of range")
		}
		pos := strings.Index(str[init:], pattern)
		if pos < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(init + pos + 1))
		L.Push(lua.LNumber(init + pos + len(pattern)))
		return 2
	}
	p := x.compile(L, pattern)
	m := x.run(L, p, str, init, 1)
	if len(m.out) == 0 {
		x.release(m)
		L.Push(lua.LNil)
		return 1
	}
	s := m.out
	L.Push(lua.LNumber(s[0] + 1))
	L.Push(lua.LNumber(s[1]))
	for i := 1; i <= p.ncap; i++ {
		L.Push(capture(p, str, s, i))
	}
	x.release(m)
	return p.ncap + 2
}

// startIndex converts a Lua start index (1-based, negative from the end) to
// a byte offset the way gopher-lua's find does. The result may exceed n.
func startIndex(n, i int) int {
	if i != 0 {
		i--
	}
	if i < 0 {
		i = n + i + 1
	}
	return max(i, 0)
}

// match is string.match(s, pattern [, init]).
func (x *library) match(L *lua.LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	init := L.OptInt(3, 1)
	if init < 0 {
		init = len(str) + init + 1
	}
	init = max(init-1, 0)
	p := x.compile(L, pattern)
	m := x.run(L, p, str, init, 1)
	if len(m.out) == 0 {
		// gopher-lua returns no value at all (not nil) here.
		x.release(m)
		return 0
	}
	s := m.out
	if p.ncap == 0 {
		L.Push(lua.LString(str[s[0]:s[1]]))
		x.release(m)
		return 1
	}
	for i := 1; i <= p.ncap; i++ {
		L.Push(capture(p, str, s, i))
	}
	x.release(m)
	return p.ncap
}

// gmatchState is the state of one gmatch loop. As in gopher-lua, every
// match is found when gmatch is called.
type gmatchState struct {
	src   string
	p     *prog
	slots []int
	next  int // index of the next match
}

// gmatch is string.gmatch(s, pattern). Like gopher-lua's, it returns the
// iterator and a userdata holding the matches, which the iterator expects
// as its first argument (a generic for passes it).
func (x *library) gmatch(L *lua.LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	p := x.compile(L, pattern)
	m := x.run(L, p, str, 0, -1)
	ud := L.NewUserData()
	ud.Value = &gmatchState{src: str, p: p, slots: x.detach(m)}
	L.Push(x.iter)
	L.Push(ud)
	return 2
}

func (x *library) gmatchIter(L *lua.LState) int {
	ud := L.CheckUserData(1)
	st, ok := ud.Value.(*gmatchState)
	if !ok {
		L.ArgError(1, "gmatch state expected")
	}
	stride := 2 * (st.p.ncap + 1)
	if st.next*stride >= len(st.slots) {
		return 0
	}
	s := st.slots[st.next*stride : (st.next+1)*stride]
	st.next++
	if st.p.ncap == 0 {
		L.Push(lua.LString(st.src[s[0]:s[1]]))
		return 1
	}
	for i := 1; i <= st.p.ncap; i++ {
		L.Push(capture(st.p, st.src, s, i))
	}
	return st.p.ncap
}

// gsub is string.gsub(s, pattern, repl [, n]).
func (x *library) gsub(L *lua.LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.CheckAny(3)
	limit := L.OptInt(4, -1)
	p := x.compile(L, pattern)
	m := x.run(L, p, str, 0, limit)
	n := len(m.out) / (2 * (p.ncap + 1))
	if n == 0 {
		x.release(m)
		L.SetTop(1)
		L.Push(lua.LNumber(0))
		return 2
	}
	var out string
	switch r := repl.(type) {
	case lua.LString:
		t, err := parseTemplate(string(r), p.ncap)
		if err != "" {
			x.release(m)
			L.RaiseError("%s", err)
		}
		out = t.expand(p, str, m.out)
		x.release(m)
	case *lua.LTable:
		slots := x.detach(m)
		out = replace(str, p, slots, func(s []int) (string, bool) {
			var v lua.LValue
			if p.ncap == 0 {
				v = L.GetField(r, str[s[0]:s[1]])
			} else if p.pos[1] {
				v = L.GetTable(r, lua.LNumber(s[2]))
			} else {
				v = L.GetField(r, str[s[2]:s[3]])
			}
			return lua.LVAsString(v), !lua.LVIsFalse(v)
		})
	case *lua.LFunction:
		slots := x.detach(m)
		out = replace(str, p, slots, func(s []int) (string, bool) {
			L.Push(r)
			if p.ncap == 0 {
				L.Push(lua.LString(str[s[0]:s[1]]))
			} else {
				for i := 1; i <= p.ncap; i++ {
					L.Push(capture(p, str, s, i))
				}
			}
			L.Call(max(p.ncap, 1), 1)
			v := L.Get(-1)
			L.Pop(1)
			return lua.LVAsString(v), !lua.LVIsFalse(v)
		})
	}
	L.Push(lua.LString(out))
	L.Push(lua.LNumber(n))
	return 2
}

// replace builds the result of gsub from the matches in slots, asking value
// for each match's replacement; ok=false keeps the matched text.
func replace(src string, p *prog, slots []int, value func(s []int) (string, bool)) string {
	stride := 2 * (p.ncap + 1)
	var b strings.Builder
	b.Grow(len(src))
	last := 0
	for k := 0; k < len(slots); k += stride {
		s := slots[k : k+stride]
		v, ok := value(s)
		if !ok {
			continue
		}
		b.WriteString(src[last:s[0]])
		b.WriteString(v)
		last = s[1]
	}
	b.WriteString(src[last:])
	return b.String()
}

// template is a parsed gsub replacement string: literal text and references
// to captures.
type template struct {
	parts []part
}

// part is literal text, or capture ref (0 = the whole match) when text is
// empty and ref >= 0.
type part struct {
	text string
	ref  int
}

// parseTemplate reads a replacement string as gopher-lua does: "%d" (a
// digit) is a capture, "%%" is "%", any other "%c" stays as it is, and so
// does a final "%". It returns "invalid capture index" for a digit above the
// number of captures (%1 is the whole match when there is none).
func parseTemplate(repl string, ncap int) (template, string) {
	var t template
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			t.parts = append(t.parts, part{text: string(lit), ref: -1})
			lit = lit[:0]
		}
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' || i == len(repl)-1 {
			lit = append(lit, c)
			continue
		}
		i++
		d := repl[i]
		switch {
		case d == '%':
			lit = append(lit, '%')
		case '0' <= d && d <= '9':
			ref := int(d - '0')
			if ref > ncap {
				if ref > 1 {
					return t, "invalid capture index"
				}
				ref = 0
			}
			flush()
			t.parts = append(t.parts, part{ref: ref})
		default:
			lit = append(lit, '%', d)
		}
	}
	flush()
	return t, ""
}

// expand writes the result of gsub with template t.
func (t template) expand(p *prog, src string, slots []int) string {
	stride := 2 * (p.ncap + 1)
	var b strings.Builder
	b.Grow(len(src))
	last := 0
	for k := 0; k < len(slots); k += stride {
		s := slots[k : k+stride]
		b.WriteString(src[last:s[0]])
		for _, pt := range t.parts {
			switch {
			case pt.ref < 0:
				b.WriteString(pt.text)
			case pt.ref == 0:
				b.WriteString(src[s[0]:s[1]])
			case p.pos[pt.ref]:
				b.WriteString(strconv.Itoa(s[2*pt.ref]))
			default:
				b.WriteString(src[s[2*pt.ref]:s[2*pt.ref+1]])
			}
		}
		last = s[1]
	}
	b.WriteString(src[last:])
	return b.String()
}
