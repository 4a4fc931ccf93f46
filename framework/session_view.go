package framework

import (
	"context"

	"lasp/framework/session"
	"lasp/scope"
	"lasp/scripting"
)

// view is a request's Session as the script engine sees it: an adapter
// over the request's session.Request, with the apartment that hosts its
// kept Session objects for this request.
type view struct {
	s   *Server
	g   *global
	q   *session.Request
	rw  *response            // nil in Session_OnEnd
	apt *scripting.Apartment // hosts kept Session objects for this request
}

var (
	_ scripting.Session = (*view)(nil)
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
func (v *view) Keys() ([]string, error)                  { return v.q.Data().Keys(), nil }
func (v *view) Len() (int, error)                        { return v.q.Data().Len(), nil }
func (v *view) Set(key string, val scope.Value) error    { return v.q.Set(key, val) }
func (v *view) Remove(key string) error                  { return v.q.Remove(key) }
func (v *view) RemoveAll() error                         { return v.q.RemoveAll() }
func (v *view) ID() string                               { return v.q.Record().ID }
func (v *view) Timeout() float64                         { return v.q.Record().Timeout }
func (v *view) SetTimeout(minutes float64)               { v.q.SetTimeout(minutes) }
func (v *view) Abandon()                                 { v.q.Abandon() }
func (v *view) LoadObject(id string) (scope.Value, bool) { return v.q.LoadObject(id) }
func (v *view) SaveObject(id string, state scope.Value) error {
	return v.q.SaveObject(id, state)
}

// finish ends the request's use of its session, then runs Session_OnEnd
// if the page abandoned it.
func (v *view) finish(ctx context.Context) {
	if v.apt != nil {
		// Its kept objects live on as their state.
		if err := v.apt.Close(ctx); err != nil {
			v.s.log.Error("closing a session's apartment", "err", err.Error())
		}
	}
	v.q.Finish(ctx)
}
