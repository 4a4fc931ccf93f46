package framework

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"lasp/scope"
	"lasp/scripting"
)

// sessionCookie names the session cookie (docs/sessions.md).
const sessionCookie = "LASPSESSIONID"

// A sessionStore keeps sessions between requests (docs/sessions.md): in this process
// (memoryStore), in the cookie (cookieStore) or in Redis. A request loads
// its session, works on a copy of its data, and saves the copy when the
// page succeeds: a page that fails changes nothing.
type sessionStore interface {
	// load finds the session the request's cookie names; nil when there is
	// none (no cookie, a forged or expired one). With lock, it first waits
	// for the session's lock, in arrival order, through Server.lockWait;
	// owner stands for the request.
	load(ctx context.Context, r *http.Request, owner any, lock bool) (*record, error)
	// create starts a session, locked by owner when lock, and sets its
	// cookie if the store's cookie names an ID. It cannot fail: a store
	// that needs a round trip makes it when the session is first saved.
	create(w http.ResponseWriter, r *http.Request, g *global, owner any, lock bool) *record
	// check reports whether data (and kept objects' states) can be saved:
	// it runs after every write.
	check(data, objects *scope.Contents) error
	// save stores the page's changes: data (nil when unchanged) and
	// rec.timeout. With abandon the session ends instead: nothing finds it
	// any more, and its Session_OnEnd is the caller's to run.
	save(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *record, data *scope.Contents, abandon bool) error
	// leave ends the request's use of rec: its lock, if owner holds it, is
	// released and its idle time starts.
	leave(rec *record, owner any)
	// ended runs after the Session_OnEnd of a session that ended.
	ended(ctx context.Context, rec *record)
	// close ends every session the store can end (at shutdown).
	close(ctx context.Context)
	// name names the store in messages.
	name() string
}

// A record is one session as a request found it.
type record struct {
	id      string
	data    *scope.Contents // as last saved; nil is empty. Never changed in place.
	timeout float64         // Session.Timeout, minutes
	isNew   bool
	resave  bool // save it even unchanged, to slide its expiry
	// objects hold the state of its kept Session objects (a shared store),
	// by id; changed says the page changed them.
	objects *scope.Contents
	changed bool
	live    *session // the session's objects, where the store keeps them in this process
	state   any      // the store's own
}

// session is what a session keeps in this process: its objects and their
// apartment, and for the memory store everything else.
type session struct {
	id string
	g  *global // the global.lasa it started under

	objOnce sync.Once
	statics *scope.Statics
	aptOnce sync.Once
	apt     *scripting.Apartment
}

// objects are the session's declared Session objects, created on first
// reference.
func (s *Server) objects(ss *session) *scope.Statics {
	ss.objOnce.Do(func() {
		factories := map[string]scope.Factory{}
		for id, progid := range ss.g.sessionObjects {
			factories[id] = func(ctx context.Context) (scope.Object, error) {
				return s.engine.NewObject(ctx, progid, func() *scripting.Apartment {
					ss.aptOnce.Do(func() { ss.apt = s.engine.NewApartment("Session "+ss.id, *s.eventEnv(ss.g, "")) })
					return ss.apt
				})
			}
		}
		ss.statics = scope.NewStatics(factories)
	})
	return ss.statics
}

// lockWait runs wait, a wait for a session's lock, bounded by the script
// timeout: a request still waiting then gives up with errSessionBusy (503).
func (s *Server) lockWait(ctx context.Context, wait func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, s.cfg.ScriptTimeout, errSessionBusy)
	defer cancel()
	err := wait(ctx)
	if err != nil && errors.Is(context.Cause(ctx), errSessionBusy) {
		return errSessionBusy
	}
	return err
}

// newID returns a fresh session ID: 128 bits from crypto/rand.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// view is a request's Session: the record it loaded, and the page's
// changes, kept apart until the page succeeds. A view without a record
// makes one on first need (a write, Session.SessionID), so that pages
// that never use Session cost no session.
type view struct {
	s        *Server
	store    sessionStore
	g        *global
	w        http.ResponseWriter
	r        *http.Request
	rw       *response
	rec      *record
	work     *scope.Contents // the page's copy of the data, made by its first write
	readOnly bool
	locked   bool // the request holds the session's lock
	dirty    bool // Session.Timeout changed, or the session is new
	ended    bool // saved as abandoned: Session_OnEnd is due
	abandon  bool
	apt      *scripting.Apartment // hosts kept Session objects for this request
}

var _ scripting.Session = (*view)(nil)

func (v *view) Name() string { return "Session" }

// get is the record, made now if the request came without a session.
func (v *view) get() *record {
	if v.rec == nil {
		v.rec = v.store.create(v.w, v.r, v.g, v, !v.readOnly)
		v.locked, v.dirty = !v.readOnly, true
	}
	return v.rec
}

// data is what the page reads: its own copy once it wrote, else the
// record's.
func (v *view) data() *scope.Contents {
	if v.work != nil {
		return v.work
	}
	if v.rec == nil || v.rec.data == nil {
		return emptySession
	}
	return v.rec.data
}

// emptySession is the data of a session that holds nothing; never changed.
var emptySession = scope.NewContents("Session")

// change applies f to the page's copy of the data.
func (v *view) change(f func(c *scope.Contents) error) error {
	if v.rw != nil && v.rw.committed {
		if v.rec == nil {
			return errors.New("Session cannot start once the response has been flushed")
		}
		if _, ok := v.store.(*cookieStore); ok {
			return errors.New("Session cannot change once the response has been flushed: the cookie store sends it in the response's headers")
		}
	}
	v.get()
	if v.work == nil {
		v.work = v.data().Clone()
	}
	return f(v.work)
}

func (v *view) Get(key string) (scope.Value, bool, error) {
	val, ok := v.data().Get(key)
	return val, ok, nil
}
func (v *view) Keys() ([]string, error) { return v.data().Keys(), nil }
func (v *view) Len() (int, error)       { return v.data().Len(), nil }

// Set stores val, and lets the store check that the data can still be
// saved, so that the page's error names the line that went too far.
func (v *view) Set(key string, val scope.Value) error {
	return v.change(func(c *scope.Contents) error {
		if err := c.Set(key, val); err != nil {
			return err
		}
		return v.store.check(c, v.rec.objects)
	})
}

func (v *view) Remove(key string) error {
	if _, ok := v.data().Get(key); !ok {
		return nil
	}
	return v.change(func(c *scope.Contents) error { c.Remove(key); return nil })
}

func (v *view) RemoveAll() error {
	if v.data().Len() == 0 {
		return nil
	}
	return v.change(func(c *scope.Contents) error { c.RemoveAll(); return nil })
}

func (v *view) ID() string       { return v.get().id }
func (v *view) Timeout() float64 { return v.get().timeout }

func (v *view) SetTimeout(minutes float64) {
	v.get().timeout = minutes
	v.dirty = true
}

func (v *view) Abandon() {
	if v.rec != nil {
		v.abandon = true
	}
}

// commit saves the page's changes; it runs when the page succeeded, before
// the rest of its output goes out.
func (v *view) commit() error {
	if v.rec == nil || (!v.locked && !v.rec.isNew) {
		return nil // nothing to save, or ReadOnly
	}
	if v.work == nil && !v.dirty && !v.abandon && !v.rec.resave && !v.rec.changed {
		return nil
	}
	if err := v.store.save(v.r.Context(), v.w, v.r, v.rec, v.work, v.abandon); err != nil {
		return err
	}
	if v.work != nil {
		v.rec.data = v.work
	}
	v.ended = v.abandon
	return nil
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
	if v.rec == nil {
		return
	}
	v.store.leave(v.rec, v)
	if v.ended {
		v.s.endSession(ctx, v.rec)
	}
}

// LoadObject is the saved state of kept Session object id.
func (v *view) LoadObject(id string) (scope.Value, bool) {
	if v.rec == nil || v.rec.objects == nil {
		return nil, false
	}
	return v.rec.objects.Get(id)
}

// SaveObject keeps the state of kept Session object id, to be saved with
// the session. A ReadOnly page may use the object but not change it.
func (v *view) SaveObject(id string, state scope.Value) error {
	if old, ok := v.LoadObject(id); ok && scope.Equal(old, state) {
		return nil
	}
	if v.readOnly {
		return fmt.Errorf("Session object %s changed on a ReadOnly page (EnableSessionState=ReadOnly): its change is not saved", id)
	}
	rec := v.get()
	objects := scope.NewContents("Session objects")
	if rec.objects != nil {
		objects = rec.objects.Clone()
	}
	if err := objects.Set(id, state); err != nil {
		return err
	}
	rec.objects, rec.changed = objects, true
	return v.store.check(v.data(), rec.objects)
}

// encodeSession is how the shared stores keep a session: its data, then,
// when it has kept objects, their states.
func encodeSession(data, objects *scope.Contents) ([]byte, error) {
	if data == nil {
		data = emptySession
	}
	d, err := data.MarshalBinary()
	if err != nil || objects == nil || objects.Len() == 0 {
		return d, err
	}
	o, err := objects.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := append([]byte{sessionWithObjects}, binary.AppendUvarint(nil, uint64(len(d)))...)
	return append(append(b, d...), o...), nil
}

// sessionWithObjects starts an encoded session that has kept objects; an
// encoding of data alone starts with the data's version (1).
const sessionWithObjects = 0xFE

// decodeSession reads what encodeSession wrote; objects is nil when there
// are none.
func decodeSession(b []byte) (data, objects *scope.Contents, err error) {
	data = scope.NewContents("Session")
	if len(b) == 0 {
		return data, nil, nil
	}
	if b[0] != sessionWithObjects {
		return data, nil, data.UnmarshalBinary(b)
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > uint64(len(b)-1-k) {
		return nil, nil, errors.New("the saved session is cut short")
	}
	d, o := b[1+k:1+k+int(n)], b[1+k+int(n):]
	if err := data.UnmarshalBinary(d); err != nil {
		return nil, nil, err
	}
	objects = scope.NewContents("Session objects")
	if err := objects.UnmarshalBinary(o); err != nil {
		return nil, nil, err
	}
	return data, objects, nil
}

// endSession runs Session_OnEnd for a session that ended, then ends its
// objects and apartment. The store calls it once per session.
func (s *Server) endSession(ctx context.Context, rec *record) {
	g := s.g.Load()
	if rec.live != nil {
		g = rec.live.g
	}
	if g.page != nil {
		env := s.eventEnv(g, "")
		v := &view{s: s, store: endedStore{}, g: g, rec: rec, locked: true}
		env.Session, env.Declared = v, s.declaredIn(g, v)
		s.keepObjects(g, v, env)
		env.EndKept = env.KeptObjects != nil
		if err := s.engine.RunEvent(ctx, g.page, "Session_OnEnd", env); err != nil {
			s.log.Error("Session_OnEnd failed", "session", rec.id[:8], "err", err.Error())
		}
	}
	defer s.sessions.ended(ctx, rec)
	if ss := rec.live; ss != nil {
		if ss.statics != nil {
			if err := ss.statics.Close(ctx); err != nil {
				s.log.Error("terminating Session objects", "err", err.Error())
			}
		}
		if ss.apt != nil {
			if err := ss.apt.Close(ctx); err != nil {
				s.log.Error("closing a session's apartment", "err", err.Error())
			}
		}
	}
}

// endedStore is the store of a session in its Session_OnEnd: it may still
// change its data, which goes nowhere.
type endedStore struct{ sessionStore }

func (endedStore) check(_, _ *scope.Contents) error { return nil }

// declaredIn finds global.lasa's Application objects, then the Session
// objects of v's session (v may be nil: a page without a session).
func (s *Server) declaredIn(g *global, v *view) func(context.Context, string) (scope.Object, bool, error) {
	app := s.declared(g)
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
		live := v.get().live
		if live == nil {
			return nil, false, fmt.Errorf("this session store cannot keep Session object %q", id)
		}
		o, err := s.objects(live).Get(ctx, id)
		return o, err == nil, err
	}
}

// sessionFor opens the session of a page: it loads it (waiting for its
// lock on a True page), starts one when global.lasa's Session_OnStart
// needs it, and fills env. The caller must call the view's finish.
func (s *Server) sessionFor(rw *response, r *http.Request, g *global, id string, readOnly bool, env *scripting.Env) (*view, error) {
	v := &view{s: s, store: s.sessions, g: g, w: rw.w, r: r, rw: rw, readOnly: readOnly}
	rec, err := s.sessions.load(r.Context(), r, v, !readOnly)
	if err != nil {
		return nil, err
	}
	v.rec, v.locked = rec, rec != nil && !readOnly
	env.Session, env.Declared, env.SessionReadOnly = v, s.declaredIn(g, v), readOnly
	env.Commit = v.commit
	s.keepObjects(g, v, env)
	if rec != nil || !g.eagerSessions {
		return v, nil
	}
	// A new session with a Session_OnStart: it runs before the page, may
	// write to Session even on a ReadOnly page, and its headers and cookies
	// go out with the page; text it writes is dropped.
	v.readOnly = false
	v.get()
	start := s.eventEnv(g, id)
	start.Session, start.Declared = v, env.Declared
	s.keepObjects(g, v, start)
	start.Request, start.Response = env.Request, rw // the page's: one body, read once
	if err := s.engine.RunEvent(r.Context(), g.page, "Session_OnStart", start); err != nil {
		v.finish(context.WithoutCancel(r.Context()))
		return nil, err
	}
	v.readOnly = readOnly
	if readOnly {
		// Saved now: the page itself cannot write.
		if err := v.commit(); err != nil {
			v.finish(context.WithoutCancel(r.Context()))
			return nil, err
		}
		v.work, v.dirty = nil, false
	}
	return v, nil
}

var errStoreDown = errors.New("the session store is unavailable")

// keepObjects gives env the Session objects a shared store keeps as their
// state: with such a store, every declared Session object (a Lua component,
// as loadGlobal checks).
func (s *Server) keepObjects(g *global, v *view, env *scripting.Env) {
	if s.inProcess() || len(g.sessionObjects) == 0 {
		return
	}
	env.KeptObjects, env.LoadObject, env.SaveObject = g.sessionObjects, v.LoadObject, v.SaveObject
	if v.r != nil { // a request, not Session_OnEnd
		env.KeptApartment = func() *scripting.Apartment {
			if v.apt == nil {
				v.apt = s.engine.NewApartment("Session "+v.get().id, *s.eventEnv(g, ""))
			}
			return v.apt
		}
	}
}

// inProcess reports whether sessions live in this process (the memory
// store), with their objects; the other stores keep them elsewhere as
// plain data, and sessions outlive the process.
func (s *Server) inProcess() bool {
	_, ok := s.sessions.(*memoryStore)
	return ok
}
