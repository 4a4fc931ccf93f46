package framework

import (
	"context"

	"lasp/framework/session"
	"lasp/scope"
	"lasp/scripting"
)

// view is a request's Session as the script engine sees it: an adapter
// over the request's session.Request. With a shared store it is also the
// request's kept Session objects (scripting.Kept), with the apartment that
// hosts them for this request.
type view struct {
	s   *Server
	g   *global
	q   session.Request      // in place: Begin'd by sessionFor
	rw  *response            // nil in Session_OnEnd
	apt *scripting.Apartment // hosts kept Session objects for this request
}

var (
	_ scripting.Session = (*view)(nil)
	_ scripting.Kept    = (*view)(nil)
	_ session.Page      = (*view)(nil)
)

// Live is what the server keeps of a session the request starts.
func (v *view) Live() any { return v.s.newLive(v.g) }

// Flushed reports whether the response's headers went out.
func (v *view) Flushed() bool { return v.rw != nil && v.rw.committed }

func (v *view) Name() string { return "Session" }

func (v *view) Get(key string) (scope.Value, bool, error) {
	val, ok := v.q.Data().Get(key)
	return val, ok, nil
}
func (v *view) Keys() ([]string, error)               { return v.q.Data().Keys(), nil }
func (v *view) Len() (int, error)                     { return v.q.Data().Len(), nil }
func (v *view) Set(key string, val scope.Value) error { return v.q.Set(key, val) }
func (v *view) Remove(key string) error               { return v.q.Remove(key) }
func (v *view) RemoveAll() error                      { return v.q.RemoveAll() }
func (v *view) ID() string                            { return v.q.ID() }
func (v *view) RenewID() error                        { return v.q.RenewID() }
func (v *view) Timeout() float64                      { return v.q.Record().Timeout }
func (v *view) SetTimeout(minutes float64)            { v.q.SetTimeout(minutes) }
func (v *view) Abandon()                              { v.q.Abandon() }

// Objects are the declared Session objects, all kept by a shared store
// (loadGlobal checks that they can be).
func (v *view) Objects() map[string]string { return v.g.sessionObjects }

func (v *view) Load(id string) (scope.Value, bool)      { return v.q.LoadObject(id) }
func (v *view) Save(id string, state scope.Value) error { return v.q.SaveObject(id, state) }

// Ending reports whether this is Session_OnEnd: a view without a response.
func (v *view) Ending() bool { return v.rw == nil }

// Apartment is the apartment that hosts the kept Session objects of this
// request, made on first need; nil in Session_OnEnd, whose kept objects
// live in the event's own Lua state.
func (v *view) Apartment() *scripting.Apartment {
	if v.rw == nil {
		return nil
	}
	if v.apt == nil {
		v.apt = v.s.engine.NewApartment("Session "+v.q.Record().ID, *v.s.newEnv(envOptions{g: v.g}))
	}
	return v.apt
}

// finish ends the request's use of its session, then runs Session_OnEnd
// if the page abandoned it.
func (v *view) finish(ctx context.Context) {
	if v.apt == nil && !v.q.Found() {
		return // no session: nothing to finish
	}
	ctx = context.WithoutCancel(ctx) // the request's client may be gone: its session still ends well
	if v.apt != nil {
		// Its kept objects live on as their state.
		if err := v.apt.Close(ctx); err != nil {
			v.s.log.Error("closing a session's apartment", "err", err.Error())
		}
	}
	v.q.Finish(ctx)
}
