package framework

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/securecookie"

	"lasp/scope"
	"lasp/scripting"
)

// sessionCookie names the session cookie (SPEC 6).
const sessionCookie = "LASPSESSIONID"

// A session lives in this process: its contents, its declared objects and
// its own apartment. Sessions expire, and their cookies are signed, with the
// sessions work (issue 4); until then a session ends on Abandon and at
// shutdown.
type session struct {
	*scope.Contents
	id     string
	cookie string        // the cookie value issued for it
	lock   chan struct{} // held by the EnableSessionState=True page running in it

	mu        sync.Mutex
	timeout   float64
	abandoned bool

	g       *global // the global.lasa the session started under
	expiry  *time.Timer
	active  atomic.Int32 // requests running in the session now
	statics *scope.Statics
	apt     *scripting.Apartment
	aptOnce sync.Once
}

var _ scripting.Session = (*session)(nil)

func (ss *session) ID() string { return ss.id }

func (ss *session) Timeout() float64 {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.timeout
}

func (ss *session) SetTimeout(minutes float64) {
	ss.mu.Lock()
	ss.timeout = minutes
	ss.mu.Unlock()
	ss.slide()
}

// slide restarts the session's idle timeout.
func (ss *session) slide() {
	if ss.expiry != nil {
		ss.expiry.Reset(time.Duration(ss.Timeout() * float64(time.Minute)))
	}
}

// enter and leave count the requests running in the session: it does not
// expire under one, and its idle time starts when the last one ends.
func (ss *session) enter() { ss.active.Add(1) }
func (ss *session) leave() {
	ss.active.Add(-1)
	ss.slide()
}

func (ss *session) Abandon() {
	ss.mu.Lock()
	ss.abandoned = true
	ss.mu.Unlock()
}

func (ss *session) isAbandoned() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.abandoned
}

// newSession makes a session with a fresh 128-bit random ID.
func (s *Server) newSession(g *global) *session {
	var b [16]byte
	rand.Read(b[:])
	ss := &session{
		Contents: scope.NewContents("Session"),
		id:       hex.EncodeToString(b[:]),
		lock:     make(chan struct{}, 1),
		timeout:  s.cfg.SessionTimeout.Minutes(),
		g:        g,
	}
	factories := map[string]scope.Factory{}
	for id, progid := range g.sessionObjects {
		factories[id] = func(ctx context.Context) (scope.Object, error) {
			return s.engine.NewObject(ctx, progid, func() *scripting.Apartment {
				ss.aptOnce.Do(func() { ss.apt = s.engine.NewApartment("Session "+ss.id, *s.eventEnv(g, "")) })
				return ss.apt
			})
		}
	}
	ss.statics = scope.NewStatics(factories)
	ss.expiry = time.AfterFunc(time.Duration(ss.timeout*float64(time.Minute)), func() { s.expire(ss) })
	return ss
}

// expire ends a session whose timeout passed, unless a request is in it.
func (s *Server) expire(ss *session) {
	if ss.active.Load() > 0 {
		ss.slide()
		return
	}
	s.endSession(context.Background(), ss)
}

// findSession is the session the request's cookie names, or nil.
// A missing, forged, tampered or undecodable cookie is no session.
func (s *Server) findSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s.sessMu.Lock()
	ss := s.byCookie[c.Value] // a cookie this server issued: no need to decode it
	s.sessMu.Unlock()
	if ss != nil {
		return ss
	}
	var id string
	if err := securecookie.DecodeMulti(sessionCookie, c.Value, &id, s.codecs...); err != nil {
		return nil
	}
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	return s.sessions[id]
}

// createSession starts a session and sets its cookie.
func (s *Server) createSession(g *global, w http.ResponseWriter, r *http.Request) *session {
	ss := s.newSession(g)
	value, err := securecookie.EncodeMulti(sessionCookie, ss.id, s.codecs...)
	s.sessMu.Lock()
	s.sessions[ss.id] = ss
	if err == nil {
		ss.cookie = value
		s.byCookie[value] = ss
	}
	s.sessMu.Unlock()
	if err != nil {
		s.log.Error("encoding the session cookie", "err", err.Error())
		return ss
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return ss
}

// lazySession is the Session of a request that came without one, when
// global.lasa has no Session_OnStart: the session (and its cookie) is made
// only when the page first writes to Session or asks its ID, so that
// requests that never use it cost no session.
type lazySession struct {
	create func() *session
	ss     *session
}

var _ scripting.Session = (*lazySession)(nil)

func (l *lazySession) get() *session {
	if l.ss == nil {
		l.ss = l.create()
		l.ss.enter()
	}
	return l.ss
}

func (l *lazySession) Name() string { return "Session" }

func (l *lazySession) Get(key string) (scope.Value, bool) {
	if l.ss == nil {
		return nil, false
	}
	return l.ss.Get(key)
}

func (l *lazySession) Set(key string, v scope.Value) error { return l.get().Set(key, v) }

func (l *lazySession) Remove(key string) {
	if l.ss != nil {
		l.ss.Remove(key)
	}
}

func (l *lazySession) RemoveAll() {
	if l.ss != nil {
		l.ss.RemoveAll()
	}
}

func (l *lazySession) Keys() []string {
	if l.ss == nil {
		return nil
	}
	return l.ss.Keys()
}

func (l *lazySession) Len() int {
	if l.ss == nil {
		return 0
	}
	return l.ss.Len()
}

func (l *lazySession) ID() string                 { return l.get().ID() }
func (l *lazySession) Timeout() float64           { return l.get().Timeout() }
func (l *lazySession) SetTimeout(minutes float64) { l.get().SetTimeout(minutes) }
func (l *lazySession) Abandon() {
	if l.ss != nil {
		l.ss.Abandon()
	}
}

// acquire waits for the session's lock: requests of one session run one at
// a time. The wait holds no Lua state and is bounded by the script timeout.
func (ss *session) acquire(ctx context.Context, limit time.Duration) error {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case ss.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errSessionBusy
	}
}

func (ss *session) release() { <-ss.lock }

// endSession runs Session_OnEnd, then ends the session's objects and
// apartment. It runs once per session: the session leaves the table first.
func (s *Server) endSession(ctx context.Context, ss *session) {
	s.sessMu.Lock()
	_, live := s.sessions[ss.id]
	delete(s.sessions, ss.id)
	delete(s.byCookie, ss.cookie)
	s.sessMu.Unlock()
	if !live {
		return
	}
	ss.expiry.Stop()
	if ss.g.page != nil {
		env := s.eventEnv(ss.g, "")
		env.Session = ss
		env.Declared = s.declaredIn(ss.g, func() *session { return ss })
		if err := s.engine.RunEvent(ctx, ss.g.page, "Session_OnEnd", env); err != nil {
			s.log.Error("Session_OnEnd failed", "session", ss.id[:8], "err", err.Error())
		}
	}
	if err := ss.statics.Close(ctx); err != nil {
		s.log.Error("terminating Session objects", "err", err.Error())
	}
	if ss.apt != nil {
		if err := ss.apt.Close(ctx); err != nil {
			s.log.Error("closing a session's apartment", "err", err.Error())
		}
	}
}

// endSessions ends every live session (at shutdown).
func (s *Server) endSessions(ctx context.Context) {
	s.sessMu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.sessMu.Unlock()
	for _, ss := range all {
		s.endSession(ctx, ss)
	}
}

// declaredIn finds global.lasa's Application objects, then ss's Session
// objects (ss may be nil: a page without a session).
func (s *Server) declaredIn(g *global, sess func() *session) func(context.Context, string) (scope.Object, bool, error) {
	app := s.declared(g)
	return func(ctx context.Context, id string) (scope.Object, bool, error) {
		if o, ok, err := app(ctx, id); ok || err != nil {
			return o, ok, err
		}
		if _, ok := g.sessionObjects[id]; !ok {
			return nil, false, nil
		}
		if sess == nil {
			return nil, false, errNoSession
		}
		o, err := sess().statics.Get(ctx, id)
		return o, err == nil, err
	}
}
