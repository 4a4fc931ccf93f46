package scripting

import (
	"context"

	lua "github.com/yuin/gopher-lua"

	"lasp/scope"
)

// Contents is a scope's key/value collection (Application.Contents,
// Session.Contents): scope.Contents in one process (see Local), a store's
// view in a farm. Its errors (a store that does not answer, a value it
// cannot keep) are runtime errors of the page.
type Contents interface {
	Name() string
	Get(key string) (scope.Value, bool, error)
	Set(key string, v scope.Value) error
	Remove(key string) error
	RemoveAll() error
	Keys() ([]string, error)
	Len() (int, error)
}

// Local is Contents over a scope.Contents, which cannot fail.
func Local(c *scope.Contents) Contents { return local{c} }

type local struct{ c *scope.Contents }

func (l local) Name() string { return l.c.Name() }
func (l local) Get(key string) (scope.Value, bool, error) {
	v, ok := l.c.Get(key)
	return v, ok, nil
}
func (l local) Set(key string, v scope.Value) error { return l.c.Set(key, v) }
func (l local) Remove(key string) error             { l.c.Remove(key); return nil }
func (l local) RemoveAll() error                    { l.c.RemoveAll(); return nil }
func (l local) Keys() ([]string, error)             { return l.c.Keys(), nil }
func (l local) Len() (int, error)                   { return l.c.Len(), nil }

// Locker is Application:Lock()'s lock, owned by one run at a time.
type Locker interface {
	Lock(ctx context.Context, owner any) error
	Unlock(owner any) error
	ReleaseAll(owner any)
}

var (
	_ Locker = (*scope.Lock)(nil)
)

// scopeObject builds Application or Session: name[k] and name.Contents
// over the Contents that contents returns (it raises when there is none);
// writable reports whether this page may change them. StaticObjects[id]
// finds the declared objects by id.
// props, if not nil, answers the object's own properties before its contents.
func (s *state) scopeObject(name string, contents func(L *lua.LState) Contents, writable func(L *lua.LState), props *properties) *object {
	L := s.L
	get := func(L *lua.LState, key string) lua.LValue {
		v, _, err := contents(L).Get(key)
		s.check(L, err)
		return s.fromValue(L, v)
	}
	set := func(L *lua.LState, key string, v lua.LValue) {
		c := contents(L)
		writable(L)
		s.check(L, c.Set(key, toValue(v)))
	}
	c := s.newObject(name+".Contents", func(L *lua.LState, key string) (lua.LValue, bool) {
		if key == "Count" {
			n, err := contents(L).Len()
			s.check(L, err)
			return lua.LNumber(n), true
		}
		return get(L, key), true
	}, func(L *lua.LState, key string, v lua.LValue) bool {
		set(L, key, v)
		return true
	})
	c.method(L, "Remove", func(L *lua.LState) int {
		c := contents(L)
		writable(L)
		s.check(L, c.Remove(L.CheckString(1)))
		return 0
	})
	c.method(L, "RemoveAll", func(L *lua.LState) int {
		c := contents(L)
		writable(L)
		s.check(L, c.RemoveAll())
		return 0
	})
	c.method(L, "Keys", func(L *lua.LState) int {
		keys, err := contents(L).Keys()
		s.check(L, err)
		L.Push(stringArray(L, keys))
		return 1
	})
	statics := s.newObject(name+".StaticObjects", func(L *lua.LState, id string) (lua.LValue, bool) {
		contents(L)
		r := s.run
		if progid, ok := r.keptProgID(id); ok && name == "Session" {
			return s.keptObject(L, id, progid), true
		}
		if r.env.Declared == nil {
			return lua.LNil, true
		}
		o, ok, err := r.env.Declared(r.ctx, id)
		if err != nil {
			L.RaiseError("creating %s: %v", id, err)
		}
		if !ok {
			return lua.LNil, true
		}
		return s.fromValue(L, o), true
	}, nil)
	o := s.newObject(name, func(L *lua.LState, key string) (lua.LValue, bool) {
		if props != nil {
			if v, ok := props.get(L, key); ok {
				return v, true
			}
		}
		return get(L, key), true
	}, func(L *lua.LState, key string, v lua.LValue) bool {
		if props == nil || !props.set(L, key, v) {
			set(L, key, v)
		}
		return true
	})
	o.field("Contents", c.proxy)
	o.field("StaticObjects", statics.proxy)
	return o
}

// application builds the Application object over the run's
// Env.Application and Env.ApplicationLock.
func (s *state) application() *object {
	L := s.L
	contents := func(L *lua.LState) Contents {
		if s.run.env.Application == nil {
			L.RaiseError("Application is not available here")
		}
		return s.run.env.Application
	}
	o := s.scopeObject("Application", contents, func(*lua.LState) {}, nil)
	o.method(L, "Lock", func(L *lua.LState) int {
		contents(L)
		r := s.run
		r.waitingLock = true
		done := r.waiting()
		err := r.env.ApplicationLock.Lock(r.ctx, r)
		done()
		if err != nil && r.ctx.Err() == nil {
			r.waitingLock = false
			r.raised = err
			L.RaiseError("Application:Lock: %v", err)
		}
		if err != nil {
			// The script timeout passed while it waited: scriptError
			// reports it as ErrBusy.
			L.RaiseError("Application:Lock: %v", err)
		}
		r.waitingLock = false
		r.lockedApp = true
		return 0
	})
	o.method(L, "Unlock", func(L *lua.LState) int {
		contents(L)
		if err := s.run.env.ApplicationLock.Unlock(s.run); err != nil {
			L.RaiseError("Application:Unlock: %v", err)
		}
		return 0
	})
	return o
}

// properties are an intrinsic's own properties, beside its contents.
type properties struct {
	get getter
	set setter
}

// Session is one session as a page sees it.
type Session interface {
	Contents
	ID() string
	// Timeout is Session.Timeout in minutes.
	Timeout() float64
	SetTimeout(minutes float64)
	// Abandon ends the session when the page finishes.
	Abandon()
	// RenewID gives the session a new ID when the page succeeds; ID
	// returns it at once.
	RenewID() error
}

// session builds the Session object over Env.Session.
func (s *state) session() *object {
	L := s.L
	sess := func(L *lua.LState) Session {
		env := s.run.env
		if env.Session == nil {
			L.RaiseError("Session is not available: %s", env.NoSession)
		}
		return env.Session
	}
	contents := func(L *lua.LState) Contents { return sess(L) }
	writable := func(L *lua.LState) {
		if s.run.env.SessionReadOnly {
			L.RaiseError("Session is read-only on this page (EnableSessionState=ReadOnly)")
		}
	}
	o := s.scopeObject("Session", contents, writable, &properties{
		get: func(L *lua.LState, key string) (lua.LValue, bool) {
			switch key {
			case "SessionID":
				return lua.LString(sess(L).ID()), true
			case "Timeout":
				return lua.LNumber(sess(L).Timeout()), true
			}
			return nil, false
		},
		set: func(L *lua.LState, key string, v lua.LValue) bool {
			if key != "Timeout" {
				return false
			}
			n, ok := v.(lua.LNumber)
			// NaN fails both comparisons.
			if !ok || !(n > 0 && n <= maxSessionTimeout) {
				L.RaiseError("Session.Timeout must be a positive number of minutes, at most %d (a year), not %s",
					maxSessionTimeout, L.ToStringMeta(v).String())
			}
			writable(L)
			sess(L).SetTimeout(float64(n))
			return true
		},
	})
	o.method(L, "Abandon", func(L *lua.LState) int {
		writable(L) // a ReadOnly page cannot end its session either
		sess(L).Abandon()
		return 0
	})
	o.method(L, "RenewID", func(L *lua.LState) int {
		writable(L)
		s.check(L, sess(L).RenewID())
		return 0
	})
	return o
}

// maxSessionTimeout bounds Session.Timeout, in minutes: a year, as
// ASP.NET allows. Zero, a negative, NaN or math.huge would end the session
// at once or never, and are refused too.
const maxSessionTimeout = 525_600

// check raises err, if any, as the page's runtime error; the page's
// *Error keeps err as its cause (a store that is down answers 503).
func (s *state) check(L *lua.LState, err error) {
	if err != nil {
		if s.run != nil {
			s.run.raised = err
		}
		L.RaiseError("%v", err)
	}
}
