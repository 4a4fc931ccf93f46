package scripting

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"

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
		inst, err := c.New()
		if err != nil {
			L.RaiseError("creating %s: %v", progid, err)
		}
		o := &goObject{c: c, inst: inst}
		r.created = append(r.created, o.Terminate)
		return s.wrapObject(L, o)
	}
	if !progIDPattern.MatchString(progid) {
		L.RaiseError("unknown progid %q", progid)
	}
	proto, err := s.e.module("components/" + progid + ".lua")
	if errors.Is(err, fs.ErrNotExist) {
		L.RaiseError("unknown progid %q: no Go component of that name and no components/%s.lua", progid, progid)
	}
	if err != nil {
		if se, ok := err.(*Error); ok {
			r.pending = se
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
	self := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", class)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(progid))
		return 1
	}))
	mt.RawSetString("__progid", lua.LString(progid))
	self.Metatable = mt
	if init, ok := class.RawGetString("Initialize").(*lua.LFunction); ok {
		L.Push(init)
		L.Push(self)
		L.Call(1, 0)
	}
	if term, ok := class.RawGetString("Terminate").(*lua.LFunction); ok {
		r.created = append(r.created, func() error {
			return L.CallByParam(lua.P{Fn: term, NRet: 0, Protect: true}, self)
		})
	}
	return self
}

// wrapObject gives a Go object to Lua: a userdata whose every field is a
// method, callable with "." or ":".
func (s *state) wrapObject(L *lua.LState, o *goObject) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = scope.Object(o)
	ud.Metatable = s.goObjectMT
	return ud
}

// newGoObjectMT is the metatable of Go objects in Lua.
func (s *state) newGoObjectMT() *lua.LTable {
	L := s.L
	mt := L.NewTable()
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

// callGo calls method of the Go object in ud with the Lua arguments.
func (s *state) callGo(L *lua.LState, ud *lua.LUserData, method string) int {
	first := 1
	if L.GetTop() > 0 && L.Get(1) == ud {
		first = 2
	}
	args := make([]scope.Value, 0, L.GetTop()-first+1)
	for i := first; i <= L.GetTop(); i++ {
		v := toValue(L.Get(i))
		if u, ok := v.(scope.Unstorable); ok {
			L.RaiseError("%s.%s: argument %d is %s, not plain data", ud.Value.(scope.Object).ProgID(), method, i-first+1, u.What)
		}
		args = append(args, v)
	}
	o := ud.Value.(*goObject)
	res, err := o.inst.Call(s.run.ctx, method, args)
	if err != nil {
		L.RaiseError("%s.%s: %v", o.c.ProgID, method, err)
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
	mt := L.NewTable()
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
		L.Push(s.base.RawGet(key))
		return 1
	}))
	return mt
}

// luaInstance stands for a Lua component instance in the agility check: it
// lives in its Lua state, so it is apartment-threaded.
type luaInstance struct{ progid string }

func (o luaInstance) ProgID() string             { return o.progid }
func (o luaInstance) Threading() scope.Threading { return scope.Apartment }

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
