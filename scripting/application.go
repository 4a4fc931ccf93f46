package scripting

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"lasp/scope"
)

// Contents is a scope's key/value collection (Application.Contents,
// Session.Contents): scope.Contents in one process, a store's view in a farm.
type Contents interface {
	Name() string
	Get(key string) (scope.Value, bool)
	Set(key string, v scope.Value) error
	Remove(key string)
	RemoveAll()
	Keys() []string
	Len() int
}

// Locker is Application:Lock()'s lock, owned by one run at a time.
type Locker interface {
	Lock(ctx context.Context, owner any) error
	Unlock(owner any) error
	ReleaseAll(owner any)
}

var (
	_ Contents = (*scope.Contents)(nil)
	_ Locker   = (*scope.Lock)(nil)
)

// application builds the Application object over the run's
// Env.Application and Env.ApplicationLock.
func (s *state) application() *object {
	L := s.L
	app := func(L *lua.LState) (Contents, Locker) {
		env := s.run.env
		if env.Application == nil {
			L.RaiseError("Application is not available here")
		}
		return env.Application, env.ApplicationLock
	}
	get := func(L *lua.LState, key string) lua.LValue {
		c, _ := app(L)
		v, _ := c.Get(key)
		return s.fromValue(L, v)
	}
	set := func(L *lua.LState, key string, v lua.LValue) {
		c, _ := app(L)
		if err := c.Set(key, toValue(v)); err != nil {
			L.RaiseError("%v", err)
		}
	}
	contents := s.newObject("Application.Contents", func(L *lua.LState, key string) (lua.LValue, bool) {
		if key == "Count" {
			c, _ := app(L)
			return lua.LNumber(c.Len()), true
		}
		return get(L, key), true
	}, func(L *lua.LState, key string, v lua.LValue) bool {
		set(L, key, v)
		return true
	})
	contents.method(L, "Remove", func(L *lua.LState) int {
		c, _ := app(L)
		c.Remove(L.CheckString(1))
		return 0
	})
	contents.method(L, "RemoveAll", func(L *lua.LState) int {
		c, _ := app(L)
		c.RemoveAll()
		return 0
	})
	contents.method(L, "Keys", func(L *lua.LState) int {
		c, _ := app(L)
		L.Push(stringArray(L, c.Keys()))
		return 1
	})
	o := s.newObject("Application", func(L *lua.LState, key string) (lua.LValue, bool) {
		return get(L, key), true
	}, func(L *lua.LState, key string, v lua.LValue) bool {
		set(L, key, v)
		return true
	})
	o.field("Contents", contents.proxy)
	o.method(L, "Lock", func(L *lua.LState) int {
		_, lock := app(L)
		r := s.run
		if err := lock.Lock(r.ctx, r); err != nil {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(context.Cause(r.ctx), errScriptTimeout) {
				L.RaiseError("Application:Lock: the page's script timeout passed while it waited for the lock")
			}
			L.RaiseError("Application:Lock: %v", err)
		}
		r.lockedApp = true
		return 0
	})
	o.method(L, "Unlock", func(L *lua.LState) int {
		_, lock := app(L)
		if err := lock.Unlock(s.run); err != nil {
			L.RaiseError("Application:Unlock: %v", err)
		}
		return 0
	})
	return o
}
