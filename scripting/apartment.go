package scripting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"lasp/scope"
)

// An Apartment is one goroutine that owns one Lua state and hosts the
// apartment-threaded objects of one application or one session. Requests
// reach its objects through Proxies: each call is sent to the goroutine and
// waited for; arguments and results cross as copies of plain data or as
// agile objects. A call waits only for its own apartment, so one session's
// slow object never holds up another session.
type Apartment struct {
	name string
	e    *Engine
	env  Env
	jobs chan func()
	quit chan struct{}
	done chan struct{}
	once sync.Once

	// For Apartments: objects made in it, calls waiting for its
	// goroutine, and whether one runs.
	hosted  atomic.Int64
	queued  atomic.Int64
	running atomic.Bool

	// owned by the apartment's goroutine
	s       *state
	page    *Page
	objects map[*Proxy]*lua.LTable
	kept    map[*Proxy]kept // the kept Session objects among them
	ends    []func() error  // Terminate of each object, in creation order
}

// ErrApartmentClosed is the error of a call to an apartment that has ended.
var ErrApartmentClosed = errors.New("the object's apartment has ended")

// NewApartment starts an apartment. env gives its objects Application and
// the log; they see no request.
func (e *Engine) NewApartment(name string, env Env) *Apartment {
	if env.Request == nil {
		env.Request = noRequest{"an object's apartment"}
	}
	a := &Apartment{
		name: name, e: e, env: env,
		jobs:    make(chan func()),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		page:    &Page{Name: "apartment " + name},
		objects: map[*Proxy]*lua.LTable{},
		kept:    map[*Proxy]kept{},
	}
	a.s = newApartmentState(e)
	a.s.apartment = a
	e.aptMu.Lock()
	e.apartments[a] = struct{}{}
	e.aptMu.Unlock()
	go a.loop()
	return a
}

// ApartmentStats describes one live apartment.
type ApartmentStats struct {
	Name    string `json:"name"`    // as given to NewApartment
	Objects int64  `json:"objects"` // objects made in it so far
	Queued  int64  `json:"queued"`  // calls waiting for its goroutine
	Running bool   `json:"running"` // a call runs now
}

// Apartments reports the live apartments (started and not yet closed),
// sorted by name, at most limit of them (limit <= 0: all), and how many
// there are. It is safe to call from any goroutine; it costs a copy of the
// registry, not a call into any apartment.
func (e *Engine) Apartments(limit int) (list []ApartmentStats, total int) {
	e.aptMu.Lock()
	all := make([]*Apartment, 0, len(e.apartments))
	for a := range e.apartments {
		all = append(all, a)
	}
	e.aptMu.Unlock()
	list = make([]ApartmentStats, 0, len(all))
	for _, a := range all {
		list = append(list, ApartmentStats{Name: a.name, Objects: a.hosted.Load(), Queued: a.queued.Load(), Running: a.running.Load()})
	}
	slices.SortFunc(list, func(x, y ApartmentStats) int { return strings.Compare(x.Name, y.Name) })
	if limit > 0 && len(list) > limit {
		list = list[:limit]
	}
	return list, len(all)
}

func (a *Apartment) loop() {
	defer close(a.done)
	for {
		select {
		case job := <-a.jobs:
			job()
		case <-a.quit:
			return
		}
	}
}

// do runs fn on the apartment's goroutine, in a run bounded by ctx, and
// waits for it. Once started, a call ends soon after ctx does.
func (a *Apartment) do(ctx context.Context, fn func(L *lua.LState)) error {
	result := make(chan error, 1)
	job := func() {
		a.running.Store(true)
		defer a.running.Store(false)
		env := a.env
		env.Response = noResponse{"an object's apartment"}
		r := newRun(ctx, a.e, a.s, io.Discard, a.page, &env)
		a.s.run = r
		L := a.s.L
		L.SetContext(r.vm())
		err := r.protected(func() { fn(L) })
		L.RemoveContext()
		r.release()
		a.s.run = nil
		result <- err
	}
	a.queued.Add(1)
	select {
	case a.jobs <- job:
		a.queued.Add(-1)
		return <-result
	case <-a.quit:
		a.queued.Add(-1)
		return ErrApartmentClosed
	case <-ctx.Done():
		a.queued.Add(-1)
		return ctx.Err()
	}
}

// Create makes an object of progid in the apartment and returns its proxy:
// a Lua component, or a Go component that is not agile.
func (a *Apartment) Create(ctx context.Context, progid string) (*Proxy, error) {
	p := &Proxy{a: a, progid: progid}
	err := a.do(ctx, func(L *lua.LState) {
		if c, ok := a.e.components[progid]; ok {
			o := a.s.newGoObject(L, c)
			ud := a.s.wrapObject(L, o)
			self := L.CreateTable(0, 4)
			self.RawSetString("__go", ud)
			a.objects[p] = self
			a.hosted.Add(1)
			a.ends = append(a.ends, o.Terminate)
			return
		}
		self, terminate := a.s.newLuaInstance(L, progid, nil)
		a.objects[p] = self
		a.hosted.Add(1)
		if terminate != nil {
			a.ends = append(a.ends, terminate)
		}
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// keep makes a kept Session object of progid in the apartment (see
// Env.Kept), restored from saved if restored, and returns its proxy.
// Its Terminate does not run when the apartment ends: the object lives on
// as its state.
func (a *Apartment) keep(ctx context.Context, progid string, saved scope.Value, restored bool) (*Proxy, error) {
	p := &Proxy{a: a, progid: progid}
	err := a.do(ctx, func(L *lua.LState) {
		k := a.s.makeKept(L, progid, saved, restored)
		if k.obj != nil {
			self := L.CreateTable(0, 4)
			self.RawSetString("__go", k.value)
			a.objects[p] = self
			a.kept[p] = k
			a.hosted.Add(1)
			return
		}
		a.objects[p] = k.self
		a.kept[p] = k
		a.hosted.Add(1)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// state is the state of the kept object behind p, read in its apartment.
func (a *Apartment) state(ctx context.Context, p *Proxy) (scope.Value, error) {
	var v scope.Value
	var serr error
	err := a.do(ctx, func(L *lua.LState) { v, serr = a.kept[p].state() })
	if err != nil {
		return nil, err
	}
	return v, serr
}

// local returns the object behind p when p belongs to this apartment (a is
// nil for pooled request states).
func (a *Apartment) local(p *Proxy) (lua.LValue, bool) {
	if a == nil || p.a != a {
		return nil, false
	}
	self := a.objects[p]
	if ud, ok := self.RawGetString("__go").(*lua.LUserData); ok {
		return ud, true
	}
	return self, true
}

// Close terminates the apartment's objects, newest first, and ends its
// goroutine and Lua state. Calls after Close fail with ErrApartmentClosed.
func (a *Apartment) Close(ctx context.Context) error {
	var errs []error
	a.once.Do(func() {
		err := a.do(ctx, func(L *lua.LState) {
			for i := len(a.ends) - 1; i >= 0; i-- {
				if err := a.ends[i](); err != nil {
					errs = append(errs, err)
				}
			}
			a.ends = nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		close(a.quit)
		<-a.done
		a.s.close()
		a.e.aptMu.Lock()
		delete(a.e.apartments, a)
		a.e.aptMu.Unlock()
	})
	return errors.Join(errs...)
}

// A Proxy stands for an object that lives in an apartment. It is agile: any
// request may hold and call it, and it may be stored in Application or
// Session scope; every call runs in the object's apartment.
type Proxy struct {
	a      *Apartment
	progid string
}

var _ scope.Proxy = (*Proxy)(nil)

func (p *Proxy) ProgID() string             { return p.progid }
func (p *Proxy) Threading() scope.Threading { return scope.Agile }
func (p *Proxy) Apartment() string          { return p.a.name }

// Call calls method on the object in its apartment and waits for the
// result. Like every component's Call, its errors do not repeat the
// progid and method: the caller names what it called.
func (p *Proxy) Call(ctx context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	var res []scope.Value
	var failed error // a failure found in Go, not raised by the object's Lua
	err := p.a.do(ctx, func(L *lua.LState) {
		self, ok := p.a.local(p)
		if !ok {
			failed = errors.New("the object is gone")
			return
		}
		if ud, ok := self.(*lua.LUserData); ok {
			res, failed = ud.Value.(caller).Call(ctx, method, args)
			return
		}
		fn, ok := L.GetField(self, method).(*lua.LFunction)
		if !ok {
			failed = fmt.Errorf("%s has no method %q", p.progid, method)
			return
		}
		top := L.GetTop()
		L.Push(fn)
		L.Push(self)
		for _, v := range args {
			L.Push(p.a.s.fromValue(L, v))
		}
		L.Call(1+len(args), lua.MultRet)
		for i := top + 1; i <= L.GetTop(); i++ {
			v := toValue(L.Get(i))
			if err := scope.Check("", "", v); err != nil {
				failed = fmt.Errorf("result %d cannot leave its apartment (%s)", i-top, err.(*scope.AgilityError).Reason)
				res = nil
				break
			}
			res = append(res, v)
		}
		L.SetTop(top)
	})
	if err == nil {
		err = failed
	}
	return res, err
}
