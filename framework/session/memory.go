package session

import (
	"container/heap"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lasp/scope"
)

// memoryStore keeps sessions in this process (-session-store memory): their
// data, what the host keeps of them (Record.Live) and their locks. A
// session ends after Timeout minutes without a request, on Abandon, or at
// shutdown, the host's End running once.
//
// Expiry is a heap of deadlines served by one timer (memory_expiry.go). A
// request does not touch the heap: it notes when it left, and a session
// whose deadline comes while it was in use goes back into the heap with
// its real deadline. So the work is proportional to the sessions that
// expire, not to all of them.
type memoryStore struct {
	host    Host
	cookies *idCookies
	timeout float64 // minutes, of a new session
	wait    time.Duration
	now     func() time.Time

	mu       sync.Mutex
	byID     map[string]*memSession
	byCookie map[string]*memSession // by the cookie value issued
	queue    deadlines
	timer    *time.Timer
	// unseen are the sessions made since Shed last ran, oldest first; some
	// were seen again or ended since (see Shed).
	unseen []*memSession
}

// memSession is a session of the memory store.
type memSession struct {
	live any        // Record.Live
	lock scope.Lock // held by the EnableSessionState=True page running in it
	// lockedAt is when lock was last taken, Unix nanoseconds (Status).
	lockedAt atomic.Int64

	// Under memoryStore.mu:
	broken   *atomic.Bool    // the lock holder's: set by Break
	id       string          // changed by RenewID
	cookie   string          // the cookie value issued for it
	data     *scope.Contents // as last saved; nil is empty
	timeout  float64         // minutes
	active   int             // requests in it now
	seen     bool            // a request came back with its cookie
	left     time.Time       // when the last request left
	deadline time.Time       // its place in the heap; the real one may be later
	index    int             // in the heap; -1 once ended
}

func newMemoryStore(h Host, o Options) *memoryStore {
	return &memoryStore{host: h, cookies: newIDCookies(o.Keys, o.Logger), timeout: o.Timeout.Minutes(), wait: o.LockWait,
		now: time.Now, byID: map[string]*memSession{}, byCookie: map[string]*memSession{}}
}

func (m *memoryStore) Load(ctx context.Context, r *http.Request, owner any, lock bool) (*Record, error) {
	c, err := r.Cookie(CookieName)
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
	ss.seen = true
	m.mu.Unlock()
	if lock && !ss.lock.TryLock(owner) { // held: wait for it, bounded
		if err := lockWait(ctx, m.wait, func(ctx context.Context) error { return ss.lock.Lock(ctx, owner) }); err != nil {
			m.Leave(&Record{state: ss}, owner)
			return nil, err
		}
	}
	if lock {
		ss.lockedAt.Store(m.now().UnixNano())
	}
	m.mu.Lock()
	rec := &Record{ID: ss.id, Data: ss.data, Timeout: ss.timeout, Live: ss.live, state: ss}
	if lock {
		ss.broken = new(atomic.Bool)
		rec.broken = ss.broken
	}
	ended := ss.index < 0 || ss.cookie != c.Value
	m.mu.Unlock()
	if ended {
		// Abandoned, or given a new ID (RenewID), by the request that held
		// the lock before this one.
		m.Leave(rec, owner)
		return nil, nil
	}
	return rec, nil
}

func (m *memoryStore) Create(w http.ResponseWriter, r *http.Request, owner any, lock bool, live any) *Record {
	ss := &memSession{id: newID(), live: live, timeout: m.timeout, active: 1}
	if lock {
		ss.lock.TryLock(owner) // new: nobody else has it
	}
	ss.cookie = m.cookies.issue(w, r, ss.id)
	m.mu.Lock()
	m.byID[ss.id] = ss
	if ss.cookie != "" {
		m.byCookie[ss.cookie] = ss
	}
	ss.left = m.now()
	rec := &Record{ID: ss.id, Timeout: ss.timeout, IsNew: true, Live: live, state: ss}
	if lock {
		ss.lockedAt.Store(ss.left.UnixNano())
		ss.broken = new(atomic.Bool)
		rec.broken = ss.broken
	}
	m.push(ss)
	if len(m.unseen) > 2*len(m.byID)+1024 {
		m.unseen = slices.DeleteFunc(m.unseen, func(ss *memSession) bool { return ss.seen || ss.index < 0 })
	}
	m.unseen = append(m.unseen, ss)
	m.mu.Unlock()
	return rec
}

func (m *memoryStore) Shed(before time.Time) int {
	var ended []*memSession
	m.mu.Lock()
	m.unseen = slices.DeleteFunc(m.unseen, func(ss *memSession) bool {
		switch {
		case ss.seen || ss.index < 0:
			return true
		case ss.active == 0 && ss.left.Before(before):
			m.remove(ss)
			ended = append(ended, ss)
			return true
		}
		return false
	})
	m.mu.Unlock()
	for _, ss := range ended {
		m.host.End(context.Background(), ss.record())
	}
	return len(ended)
}

func (m *memoryStore) Check(_, _ *scope.Contents) error { return nil }

func (m *memoryStore) Save(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *Record, data *scope.Contents, abandon bool) error {
	ss := rec.state.(*memSession)
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec.lockBroken() {
		return ErrLockBroken
	}
	if data != nil {
		ss.data = data
	}
	ss.timeout = rec.Timeout
	switch {
	case abandon:
		m.remove(ss)
	case rec.NewID != "":
		delete(m.byID, ss.id)
		delete(m.byCookie, ss.cookie)
		ss.id, ss.cookie = rec.NewID, m.cookies.issue(w, r, rec.NewID)
		m.byID[ss.id] = ss
		if ss.cookie != "" {
			m.byCookie[ss.cookie] = ss
		}
	}
	return nil
}

func (m *memoryStore) Leave(rec *Record, owner any) {
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

func (m *memoryStore) End(ctx context.Context, rec *Record) { m.host.End(ctx, rec) }

// Break releases the held lock of the session whose ID starts with prefix.
func (m *memoryStore) Break(_ context.Context, prefix string) (string, error) {
	m.mu.Lock()
	var found *memSession
	for id, ss := range m.byID {
		if owner, _ := ss.lock.Status(); owner != nil && len(prefix) >= 8 && strings.HasPrefix(id, prefix) {
			if found != nil {
				m.mu.Unlock()
				return "", fmt.Errorf("several held locks match %q", prefix)
			}
			found = ss
		}
	}
	if found == nil {
		m.mu.Unlock()
		return "", fmt.Errorf("no session lock held on this server matches %q", prefix)
	}
	id := found.id
	if found.broken != nil {
		found.broken.Store(true)
	}
	m.mu.Unlock()
	found.lock.Break()
	return id, nil
}

// Close ends every session, at shutdown.
func (m *memoryStore) Close(ctx context.Context) {
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
		m.host.End(ctx, ss.record())
	}
}

// record is ss as its host's End sees it.
func (ss *memSession) record() *Record {
	return &Record{ID: ss.id, Data: ss.data, Timeout: ss.timeout, Live: ss.live}
}

// Len is the number of live sessions.
func (m *memoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}

func (*memoryStore) Name() string { return "memory" }
