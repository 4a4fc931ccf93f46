package framework

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"lasp/framework/session"
	"lasp/scope"
	"lasp/scripting"
)

// The session store (package session) reaches the server through
// sessionHost; a request reaches its session through a view
// (session_view.go).

// sessionHost is the server as its session store sees it.
type sessionHost struct{ s *Server }

var _ session.Host = sessionHost{}

func (h sessionHost) End(ctx context.Context, rec *session.Record) { h.s.endSession(ctx, rec) }
func (h sessionHost) Down(err error) error                         { return h.s.storeDown("session", err) }

// openSessions opens the session store that cfg names.
func (s *Server) openSessions() (session.Store, error) {
	return session.Open(s.cfg.SessionStore, sessionHost{s}, session.Options{
		Keys:     s.cfg.Keys,
		Timeout:  s.cfg.SessionTimeout,
		LockWait: s.cfg.ScriptTimeout, // a request still waiting then answers 503
		Logger:   s.log,
	})
}

// liveSession is what a session keeps in this process, where its store
// keeps it here (session.Record.Live): the global.lasa it started under,
// its declared Session objects and their apartment.
type liveSession struct {
	g *global

	objOnce sync.Once
	statics *scope.Statics
	aptOnce sync.Once
	apt     *scripting.Apartment
}

// newLive is what a new session under g keeps in this process: nothing
// unless the store keeps its sessions here.
func (s *Server) newLive(g *global) any {
	if !s.inProcess() {
		return nil
	}
	return &liveSession{g: g}
}

// objects are the declared Session objects of session id, created on first
// reference.
func (s *Server) objects(id string, ss *liveSession) *scope.Statics {
	ss.objOnce.Do(func() {
		factories := map[string]scope.Factory{}
		for oid, progid := range ss.g.sessionObjects {
			factories[oid] = func(ctx context.Context) (scope.Object, error) {
				return s.engine.NewObject(ctx, progid, func() *scripting.Apartment {
					ss.aptOnce.Do(func() { ss.apt = s.engine.NewApartment("Session "+id, *s.newEnv(envOptions{g: ss.g})) })
					return ss.apt
				})
			}
		}
		ss.statics = scope.NewStatics(factories)
	})
	return ss.statics
}

// endSession runs Session_OnEnd for a session that ended, then ends its
// objects and apartment. The store calls it once per session.
func (s *Server) endSession(ctx context.Context, rec *session.Record) {
	g := s.g.Load()
	live, _ := rec.Live.(*liveSession)
	if live != nil {
		g = live.g
	}
	if g.page != nil {
		v := &view{s: s, g: g, q: session.Ended(rec)}
		env := s.newEnv(envOptions{g: g, v: v})
		if err := s.engine.RunEvent(ctx, g.page, "Session_OnEnd", env); err != nil {
			s.log.Error("Session_OnEnd failed", "session", rec.ID[:8], "err", err.Error())
		}
	}
	if live != nil {
		if live.statics != nil {
			if err := live.statics.Close(ctx); err != nil {
				s.log.Error("terminating Session objects", "err", err.Error())
			}
		}
		if live.apt != nil {
			if err := live.apt.Close(ctx); err != nil {
				s.log.Error("closing a session's apartment", "err", err.Error())
			}
		}
	}
}

// declaredIn finds global.lasa's Application objects, then the Session
// objects of v's session (v may be nil: a page without a session).
func (s *Server) declaredIn(g *global, v *view) declaredFunc {
	app := s.declared(g)
	if len(g.sessionObjects) == 0 {
		return app // nothing of the session's to find: no closure per request
	}
	return func(ctx context.Context, id string) (scope.Object, bool, error) {
		if o, ok, err := app(ctx, id); ok || err != nil {
			return o, ok, err
		}
		if _, ok := g.sessionObjects[id]; !ok {
			return nil, false, nil
		}
		if v == nil {
			return nil, false, errNoSession
		}
		rec := v.q.Record()
		live, _ := rec.Live.(*liveSession)
		if live == nil {
			return nil, false, fmt.Errorf("this session store cannot keep Session object %q", id)
		}
		o, err := s.objects(rec.ID, live).Get(ctx, id)
		return o, err == nil, err
	}
}

// sessionFor opens the session of a page: it loads it (waiting for its
// lock on a True page) and starts one when global.lasa's Session_OnStart
// needs it, which reads req. The caller must call the view's finish.
func (s *Server) sessionFor(rw *response, r *http.Request, g *global, id string, readOnly bool, req scripting.Request) (*view, error) {
	v := &view{s: s, g: g, rw: rw}
	q := &v.q
	start := time.Now()
	err := q.Begin(r.Context(), s.sessions, rw.w, r, session.Use{ReadOnly: readOnly, Page: v, Name: r.URL.Path})
	if !readOnly && (err != nil || q.Found()) {
		rw.waited = time.Since(start) // for its session's lock (access log)
	}
	if err != nil {
		return nil, err
	}
	if q.Found() || !g.eagerSessions {
		return v, nil
	}
	// A new session with a Session_OnStart: it runs before the page, may
	// write to Session even on a ReadOnly page, and its headers and cookies
	// go out with the page; text it writes is dropped. It reads the page's
	// request: one body, read once.
	err = q.Start(func() error {
		start := s.newEnv(envOptions{id: id, g: g, req: req, rw: rw, v: v})
		return s.engine.RunEvent(r.Context(), g.page, "Session_OnStart", start)
	})
	if err != nil {
		v.finish(r.Context())
		return nil, err
	}
	return v, nil
}

var errStoreDown = errors.New("the session store is unavailable")

// inProcess reports whether sessions live in this process (the memory
// store), with their objects; the other stores keep them elsewhere as
// plain data, and sessions outlive the process.
func (s *Server) inProcess() bool {
	_, ok := s.sessions.(session.InProcess)
	return ok
}
