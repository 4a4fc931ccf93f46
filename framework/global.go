package framework

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"lasp/globalfile"
	"lasp/scope"
	"lasp/scripting"
)

// globalName is the application's global file.
const globalName = "global.lasa"

// loadGlobal reads, checks and compiles global.lasa, if the application has
// one: its declarations must name known components, its scripts must
// compile. Nothing is half-loaded: on error s.global is left unset.
func (s *Server) loadGlobal() error {
	src, err := fs.ReadFile(s.fsys, globalName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f, err := globalfile.Parse(globalName, string(src))
	var ge *globalfile.Error
	if errors.As(err, &ge) {
		return &scripting.Error{Kind: scripting.Compile, File: ge.Name, Line: ge.Line, Msg: ge.Msg, Err: err}
	}
	if err != nil {
		return err
	}
	for _, o := range f.Objects {
		if !s.engine.HasComponent(o.ProgID) {
			return &scripting.Error{Kind: scripting.Compile, File: globalName, Line: o.Pos.Line,
				Msg: fmt.Sprintf("unknown progid %q for object %q: no Go component of that name and no components/%s.lua", o.ProgID, o.ID, o.ProgID)}
		}
	}
	g, err := scripting.CompileGlobal(globalName, f.LuaChunk())
	if err != nil {
		return err
	}
	s.global = g
	factories := map[string]scope.Factory{}
	s.pageObjects = map[string]string{}
	s.sessionObjects = map[string]string{}
	for _, o := range f.Objects {
		switch o.Scope {
		case globalfile.Application:
			progid := o.ProgID
			factories[o.ID] = func(ctx context.Context) (scope.Object, error) {
				return s.engine.NewObject(ctx, progid, s.appApartment)
			}
		case globalfile.Page:
			s.pageObjects[o.ID] = o.ProgID
		case globalfile.Session:
			s.sessionObjects[o.ID] = o.ProgID
		}
	}
	s.statics = scope.NewStatics(factories)
	return nil
}

// appApartment is the application's apartment, started on first need.
func (s *Server) appApartment() *scripting.Apartment {
	s.aptOnce.Do(func() {
		s.apt = s.engine.NewApartment("Application", *s.eventEnv(""))
	})
	return s.apt
}

// declared finds an Application-scope object of global.lasa.
func (s *Server) declared(ctx context.Context, id string) (scope.Object, bool, error) {
	if s.statics == nil || !slices.Contains(s.statics.IDs(), id) {
		return nil, false, nil
	}
	o, err := s.statics.Get(ctx, id)
	return o, err == nil, err
}

// start runs Application_OnStart once, inside the first page request;
// concurrent first requests wait for it. An error fails that request and
// the next one tries again.
func (s *Server) start(ctx context.Context, id string) error {
	if s.started.Load() {
		return nil
	}
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.started.Load() {
		return nil
	}
	if s.globalErr != nil {
		// -dev: every page shows the error until the file is fixed.
		if s.globalErr = s.loadGlobal(); s.globalErr != nil {
			return s.globalErr
		}
	}
	if s.global != nil {
		if err := s.engine.RunEvent(ctx, s.global, "Application_OnStart", s.eventEnv(id)); err != nil {
			return err
		}
	}
	s.started.Store(true)
	return nil
}

// end runs Application_OnEnd, once, if the application started.
func (s *Server) end(ctx context.Context) {
	if !s.started.CompareAndSwap(true, false) || s.global == nil {
		return
	}
	if err := s.engine.RunEvent(ctx, s.global, "Application_OnEnd", s.eventEnv("")); err != nil {
		s.log.Error("Application_OnEnd failed", "err", err.Error())
	}
	if err := s.statics.Close(ctx); err != nil {
		s.log.Error("terminating Application objects", "err", err.Error())
	}
	if s.apt != nil {
		if err := s.apt.Close(ctx); err != nil {
			s.log.Error("closing the application's apartment", "err", err.Error())
		}
	}
}

func (s *Server) eventEnv(id string) *scripting.Env {
	return &scripting.Env{RequestID: id, Log: s.log, Application: s.app, ApplicationLock: &s.appLock,
		Declared: s.declared, PageObjects: s.pageObjects}
}
