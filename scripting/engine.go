package scripting

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sync/singleflight"

	"lasp/internal/database"
	"lasp/scope"
)

// Config configures an Engine.
type Config struct {
	// FS is the application root.
	FS fs.FS
	// Dir is the directory FS was opened from, for Server.MapPath; empty
	// when FS is not a directory on disk.
	Dir string
	// Dev recompiles changed pages, includes and modules on the next request.
	Dev bool
	// ScriptTimeout is the default Server.ScriptTimeout. Zero means 90s.
	ScriptTimeout time.Duration
	// MaxOutput bounds the bytes a page holds in its response buffer. Zero
	// means 4 MiB.
	MaxOutput int
	// MaxIdleStates bounds the Lua states kept for reuse. Zero means
	// 4 × GOMAXPROCS, at least 64 (pages waiting on a store hold theirs).
	// States are made on demand beyond it.
	MaxIdleStates int
	// Logger receives engine events. Nil means slog.Default().
	Logger *slog.Logger
	// Components are the Go components pages can create, besides the
	// Builtins. A progid given twice is an error.
	Components []Component
	// Databases are the databases Lasp.Database:Open knows by name
	// (-database NAME=URL): NAME → sqlite:PATH or postgres://… URL.
	Databases map[string]string
	// MemoryLimit is the memory, in bytes, the process may use while
	// scripts run. Zero means no watch. Past it, the run that grew memory
	// is stopped with a runtime error naming the limit, and MemoryShort
	// reports true until memory falls again.
	MemoryLimit int64
}

// Engine compiles and runs the pages of one application. It is safe for
// concurrent use.
type Engine struct {
	cfg       Config
	databases *database.Pools // Lasp.Database's connections

	mu      sync.Mutex
	pages   map[string]*Page
	modules map[string]*lua.FunctionProto
	modSt   map[string][]stamp
	flight  singleflight.Group

	libs []stamp // -dev: the lib/ files as last seen

	components map[string]*Component

	poolMu  sync.Mutex
	idle    []*state
	gen     atomic.Uint64
	created atomic.Int64
	inUse   atomic.Int64
	dropped atomic.Int64 // states closed: damaged, stale or over MaxIdleStates

	aptMu      sync.Mutex
	apartments map[*Apartment]struct{} // live apartments (Apartments)

	memory *memoryWatch // nil without a memory limit

	sharedOnce sync.Once
	shared     *libraries // what every state shares (libraries), made on first use
}

// New returns an Engine for cfg. It panics on a progid registered twice; use
// CheckComponents first to get that as an error.
func New(cfg Config) *Engine {
	if cfg.ScriptTimeout == 0 {
		cfg.ScriptTimeout = 90 * time.Second
	}
	if cfg.MaxOutput == 0 {
		cfg.MaxOutput = 4 << 20
	}
	if cfg.MaxIdleStates == 0 {
		cfg.MaxIdleStates = max(64, 4*runtime.GOMAXPROCS(0))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dbs, err := database.NewPools(cfg.Dir, cfg.Databases)
	if err != nil {
		panic(fmt.Errorf("scripting: %w", err))
	}
	comps, err := components(cfg.Components, dbs)
	if err != nil {
		panic(err)
	}
	configureLua() // before any compile: the compiler reads the settings too
	e := &Engine{
		databases:  dbs,
		components: comps,
		cfg:        cfg,
		pages:      map[string]*Page{},
		modules:    map[string]*lua.FunctionProto{},
		modSt:      map[string][]stamp{},
		apartments: map[*Apartment]struct{}{},
	}
	if cfg.MemoryLimit > 0 {
		e.memory = newMemoryWatch(cfg.MemoryLimit)
	}
	return e
}

// Page returns the compiled page name (slash-separated, relative to the
// root), compiling it on first use, and again after a change in -dev mode.
// Concurrent requests for a page being compiled share one compile. A missing
// page is an error that wraps fs.ErrNotExist; a page that does not compile is
// an *Error of kind Compile.
func (e *Engine) Page(name string) (*Page, error) {
	e.mu.Lock()
	p := e.pages[name]
	e.mu.Unlock()
	if p != nil && (!e.cfg.Dev || fresh(e.cfg.FS, p.files)) {
		return p, nil
	}
	v, err, _ := e.flight.Do("page:"+name, func() (any, error) {
		p, err := compilePage(e.cfg.FS, name)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		e.pages[name] = p
		e.mu.Unlock()
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Page), nil
}

// module returns the compiled proto of a lib/ module file.
func (e *Engine) module(name string) (*lua.FunctionProto, error) {
	e.mu.Lock()
	proto, files := e.modules[name], e.modSt[name]
	e.mu.Unlock()
	if proto != nil && (!e.cfg.Dev || fresh(e.cfg.FS, files)) {
		return proto, nil
	}
	v, err, _ := e.flight.Do("module:"+name, func() (any, error) {
		st, err := statStamp(e.cfg.FS, name)
		if err != nil {
			return nil, err
		}
		src, err := fs.ReadFile(e.cfg.FS, name)
		if err != nil {
			return nil, err
		}
		proto, err := compileLua(name, string(src), nil)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		e.modules[name], e.modSt[name] = proto, []stamp{st}
		e.mu.Unlock()
		return proto, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*lua.FunctionProto), nil
}

// Stats describes the engine's pool of Lua states (apartments' states
// are not in it).
type Stats struct {
	Created int64 `json:"made"`   // states made since the engine started
	InUse   int64 `json:"in_use"` // states running a page now
	Idle    int   `json:"idle"`   // states waiting for reuse
	// Dropped counts the states thrown away after a run: damaged by a
	// failed run, left over from before a change under lib/ (-dev), or
	// over Config.MaxIdleStates.
	Dropped int64 `json:"thrown_away"`
	// MemoryStops counts the runs the memory watch stopped.
	MemoryStops int64 `json:"memory_stops"`
}

// Stats reports the state pool's counters. It is cheap and safe to call
// from any goroutine.
func (e *Engine) Stats() Stats {
	e.poolMu.Lock()
	idle := len(e.idle)
	e.poolMu.Unlock()
	st := Stats{Created: e.created.Load(), InUse: e.inUse.Load(), Idle: idle, Dropped: e.dropped.Load()}
	if e.memory != nil {
		st.MemoryStops = e.memory.stops.Load()
	}
	return st
}

// get takes an idle state or makes one: a request never waits for a state.
func (e *Engine) get() *state {
	e.inUse.Add(1)
	e.poolMu.Lock()
	for n := len(e.idle); n > 0; n-- {
		s := e.idle[n-1]
		e.idle = e.idle[:n-1]
		if s.gen == e.gen.Load() {
			e.poolMu.Unlock()
			return s
		}
		e.dropped.Add(1)
		s.close()
	}
	e.poolMu.Unlock()
	e.created.Add(1)
	s := newState(e)
	s.gen = e.gen.Load()
	return s
}

// put returns a state after a run. A state that may be damaged is closed.
func (e *Engine) put(s *state, reusable bool) {
	e.inUse.Add(-1)
	s.run = nil
	if reusable {
		e.poolMu.Lock()
		if len(e.idle) < e.cfg.MaxIdleStates && s.gen == e.gen.Load() {
			e.idle = append(e.idle, s)
			s = nil
		}
		e.poolMu.Unlock()
	}
	if s != nil {
		e.dropped.Add(1)
		s.close()
	}
}

// Close releases the idle states and ends the memory watch.
func (e *Engine) Close() {
	if e.memory != nil {
		e.memory.close()
	}
	if err := e.databases.Close(); err != nil {
		e.cfg.Logger.Error("closing the databases", "err", err.Error())
	}
	e.poolMu.Lock()
	idle := e.idle
	e.idle = nil
	e.gen.Add(1)
	e.poolMu.Unlock()
	for _, s := range idle {
		s.close()
	}
}

// Run runs page p for one request, writing the body to w and the head to
// env.Response. A page that ends with Response.End, Redirect or
// Server.Transfer is not an error. Failures are *Error; a failure after
// output was flushed leaves the response incomplete.
func (e *Engine) Run(ctx context.Context, w io.Writer, p *Page, env *Env) error {
	if e.cfg.Dev {
		e.checkLibs()
	}
	s := e.get()
	r := newRun(ctx, e, s, w, p, env)
	s.run = r
	err := r.exec()
	r.release()
	e.put(s, err == nil)
	return err
}

// checkLibs retires every Lua state when a file under lib/ changed, so that
// no state keeps a module that holds an old version of another (-dev only).
func (e *Engine) checkLibs() {
	var now []stamp
	fs.WalkDir(e.cfg.FS, "lib", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			now = append(now, stamp{name, fi.ModTime(), fi.Size()})
		}
		return nil
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Equal(now, e.libs) {
		e.libs = now
		e.gen.Add(1)
	}
}

// Reload forgets every compiled page and module, so that the next request
// compiles them again from the files as they are then, and retires the
// idle Lua states (their modules are loaded). Runs in progress finish as
// they began. It is what a restart of the application does (SIGHUP).
func (e *Engine) Reload() {
	e.mu.Lock()
	clear(e.pages)
	clear(e.modules)
	clear(e.modSt)
	e.libs = nil
	e.mu.Unlock()
	e.gen.Add(1)
}

// CheckComponents reports a component list New would refuse.
func CheckComponents(list []Component) error {
	_, err := components(list, nil)
	return err
}

// CheckDatabases reports named databases (Config.Databases) New would
// refuse.
func CheckDatabases(names map[string]string) error {
	_, err := database.NewPools("", names)
	return err
}

func components(list []Component, dbs *database.Pools) (map[string]*Component, error) {
	m := map[string]*Component{}
	for _, c := range append(builtins(dbs), list...) {
		if !progIDPattern.MatchString(c.ProgID) || c.New == nil {
			return nil, fmt.Errorf("scripting: component %q: a progid is two or more dotted names and New is required", c.ProgID)
		}
		if c.Threading != scope.Agile && c.Threading != scope.Apartment {
			return nil, fmt.Errorf("scripting: component %q: Threading must be scope.Agile or scope.Apartment", c.ProgID)
		}
		if _, dup := m[c.ProgID]; dup {
			return nil, fmt.Errorf("scripting: component %q is registered twice", c.ProgID)
		}
		m[c.ProgID] = &c
	}
	return m, nil
}
