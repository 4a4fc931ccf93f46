package framework

import (
	"container/heap"
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"

	"lasp/scope"
)

// memoryStore keeps sessions in this process (-session-store memory): their
// data, objects and locks. A session ends after Timeout minutes without a
// request, on Abandon, or at shutdown, running Session_OnEnd once.
//
// Expiry is a heap of deadlines served by one timer. A request does not
// touch the heap: it notes when it left, and a session whose deadline comes
// while it was in use goes back into the heap with its real deadline. So
// the work is proportional to the sessions that expire, not to all of them.
type memoryStore struct {
	s   *Server
	now func() time.Time

	mu       sync.Mutex
	byID     map[string]*memSession
	byCookie map[string]*memSession // by the cookie value issued
	queue    deadlines
	timer    *time.Timer
}

// memSession is a session of the memory store.
type memSession struct {
	session
	cookie string     // the cookie value issued for it
	lock   scope.Lock // held by the EnableSessionState=True page running in it

	// Under memoryStore.mu:
	data     *scope.Contents // as last saved; nil is empty
	timeout  float64         // minutes
	active   int             // requests in it now
	left     time.Time       // when the last request left
	deadline time.Time       // its place in the heap; the real one may be later
	index    int             // in the heap; -1 once ended
}

func newMemoryStore(s *Server) *memoryStore {
	return &memoryStore{s: s, now: time.Now,
		byID: map[string]*memSession{}, byCookie: map[string]*memSession{}}
}

func (m *memoryStore) load(ctx context.Context, r *http.Request, owner any, lock bool) (*record, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	// Only this process has its sessions, so only a cookie it issued can
	// name one: the cookie is looked up as it is, without decoding it.
	// Counted in before it can expire: a session in use never ends.
	m.mu.Lock()
	ss := m.byCookie[c.Value]
	if ss == nil {
		m.mu.Unlock()
		return nil, nil
	}
	ss.active++
	m.mu.Unlock()
	if lock && !ss.lock.TryLock(owner) { // held: wait for it, bounded
		if err := m.s.lockWait(ctx, func(ctx context.Context) error { return ss.lock.Lock(ctx, owner) }); err != nil {
			m.leave(&record{state: ss}, owner)
			return nil, err
		}
	}
	m.mu.Lock()
	rec := &record{id: ss.id, data: ss.data, timeout: ss.timeout, live: &ss.session, state: ss}
	ended := ss.index < 0
	m.mu.Unlock()
	if ended {
		// Abandoned by the request that held the lock before this one.
		m.leave(rec, owner)
		return nil, nil
	}
	return rec, nil
}

func (m *memoryStore) create(w http.ResponseWriter, r *http.Request, g *global, owner any, lock bool) *record {
	ss := &memSession{session: session{id: newID(), g: g}, timeout: m.s.cfg.SessionTimeout.Minutes(), active: 1}
	if lock {
		ss.lock.TryLock(owner) // new: nobody else has it
	}
	ss.cookie = m.s.issueCookie(w, r, ss.id)
	m.mu.Lock()
	m.byID[ss.id] = ss
	if ss.cookie != "" {
		m.byCookie[ss.cookie] = ss
	}
	ss.left = m.now()
	m.push(ss)
	m.mu.Unlock()
	return &record{id: ss.id, timeout: ss.timeout, isNew: true, live: &ss.session, state: ss}
}

func (m *memoryStore) check(_, _ *scope.Contents) error { return nil }

func (m *memoryStore) ended(context.Context, *record) {}

func (m *memoryStore) save(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *record, data *scope.Contents, abandon bool) error {
	ss := rec.state.(*memSession)
	m.mu.Lock()
	defer m.mu.Unlock()
	if data != nil {
		ss.data = data
	}
	ss.timeout = rec.timeout
	if abandon {
		m.remove(ss)
	}
	return nil
}

func (m *memoryStore) leave(rec *record, owner any) {
	ss := rec.state.(*memSession)
	ss.lock.ReleaseAll(owner)
	m.mu.Lock()
	defer m.mu.Unlock()
	ss.active--
	ss.left = m.now()
	if ss.index >= 0 {
		if d := ss.left.Add(minutes(ss.timeout)); d.Before(ss.deadline) {
			// Session.Timeout went down: the heap must know.
			ss.deadline = d
			heap.Fix(&m.queue, ss.index)
			m.schedule()
		}
	}
}

// close ends every session, at shutdown.
func (m *memoryStore) close(ctx context.Context) {
	m.mu.Lock()
	if m.timer != nil {
		m.timer.Stop()
	}
	all := make([]*memSession, 0, len(m.byID))
	for _, ss := range m.byID {
		all = append(all, ss)
		m.remove(ss)
	}
	m.mu.Unlock()
	for _, ss := range all {
		m.s.endSession(ctx, &record{id: ss.id, data: ss.data, timeout: ss.timeout, live: &ss.session})
	}
}

// remove takes ss out of the tables and the heap; m.mu is held.
func (m *memoryStore) remove(ss *memSession) {
	delete(m.byID, ss.id)
	delete(m.byCookie, ss.cookie)
	if ss.index >= 0 {
		heap.Remove(&m.queue, ss.index)
		ss.index = -1
	}
}

// push puts ss in the heap at its deadline; m.mu is held.
func (m *memoryStore) push(ss *memSession) {
	ss.deadline = ss.left.Add(minutes(ss.timeout))
	heap.Push(&m.queue, ss)
	m.schedule()
}

// schedule sets the timer for the earliest deadline; m.mu is held.
func (m *memoryStore) schedule() {
	if len(m.queue) == 0 {
		return
	}
	d := m.queue[0].deadline.Sub(m.now())
	if m.timer == nil {
		m.timer = time.AfterFunc(d, m.expire)
	} else {
		m.timer.Reset(d)
	}
}

// expire ends the sessions whose deadline passed. A session in use, or
// used since its deadline was set, goes back into the heap instead.
func (m *memoryStore) expire() {
	var ended []*memSession
	m.mu.Lock()
	now := m.now()
	for len(m.queue) > 0 && !m.queue[0].deadline.After(now) {
		ss := m.queue[0]
		real := ss.left.Add(minutes(ss.timeout))
		switch {
		case ss.active > 0:
			ss.deadline = now.Add(minutes(ss.timeout))
			heap.Fix(&m.queue, 0)
		case real.After(now):
			ss.deadline = real
			heap.Fix(&m.queue, 0)
		default:
			m.remove(ss)
			ended = append(ended, ss)
		}
	}
	m.schedule()
	m.mu.Unlock()
	for _, ss := range ended {
		m.s.endSession(context.Background(), &record{id: ss.id, data: ss.data, timeout: ss.timeout, live: &ss.session})
	}
}

// len is the number of live sessions.
func (m *memoryStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}

func minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

// deadlines is a heap of sessions by deadline (container/heap).
type deadlines []*memSession

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].deadline.Before(d[j].deadline) }
func (d deadlines) Swap(i, j int) {
	d[i], d[j] = d[j], d[i]
	d[i].index, d[j].index = i, j
}
func (d *deadlines) Push(x any) {
	ss := x.(*memSession)
	ss.index = len(*d)
	*d = append(*d, ss)
}
func (d *deadlines) Pop() any {
	old := *d
	ss := old[len(old)-1]
	old[len(old)-1] = nil
	*d = old[:len(old)-1]
	return ss
}

// issueCookie sets the cookie of a new session that id names, signed and
// encrypted, and returns its value ("" if it could not be made: the
// session then lasts one request).
func (s *Server) issueCookie(w http.ResponseWriter, r *http.Request, id string) string {
	value, err := securecookie.EncodeMulti(sessionCookie, id, s.codecs...)
	if err != nil {
		s.log.Error("encoding the session cookie", "err", err.Error())
		return ""
	}
	setSessionCookie(w, r, value, 0)
	return value
}

// setSessionCookie sets the session cookie (docs/sessions.md); maxAge < 0 deletes it.
func setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func (*memoryStore) name() string { return "memory" }
