package framework

import (
	"context"

	"lasp/scripting"
)

// envOptions says what one run of the script engine is: a page, or an
// event of global.lasa (or the environment of an apartment). newEnv turns
// it into the run's scripting.Env. With only g, it is an event outside a
// request: no request, no response, no session.
type envOptions struct {
	// ctx is the request's context, which Application uses with a shared
	// store; nil for events (context.Background).
	ctx context.Context
	id  string  // the request ID; "" outside a request
	g   *global // declares the run's objects; nil: none (500.lasp)
	// page is a page run, not an event: with a session it commits it
	// before the rest of its output is sent; without one, its Session
	// objects are an error that says why (noSession).
	page      bool
	req       scripting.Request // nil: none (an event: Request is an error)
	rw        *response         // nil: none (an event: Response is an error)
	v         *view             // the session; nil: none
	noSession string            // why a page has no session
	readOnly  bool              // the page has EnableSessionState=ReadOnly
	status    int               // the status the page starts with; 0: 200
	lastError *scripting.Error  // what Server.GetLastError returns (500.lasp)
}

// newEnv is the one place where the server makes a scripting.Env: reading
// it shows what every page, event and apartment of the server gets.
// ScriptTimeout stays zero: the engine's default (Config.ScriptTimeout),
// which a page may change.
func (s *Server) newEnv(o envOptions) *scripting.Env {
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	env := &scripting.Env{
		Request:         o.req,
		RequestID:       o.id,
		Log:             s.log,
		Status:          o.status,
		LastError:       o.lastError,
		NoSession:       o.noSession,
		SessionReadOnly: o.readOnly,
	}
	if o.rw != nil {
		env.Response = o.rw
	}
	env.Application, env.ApplicationLock = s.application(ctx)
	if o.g != nil {
		// global.lasa's objects. An event without a session does not find
		// its Session objects; a page without one fails on them (errNoSession).
		env.PageObjects = o.g.pageObjects
		if o.v != nil || o.page {
			env.Declared = s.declaredIn(o.g, o.v)
		} else {
			env.Declared = s.declared(o.g)
		}
	}
	if o.v != nil {
		env.Session = o.v
		if o.page {
			env.Commit = o.v.q.Commit
		}
		// A shared store keeps every declared Session object as its state;
		// the memory store keeps the objects themselves (declaredIn).
		if o.g != nil && !s.inProcess() && len(o.g.sessionObjects) > 0 {
			env.Kept = o.v
		}
	}
	return env
}
