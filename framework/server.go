package framework

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/securecookie"
	"golang.org/x/sync/semaphore"

	"lasp/framework/session"
	"lasp/internal/redisstore"
	"lasp/scope"
	"lasp/scripting"
)

// Server is a Lasp application as an http.Handler.
type Server struct {
	cfg     Config
	fsys    fs.FS
	root    *os.Root     // the directory New opened as fsys (Config.Dir); nil: Config.Root
	metrics *promMetrics // Prometheus's (MetricsHandler)
	// crossOrigin refuses cross-origin unsafe requests; nil when allowed.
	crossOrigin *http.CrossOriginProtection
	log         *slog.Logger
	engine      *scripting.Engine

	// gzip compresses responses (compress.go); nil: Config.NoCompression.
	gzip func(http.Handler) http.HandlerFunc

	idPrefix string
	seq      atomic.Uint64

	// app and appLock are Application's contents and Application:Lock()
	// in this process; appContents the same as pages see them.
	app         *scope.Contents
	appContents scripting.Contents
	appLock     scope.Lock
	farmApp     *redisstore.Store // Application in Redis, when the farm shares it
	downMu      sync.Mutex
	downLog     map[string]time.Time  // when each Redis store was last logged as down
	downLast    map[string]storeError // each Redis store's last error (Snapshot)

	// etags keeps the content-hash ETags of static files without a
	// modification time.
	etags etagCache

	// routes caches URL paths that resolved to pages. Without -dev a page is
	// compiled once and kept, so the file system need not be asked again.
	routes sync.Map // string → target

	// g is the loaded global.lasa; globalErr the error that stopped it from
	// loading, shown on every page in -dev.
	g         atomic.Pointer[global]
	globalErr error
	started   atomic.Bool // Application_OnStart has run
	startMu   sync.Mutex
	sessions  session.Store

	// bodyMemory is Config.MaxBodyMemory, shared by the bodies of the
	// requests in flight (admitBody).
	bodyMemory *semaphore.Weighted

	mu       sync.Mutex
	closing  bool
	inflight sync.WaitGroup
	inFlight atomic.Int64 // the requests inflight counts (Snapshot)
	lastShed atomic.Int64 // when shed last ran, Unix nanoseconds
	shedded  atomic.Int64 // sessions shed so far
}

// New validates cfg and returns a Server ready to serve.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var root *os.Root
	if cfg.Root == nil {
		dir, err := filepath.Abs(cmp.Or(cfg.Dir, "."))
		if err != nil {
			return nil, fmt.Errorf("framework: application directory: %w", err)
		}
		if root, err = os.OpenRoot(dir); err != nil {
			return nil, fmt.Errorf("framework: application directory: %w", err)
		}
		cfg.Root, cfg.Dir = root.FS(), dir
	}
	made := false
	defer func() {
		if !made && root != nil {
			root.Close()
		}
	}()
	if cfg.ScriptTimeout == 0 {
		cfg.ScriptTimeout = 90 * time.Second
	}
	if len(cfg.Keys) == 0 {
		cfg.Keys = [][]byte{securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32)}
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 20 * time.Minute
	}
	if cfg.MaxRequestBody == 0 {
		cfg.MaxRequestBody = defaultMaxRequestBody
	}
	if cfg.MaxBodyMemory == 0 {
		cfg.MaxBodyMemory = twice(twice(cfg.MaxRequestBody))
	}
	if cfg.MaxResponseBuffer == 0 {
		cfg.MaxResponseBuffer = 4 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = DefaultMemoryLimit()
	}
	var id [4]byte
	rand.Read(id[:])
	s := &Server{
		cfg:         cfg,
		fsys:        cfg.Root,
		root:        root,
		crossOrigin: crossOrigin(cfg),
		log:         cfg.Logger,
		idPrefix:    hex.EncodeToString(id[:]),
		bodyMemory:  semaphore.NewWeighted(cfg.MaxBodyMemory),
		app:         scope.NewContents("Application"),
		engine: scripting.New(scripting.Config{
			FS:            cfg.Root,
			Dir:           cfg.Dir,
			Dev:           cfg.Dev,
			ScriptTimeout: cfg.ScriptTimeout,
			MaxOutput:     cfg.MaxResponseBuffer,
			Logger:        cfg.Logger,
			Components:    cfg.Components,
			Databases:     cfg.Databases,
			MemoryLimit:   max(cfg.MemoryLimit, 0),
		}),
	}
	s.appContents = scripting.Local(s.app)
	s.metrics = newMetrics(s)
	var err error
	if !cfg.NoCompression {
		if s.gzip, err = newCompressor(); err != nil {
			return nil, fmt.Errorf("framework: %w", err)
		}
	}
	if s.sessions, err = s.openSessions(); err != nil {
		return nil, fmt.Errorf("framework: %w", err)
	}
	if isRedisURL(cfg.ApplicationStore) {
		if s.farmApp, err = redisstore.Open(cfg.ApplicationStore); err != nil {
			s.sessions.Close(context.Background())
			return nil, fmt.Errorf("framework: %w", err)
		}
	}
	g, err := s.loadGlobal()
	if err != nil {
		if !cfg.Dev {
			s.sessions.Close(context.Background())
			return nil, err
		}
		g, s.globalErr = &global{statics: scope.NewStatics(nil)}, err
		s.log.Error("global.lasa does not load", "err", err.Error())
	}
	s.g.Store(g)
	made = true
	return s, nil
}

// ServeHTTP serves one request: a static file, a page, or an error page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		s.fail(w, r, "", &response{w: w}, errShuttingDown)
		return
	}
	defer s.leave()
	r = s.fromProxy(r)
	id := s.requestID()
	rw := &response{w: w}
	rw.meter.ResponseWriter, rw.w = w, &rw.meter
	defer s.finish(r, id, rw, time.Now()) // also when a failure aborts the response
	s.compress(rw, r, id)                 // inside the meter: it counts wire bytes
}

// handle serves one request once ServeHTTP has set up rw.
func (s *Server) handle(rw *response, r *http.Request, id string) {
	if s.crossOrigin != nil {
		if err := s.crossOrigin.Check(r); err != nil {
			s.log.Warn("cross-origin request refused", "request_id", id, "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
			http.Error(rw.w, "403 Forbidden: cross-origin request", http.StatusForbidden)
			return
		}
	}
	if err := s.serve(rw, r, id); err != nil {
		s.fail(rw.w, r, id, rw, err)
	}
}

// crossOrigin is the cross-origin protection of cfg: its own, the default,
// or none.
func crossOrigin(cfg Config) *http.CrossOriginProtection {
	switch {
	case cfg.AllowCrossOrigin:
		return nil
	case cfg.CrossOrigin != nil:
		return cfg.CrossOrigin
	}
	return http.NewCrossOriginProtection()
}

// enter counts a request in, unless the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.inflight.Add(1)
	s.inFlight.Add(1)
	return true
}

// leave counts a request out.
func (s *Server) leave() {
	s.inFlight.Add(-1)
	s.inflight.Done()
}

// requestID names a request in logs and error pages: a random prefix per
// server and a sequence number.
func (s *Server) requestID() string {
	b := make([]byte, 0, 32)
	b = append(b, s.idPrefix...)
	b = append(b, '-')
	return string(strconv.AppendUint(b, s.seq.Add(1), 10))
}

// route resolves a URL path, from the cache for pages when not in -dev.
func (s *Server) route(urlPath string) (target, error) {
	if v, ok := s.routes.Load(urlPath); ok {
		return v.(target), nil
	}
	t, err := lookup(s.fsys, urlPath)
	if err == nil && t.page && !s.cfg.Dev {
		s.routes.Store(urlPath, t)
	}
	return t, err
}

func (s *Server) serve(rw *response, r *http.Request, id string) error {
	t, err := s.route(r.URL.Path)
	if err != nil {
		return err
	}
	if t.redirect != "" {
		to := localRedirect(r, t.redirect)
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		// Not http.Redirect: it would resolve a relative URL against
		// r.URL.Path, which has lost a mount's prefix.
		rw.w.Header().Set("Location", to)
		rw.w.WriteHeader(http.StatusMovedPermanently)
		return nil
	}
	if !t.page {
		return serveStatic(rw.w, r, s.fsys, &s.etags, t.name)
	}
	if fold(t.name) == foldedNotFound {
		// 404.lasp asked for by its URL answers as a missing page does.
		return errNotFound
	}
	if s.engine.MemoryShort() {
		s.shed()
		return errMemoryShort
	}
	query, err := parseQuery(r)
	if err != nil {
		return err
	}
	release, err := s.admitBody(r)
	if err != nil {
		return err
	}
	defer release()
	req := s.newRequest(rw.client(), r, query)
	defer s.closeRequest(req, id)
	g, err := s.start(r.Context(), id)
	if err != nil {
		return err
	}
	p, err := s.engine.Page(t.name)
	if err != nil {
		return err
	}
	o := envOptions{ctx: r.Context(), id: id, g: g, page: true, req: req, rw: rw}
	mode := p.Directives.EnableSessionState
	if mode == "False" {
		o.noSession = "the page has EnableSessionState=False"
		return s.engine.Run(r.Context(), rw, p, s.newEnv(o))
	}
	o.readOnly = mode == "ReadOnly"
	if o.v, err = s.sessionFor(rw, r, g, id, o.readOnly, req); err != nil {
		return err
	}
	defer o.v.finish(r.Context())
	return s.engine.Run(r.Context(), rw, p, s.newEnv(o))
}

// closeRequest removes the temporary files of req's multipart form.
func (s *Server) closeRequest(req *request, id string) {
	if err := req.close(); err != nil {
		s.log.Error("removing an upload's temporary files", "request_id", id, "err", err.Error())
	}
}

// Close ends the application gracefully: new requests are refused with 503,
// in-flight requests finish (or ctx ends), then the application ends.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("framework: close: %w", ctx.Err())
	}
	s.sessions.Close(ctx)
	s.end(ctx)
	if s.farmApp != nil {
		s.farmApp.Close()
	}
	st := s.engine.Stats()
	s.engine.Close()
	if s.root != nil {
		s.root.Close()
	}
	s.log.Info("application ended", "lua_states_created", st.Created)
	return nil
}

var (
	errShuttingDown = errors.New("the server is shutting down")
	errSessionBusy  = session.ErrBusy
	errMemoryShort  = errors.New("memory is short: the server is near its memory limit")
	errNoSession    = errors.New("a Session object needs a session, and this page has EnableSessionState=False")
)

// shedAfter is how long a session that no client came back to is kept
// while memory is short (shed).
var shedAfter = 10 * time.Second

// shed ends, at most once a second while memory is short, the sessions of
// this process that no request came back to within shedAfter: a flood of
// clients that never send their cookie back then holds memory for
// shedAfter, not for a whole Session.Timeout, and every other client is
// served again once it is freed. Session_OnEnd runs for each.
func (s *Server) shed() {
	st, ok := s.sessions.(session.InProcess)
	now := time.Now()
	last := s.lastShed.Load()
	if !ok || now.UnixNano()-last < int64(time.Second) || !s.lastShed.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go func() {
		if n := st.Shed(now.Add(-shedAfter)); n > 0 {
			s.shedded.Add(int64(n))
			s.log.Warn("memory is short: ended the sessions no client came back to", "sessions", n, "unseen_for", shedAfter.String())
		}
	}()
}
