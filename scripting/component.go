package scripting

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"lasp/scope"
)

// Component is a Go component class: what Server.CreateObject and <object>
// tags make instances of, by progid.
type Component struct {
	ProgID string
	// Threading says whether one instance may be called by many requests at
	// once (scope.Agile) or only by the apartment that made it.
	Threading scope.Threading
	// New makes an instance.
	New func() (Instance, error)
}

// Keeper is an Instance that can save its state as plain data and be
// made again from it. A shared session store (cookie, Redis) keeps a
// declared Session object of such a component as its state: Save when a
// page that used it succeeds, Restore (on a fresh instance from New) on
// whichever server next needs it.
type Keeper interface {
	Instance
	Save() (scope.Value, error)
	Restore(state scope.Value) error
}

// Instance is an object of a Go component. Its methods are called by name
// with plain values (scope.Value) and return plain values, so that scopes
// and apartments can call it without Lua. An Instance that implements
// scope.Terminator is terminated when its scope ends.
type Instance interface {
	Call(ctx context.Context, method string, args []scope.Value) ([]scope.Value, error)
}

// goObject is an Instance as a scope.Object.
type goObject struct {
	c    *Component
	inst Instance
}

func (o *goObject) ProgID() string             { return o.c.ProgID }
func (o *goObject) Threading() scope.Threading { return o.c.Threading }

func (o *goObject) Terminate() error {
	if t, ok := o.inst.(scope.Terminator); ok {
		return t.Terminate()
	}
	return nil
}

var progIDPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)

// createObject makes a page-scope object of progid in the run: a Go
// component from the registry, else a Lua component from
// components/<progid>.lua. It is terminated when the page ends.
func (s *state) createObject(L *lua.LState, progid string) lua.LValue {
	r := s.run
	if c, ok := s.e.components[progid]; ok {
		o := s.newGoObject(L, c)
		r.created = append(r.created, o.Terminate)
		return s.wrapObject(L, o)
	}
	self, terminate := s.newLuaInstance(L, progid, nil)
	if terminate != nil {
		r.created = append(r.created, terminate)
	}
	return self
}

func (s *state) newGoObject(L *lua.LState, c *Component) *goObject {
	inst, err := c.New()
	if err != nil {
		L.RaiseError("creating %s: %v", c.ProgID, err)
	}
	return &goObject{c: c, inst: inst}
}

// newLuaInstance makes an instance of the Lua component progid in L's
// state: with Initialize, or, given a saved state, with the saved fields
// instead. terminate calls its Terminate (nil if none).
func (s *state) newLuaInstance(L *lua.LState, progid string, saved map[string]scope.Value) (self *lua.LTable, terminate func() error) {
	if !progIDPattern.MatchString(progid) {
		L.RaiseError("unknown progid %q", progid)
	}
	proto, err := s.e.module("components/" + progid + ".lua")
	if errors.Is(err, fs.ErrNotExist) {
		L.RaiseError("unknown progid %q: no Go component of that name and no components/%s.lua", progid, progid)
	}
	if err != nil {
		if se, ok := err.(*Error); ok {
			s.run.pending = se
		}
		L.RaiseError("creating %s: %v", progid, err)
	}
	fn := L.NewFunctionFromProto(proto)
	fn.Env = s.newEnv()
	L.Push(fn)
	L.Call(0, 1)
	class, ok := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	if !ok {
		L.RaiseError("components/%s.lua must return a table of methods", progid)
	}
	self = L.CreateTable(0, 4)
	mt := L.CreateTable(0, 4)
	mt.RawSetString("__index", class)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(progid))
		return 1
	}))
	mt.RawSetString("__progid", lua.LString(progid))
	self.Metatable = mt
	for k, v := range saved {
		self.RawSetString(k, s.fromValue(L, v))
	}
	if init, ok := class.RawGetString("Initialize").(*lua.LFunction); ok && saved == nil {
		L.Push(init)
		L.Push(self)
		L.Call(1, 0)
	}
	if term, ok := class.RawGetString("Terminate").(*lua.LFunction); ok {
		terminate = func() error {
			return L.CallByParam(lua.P{Fn: term, NRet: 0, Protect: true}, self)
		}
	}
	return self, terminate
}

// caller is an object whose methods Lua calls through a userdata: a Go
// component's object or a proxy to an apartment.
type caller interface {
	scope.Object
	Call(ctx context.Context, method string, args []scope.Value) ([]scope.Value, error)
}

func (o *goObject) Call(ctx context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	return o.inst.Call(ctx, method, args)
}

// wrapObject gives a Go object to Lua: a userdata whose every field is a
// method, callable with "." or ":".
func (s *state) wrapObject(L *lua.LState, o caller) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = scope.Object(o)
	ud.Metatable = s.goObjectMT
	return ud
}

// newGoObjectMT is the metatable of Go objects in Lua.
func (s *state) newGoObjectMT() *lua.LTable {
	L := s.L
	mt := L.CreateTable(0, 4)
	mt.RawSetString("__metatable", lua.LFalse)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		ud := L.CheckUserData(1)
		method := L.CheckString(2)
		L.Push(L.NewFunction(func(L *lua.LState) int { return s.callGo(L, ud, method) }))
		return 1
	}))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(L.CheckUserData(1).Value.(scope.Object).ProgID()))
		return 1
	}))
	return mt
}

// callGo calls method of the object in ud with the Lua arguments, which
// must be plain data or agile objects.
func (s *state) callGo(L *lua.LState, ud *lua.LUserData, method string) int {
	o := ud.Value.(caller)
	first := 1
	if L.GetTop() > 0 && L.Get(1) == ud {
		first = 2
	}
	args := make([]scope.Value, 0, L.GetTop()-first+1)
	for i := first; i <= L.GetTop(); i++ {
		v := toValue(L.Get(i))
		if err := scope.Check("", "", v); err != nil {
			L.RaiseError("%s.%s: argument %d cannot be passed (%s)", o.ProgID(), method, i-first+1, err.(*scope.AgilityError).Reason)
		}
		args = append(args, v)
	}
	if _, ok := o.(*Proxy); ok {
		defer s.run.waiting()() // the apartment's own run does the work
	}
	res, err := o.Call(s.run.callCtx(), method, args)
	if err != nil {
		L.RaiseError("%s.%s: %v", o.ProgID(), method, err)
	}
	for _, v := range res {
		L.Push(s.fromValue(L, v))
	}
	return len(res)
}

// terminateCreated ends the run's page-scope objects, newest first.
func (r *run) terminateCreated() {
	for i := len(r.created) - 1; i >= 0; i-- {
		if err := r.created[i](); err != nil && r.env.Log != nil {
			r.env.Log.Error("Terminate failed", "request_id", r.env.RequestID, "err", fmt.Sprint(err))
		}
	}
	r.created = nil
}

// objectEnvMT is the metatable of the environment of a page that declares
// <object runat="server"> tags: a declared id that is not set yet creates its
// object on this first reference; other names read the shared globals.
func (s *state) objectEnvMT(p *Page) *lua.LTable {
	L := s.L
	mt := L.CreateTable(0, 4)
	mt.RawSetString("__metatable", lua.LFalse)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		env := L.CheckTable(1)
		key := L.Get(2)
		if name, ok := key.(lua.LString); ok {
			for _, o := range p.Objects {
				if o.ID == string(name) {
					obj := s.createObject(L, o.ProgID)
					env.RawSetString(o.ID, obj)
					L.Push(obj)
					return 1
				}
			}
		}
		// Through base's own metatable: intrinsics made on first use and
		// global.lasa's objects are found there.
		L.Push(L.GetTable(s.base, key))
		return 1
	}))
	return mt
}

// luaInstance stands for a Lua component instance in the agility check: it
// lives in its Lua state, so it is apartment-threaded.
type luaInstance struct{ progid string }

func (o luaInstance) ProgID() string             { return o.progid }
func (o luaInstance) Threading() scope.Threading { return scope.Apartment }

// kept is a kept Session object made in a run: a Lua component's
// instance, or a Go component's that implements Keeper.
type kept struct {
	self  *lua.LTable
	obj   *goObject
	proxy *Proxy     // or either of them in an apartment
	value lua.LValue // as scripts see it
}

// keptObject is the run's instance of the kept Session object id (see
// Env.Kept): made on its first reference in the run, from its saved
// state when it has one.
func (s *state) keptObject(L *lua.LState, id, progid string) lua.LValue {
	r := s.run
	if k, ok := r.kept[id]; ok {
		return k.value
	}
	if r.env.Session == nil {
		L.RaiseError("%s is a Session object, and %s", id, r.env.NoSession)
	}
	saved, restored := r.env.Kept.Load(id)
	var k kept
	if apt := r.env.Kept.Apartment(); apt != nil {
		// In the session's apartment for this request, behind a proxy, as
		// in the memory store: it can be passed to other objects.
		p, err := apt.keep(r.ctx, progid, saved, restored)
		if err != nil {
			L.RaiseError("creating %s: %v", id, err)
		}
		k = kept{proxy: p, value: s.fromValue(L, p)}
	} else {
		k = s.makeKept(L, progid, saved, restored)
	}
	if r.kept == nil {
		r.kept = map[string]kept{}
	}
	r.kept[id] = k
	return k.value
}

// makeKept makes a kept object of progid, restored from saved if restored.
func (s *state) makeKept(L *lua.LState, progid string, saved scope.Value, restored bool) kept {
	if c, ok := s.e.components[progid]; ok {
		o := s.newGoObject(L, c)
		keeper, ok := o.inst.(Keeper)
		if !ok {
			L.RaiseError("%s cannot be kept with the session: it does not save and restore its state", progid)
		}
		if restored {
			if err := keeper.Restore(saved); err != nil {
				L.RaiseError("restoring %s: %v", progid, err)
			}
		}
		return kept{obj: o, value: s.wrapObject(L, o)}
	}
	fields, _ := saved.(map[string]scope.Value)
	if restored && fields == nil {
		fields = map[string]scope.Value{}
	}
	self, _ := s.newLuaInstance(L, progid, fields)
	return kept{self: self, value: self}
}

// state is a kept object's state to save: a Go Keeper's Save, or a Lua
// instance's fields, which must be plain data.
func (k kept) state() (scope.Value, error) {
	var v scope.Value
	if k.obj != nil {
		var err error
		if v, err = k.obj.inst.(Keeper).Save(); err != nil {
			return nil, err
		}
	} else {
		fields := map[string]scope.Value{}
		var bad error
		k.self.ForEach(func(key, val lua.LValue) {
			if s, ok := key.(lua.LString); ok {
				fields[string(s)] = toValue(val)
			} else {
				bad = fmt.Errorf("a %s key", key.Type())
			}
		})
		if bad != nil {
			return nil, bad
		}
		v = fields
	}
	if _, err := scope.Copy(v); err != nil {
		return nil, errors.New(strings.TrimSuffix(err.Error(), " is not plain data"))
	}
	return v, nil
}

// saveKept gives the state of each kept object the run made back to
// Env.Kept.
func (r *run) saveKept() error {
	for id, k := range r.kept {
		var state scope.Value
		var err error
		if k.proxy != nil {
			state, err = k.proxy.a.state(r.ctx, k.proxy)
		} else {
			state, err = k.state()
		}
		if err != nil {
			what := "its self holds"
			if k.obj != nil {
				what = "its state holds"
			}
			return &Error{Kind: Runtime, File: r.page.Name, Err: err,
				Msg: fmt.Sprintf("Session object %s (%s) cannot be saved with the session: %s %v", id, r.env.Kept.Objects()[id], what, err)}
		}
		if err := r.env.Kept.Save(id, state); err != nil {
			return err
		}
	}
	return nil
}

// keptProgID is the progid of kept Session object id; ok is false when
// id is not one (or the run keeps none).
func (r *run) keptProgID(id string) (progid string, ok bool) {
	if r.env.Kept == nil {
		return "", false
	}
	progid, ok = r.env.Kept.Objects()[id]
	return progid, ok
}

// endKept terminates the kept objects of a session that ends: each one
// with a saved state (or made in this run) gets its Terminate.
func (r *run) endKept(L *lua.LState) {
	for id, progid := range r.env.Kept.Objects() {
		k, ok := r.kept[id]
		if !ok {
			saved, found := r.env.Kept.Load(id)
			if !found {
				continue
			}
			k = r.s.makeKept(L, progid, saved, true)
		}
		if k.proxy != nil {
			continue // the event's apartment: not terminated in it
		}
		if k.obj != nil {
			if err := k.obj.Terminate(); err != nil {
				L.RaiseError("terminating %s: %v", id, err)
			}
			continue
		}
		if term, ok := k.self.Metatable.(*lua.LTable).RawGetString("__index").(*lua.LTable).RawGetString("Terminate").(*lua.LFunction); ok {
			L.Push(term)
			L.Push(k.self)
			L.Call(1, 0)
		}
	}
}

// KeepsState reports whether progid's objects can be kept as their state
// by a shared session store: a Lua component (checked when it saves), or
// a Go component whose instances implement Keeper (one instance is made
// to find out).
func (e *Engine) KeepsState(progid string) bool {
	c, ok := e.components[progid]
	if !ok {
		return true
	}
	inst, err := c.New()
	if err != nil {
		return false
	}
	if t, ok := inst.(scope.Terminator); ok {
		t.Terminate()
	}
	_, ok = inst.(Keeper)
	return ok
}

// HasComponent reports whether progid names a registered Go component or a
// Lua component file.
func (e *Engine) HasComponent(progid string) bool {
	if _, ok := e.components[progid]; ok {
		return true
	}
	if !progIDPattern.MatchString(progid) {
		return false
	}
	_, err := fs.Stat(e.cfg.FS, "components/"+progid+".lua")
	return err == nil
}

// declared resolves a global name that is not a global: an intrinsic object
// on its first use in the state, or an object that global.lasa declares,
// created on its first reference. It is kept in the
// request's globals, so later references cost nothing.
func (s *state) declared(L *lua.LState) int {
	name, ok := L.Get(2).(lua.LString)
	if build := s.intrinsics[string(name)]; ok && build != nil {
		delete(s.intrinsics, string(name))
		obj := build().proxy
		s.base.RawSetString(string(name), obj)
		L.Push(obj)
		return 1
	}
	r := s.run
	if !ok || r == nil || r.globals == nil {
		return 0
	}
	var obj lua.LValue
	if progid, ok := r.env.PageObjects[string(name)]; ok {
		obj = s.createObject(L, progid)
	} else if progid, ok := r.keptProgID(string(name)); ok {
		obj = s.keptObject(L, string(name), progid)
	} else if r.env.Declared != nil {
		o, ok, err := r.env.Declared(r.ctx, string(name))
		if err != nil {
			L.RaiseError("creating %s: %v", name, err)
		}
		if !ok {
			return 0
		}
		obj = s.fromValue(L, o)
	} else {
		return 0
	}
	r.globals.RawSetString(string(name), obj)
	L.Push(obj)
	return 1
}

// NewObject makes an object of progid for Application or Session scope: an
// agile Go component's object directly, anything else in apt behind a proxy.
func (e *Engine) NewObject(ctx context.Context, progid string, apt func() *Apartment) (scope.Object, error) {
	if c, ok := e.components[progid]; ok && c.Threading == scope.Agile {
		inst, err := c.New()
		if err != nil {
			return nil, err
		}
		return &goObject{c: c, inst: inst}, nil
	}
	return apt().Create(ctx, progid)
}
