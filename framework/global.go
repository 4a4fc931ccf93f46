package framework

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lasp/globalfile"
	"lasp/scope"
	"lasp/scripting"
)

// globalName is the application's global file.
const globalName = "global.lasa"

// global is one load of global.lasa: its compiled scripts and what it
// declares. Under -dev an edit replaces it whole (a restart).
type global struct {
	page           *scripting.Page   // nil without a global.lasa
	statics        *scope.Statics    // Application objects, created on first reference
	pageObjects    map[string]string // Page objects, id → progid
	sessionObjects map[string]string // Session objects, id → progid
	eagerSessions  bool              // it has a Session_OnStart: every request needs its session
	mod            time.Time         // the file as loaded, for -dev
	size           int64

	aptOnce sync.Once
	apt     *scripting.Apartment // the application's apartment, once needed

	declared atomic.Pointer[declaredFunc] // Server.declared's, made once
}

// declaredFunc finds a declared object by id (scripting.Env.Declared).
type declaredFunc = func(context.Context, string) (scope.Object, bool, error)

// loadGlobal reads, checks and compiles global.lasa: its declarations must
// name known components, its scripts must compile. Nothing is half-loaded.
func (s *Server) loadGlobal() (*global, error) {
	g := &global{statics: scope.NewStatics(nil)}
	fi, err := fs.Stat(s.fsys, globalName)
	if errors.Is(err, fs.ErrNotExist) {
		return g, nil
	}
	if err != nil {
		return nil, err
	}
	g.mod, g.size = fi.ModTime(), fi.Size()
	src, err := fs.ReadFile(s.fsys, globalName)
	if err != nil {
		return nil, err
	}
	f, err := globalfile.Parse(globalName, string(src))
	var ge *globalfile.Error
	if errors.As(err, &ge) {
		return nil, &scripting.Error{Kind: scripting.Compile, File: ge.Name, Line: ge.Line, Msg: ge.Msg, Err: err}
	}
	if err != nil {
		return nil, err
	}
	for _, o := range f.Objects {
		if !s.engine.HasComponent(o.ProgID) {
			return nil, &scripting.Error{Kind: scripting.Compile, File: globalName, Line: o.Pos.Line,
				Msg: fmt.Sprintf("unknown progid %q for object %q: no Go component of that name and no components/%s.lua", o.ProgID, o.ID, o.ProgID)}
		}
		if !s.inProcess() && o.Scope == globalfile.Session && !s.engine.KeepsState(o.ProgID) {
			return nil, &scripting.Error{Kind: scripting.Compile, File: globalName, Line: o.Pos.Line,
				Msg: fmt.Sprintf("Session object %q (%s) cannot be kept by the %s session store: the Go component does not save and restore its state (framework.Keeper)", o.ID, o.ProgID, s.sessions.Name())}
		}
	}
	chunk := f.LuaChunk()
	if g.page, err = scripting.CompileGlobal(globalName, chunk); err != nil {
		return nil, err
	}
	g.eagerSessions = strings.Contains(chunk, "Session_OnStart")
	factories := map[string]scope.Factory{}
	g.pageObjects, g.sessionObjects = map[string]string{}, map[string]string{}
	for _, o := range f.Objects {
		switch o.Scope {
		case globalfile.Application:
			progid := o.ProgID
			factories[o.ID] = func(ctx context.Context) (scope.Object, error) {
				return s.engine.NewObject(ctx, progid, func() *scripting.Apartment { return s.appApartment(g) })
			}
		case globalfile.Page:
			g.pageObjects[o.ID] = o.ProgID
		case globalfile.Session:
			g.sessionObjects[o.ID] = o.ProgID
		}
	}
	g.statics = scope.NewStatics(factories)
	return g, nil
}

// changed reports whether global.lasa is not the file g was loaded from.
func (s *Server) changed(g *global) bool {
	fi, err := fs.Stat(s.fsys, globalName)
	if err != nil {
		return g.page != nil || !errors.Is(err, fs.ErrNotExist)
	}
	return g.page == nil || !fi.ModTime().Equal(g.mod) || fi.Size() != g.size
}

// appApartment is the application's apartment, started on first need.
func (s *Server) appApartment(g *global) *scripting.Apartment {
	g.aptOnce.Do(func() {
		g.apt = s.engine.NewApartment("Application", *s.newEnv(envOptions{g: g}))
	})
	return g.apt
}

// declared finds an Application-scope object of global.lasa.
func (s *Server) declared(g *global) declaredFunc {
	if f := g.declared.Load(); f != nil {
		return *f
	}
	f := declaredFunc(func(ctx context.Context, id string) (scope.Object, bool, error) {
		if !slices.Contains(g.statics.IDs(), id) {
			return nil, false, nil
		}
		o, err := g.statics.Get(ctx, id)
		return o, err == nil, err
	})
	g.declared.Store(&f) // two first requests may both make it: alike
	return f
}

// start runs Application_OnStart once, inside the first page request;
// concurrent first requests wait for it. An error fails that request and
// the next one tries again. Under -dev an edited global.lasa restarts the
// application first, and a broken one is the error of every page until it
// is fixed.
func (s *Server) start(ctx context.Context, id string) (*global, error) {
	if !s.cfg.Dev && s.started.Load() {
		return s.g.Load(), nil
	}
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.cfg.Dev && s.changed(s.g.Load()) {
		s.restart(ctx, "global.lasa changed: restarting the application")
	}
	g := s.g.Load()
	if s.globalErr != nil {
		return nil, s.globalErr
	}
	if s.started.Load() {
		return g, nil
	}
	if g.page != nil && s.claimStart(ctx) {
		if err := s.engine.RunEvent(ctx, g.page, "Application_OnStart", s.newEnv(envOptions{id: id, g: g})); err != nil {
			if s.farmApp != nil {
				s.farmApp.AppReset(context.WithoutCancel(ctx)) // the next server to start tries again
			}
			return nil, err
		}
	}
	s.started.Store(true)
	return g, nil
}

// claimStart reports whether this server runs Application_OnStart: always
// with its own Application, and only the first server of the farm with an
// Application shared in Redis (the others find it started). If Redis does
// not answer, OnStart runs: a page that starts the application must not
// fail for it.
func (s *Server) claimStart(ctx context.Context) bool {
	if s.farmApp == nil {
		return true
	}
	first, err := s.farmApp.AppStarted(ctx)
	if err != nil {
		s.storeDown("application", err)
		return true
	}
	return first
}

// Restart restarts the application, as an edit of global.lasa does under
// Dev: the sessions kept in this process end (Session_OnEnd), then
// Application_OnEnd runs, Application is emptied, and global.lasa, pages,
// includes and modules are read again from the files as they are now; the
// next request runs Application_OnStart. Requests keep being served
// meanwhile. serve calls it on SIGHUP (docs/operations.md).
func (s *Server) Restart(ctx context.Context) {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	s.engine.Reload()
	s.routes.Clear()
	s.etags.clear()
	s.restart(ctx, "restarting the application")
}

// restart ends the application (every session, then Application_OnEnd),
// empties Application and loads global.lasa again. s.startMu is held.
func (s *Server) restart(ctx context.Context, why string) {
	s.log.Info(why)
	if s.inProcess() {
		s.sessions.Close(ctx) // sessions in a cookie or in Redis outlive a restart
	}
	s.end(ctx)
	s.app.RemoveAll()
	g, err := s.loadGlobal()
	if err != nil {
		g = &global{statics: scope.NewStatics(nil)}
		s.log.Error("global.lasa does not load", "err", err.Error())
	}
	s.globalErr = err
	s.g.Store(g)
}

// end runs Application_OnEnd, once, if the application started, then ends
// the Application objects and the application's apartment.
func (s *Server) end(ctx context.Context) {
	if !s.started.CompareAndSwap(true, false) {
		return
	}
	g := s.g.Load()
	if g.page != nil {
		if err := s.engine.RunEvent(ctx, g.page, "Application_OnEnd", s.newEnv(envOptions{g: g})); err != nil {
			s.log.Error("Application_OnEnd failed", "err", err.Error())
		}
	}
	if err := g.statics.Close(ctx); err != nil {
		s.log.Error("terminating Application objects", "err", err.Error())
	}
	if g.apt != nil {
		if err := g.apt.Close(ctx); err != nil {
			s.log.Error("closing the application's apartment", "err", err.Error())
		}
	}
}
