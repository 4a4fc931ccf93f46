package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"lasp/internal/redisstore"
	"lasp/scope"
)

// redisStore keeps sessions in Redis (-session-store redis://…), shared by
// a farm: any server serves any request, True pages of one session run one
// at a time across the farm (a fenced lease lock, see internal/redisstore),
// sessions outlive server restarts, and Session_OnEnd runs once in the farm,
// on whichever server sweeps first (redis_sweep.go).
//
// A server keeps a session's lock between its requests, with the session as
// it committed it, while no other server asks for it: most requests of a
// session come to the server that served the last one (sticky balancers,
// bursts), and the next one then needs a single round trip, its commit. A
// server that wants the session queues in Redis, which tells the keeper;
// the keeper gives the lock back at once, or its request in progress
// releases it when it commits. Such a handover costs more than taking a
// free lock, so a session whose requests go from server to server (a
// round-robin balancer) is not kept: once a server is asked for a session
// it keeps, or had to wait for one, it keeps that session no more until
// contendedFor has passed without that happening again.
type redisStore struct {
	host    Host
	st      *redisstore.Store
	cookies *idCookies
	log     *slog.Logger
	timeout float64 // minutes, of a new session
	wait    time.Duration

	locks  lockTable // requests of one session on this server queue here first
	stop   chan struct{}
	swept  sync.WaitGroup
	sweeps atomic.Int64 // passes of sweep, for Status
	mu     sync.Mutex
	// undone are the sessions whose Session_OnEnd ran but whose Done got no
	// answer, by ID, with their claims: the sweep asks again.
	undone map[string]string
	// held are the Redis locks this server's requests hold, by session ID
	// (Break).
	held map[string]*redisstore.Record
	// kept are the locks this server keeps while none of its requests
	// holds them, by session ID.
	kept      map[string]*keptLock
	listening sync.Once // to OnWanted, from the first kept lock on
	// contended are the sessions that went from server to server lately,
	// by ID, with when this server last saw it.
	contended map[string]time.Time
}

// contendedFor is how long a session that went to another server and back
// is not kept.
const contendedFor = 30 * time.Second

// keptLock is a session's lock that the server keeps between requests,
// and the session as the last of them left it: nothing else can change it
// while the lock is the server's.
type keptLock struct {
	lock          *redisstore.Record
	data, objects *scope.Contents
	timeout       float64
}

// redisState is what a request (or the sweep) holds of its session in
// Redis.
type redisState struct {
	lock      *redisstore.Record // the lock taken, nil without
	release   func()             // stops renewing the lease
	committed bool               // the commit released the lock
	claim     string             // the claim on an ended session, for Done after its Session_OnEnd
	undone    bool               // Done got no answer: the sweep asks again
	saving    bool               // a commit was sent
	kept      bool               // the commit kept the lock
}

func newRedisStore(h Host, o Options, url string) (*redisStore, error) {
	st, err := redisstore.Open(url)
	if err != nil {
		return nil, err
	}
	if o.LockWait*2 > st.ClaimFor {
		st.ClaimFor = o.LockWait * 2 // Session_OnEnd may take a whole script timeout
	}
	m := &redisStore{host: h, st: st, cookies: newIDCookies(o.Keys, o.Logger), log: o.Logger,
		timeout: o.Timeout.Minutes(), wait: o.LockWait, stop: make(chan struct{}), undone: map[string]string{}, held: map[string]*redisstore.Record{}, kept: map[string]*keptLock{}, contended: map[string]time.Time{}}
	m.swept.Add(1)
	go m.sweep()
	return m, nil
}

// Client is the store's Redis client, for tests and status pages.
func (m *redisStore) Client() *redis.Client { return m.st.Client() }

func (m *redisStore) Load(ctx context.Context, r *http.Request, owner any, lock bool) (*Record, error) {
	id := m.cookies.id(r)
	if id == "" {
		return nil, nil
	}
	var got *redisstore.Record
	var kept *keptLock
	var err error
	if lock {
		// Queued here first, in arrival order: only the first request of a
		// session on this server waits in Redis. One that finds the lock
		// free here and kept by this server waits for nothing (and makes
		// no timer for a wait).
		free := m.locks.tryLock(id, owner)
		if free {
			kept = m.takeKept(ctx, id)
		}
		if kept == nil {
			err = lockWait(ctx, m.wait, func(ctx context.Context) error {
				if !free {
					if err := m.locks.lock(ctx, id, owner); err != nil {
						return err
					}
					if kept = m.takeKept(ctx, id); kept != nil {
						return nil
					}
				}
				got, err = m.st.Lock(ctx, id)
				if got == nil {
					m.locks.unlock(id, owner)
				}
				return err
			})
		}
	} else {
		got, err = m.st.Read(ctx, id)
	}
	if err != nil {
		if errors.Is(err, ErrBusy) || ctx.Err() != nil {
			return nil, err // busy, or the request went away
		}
		return nil, m.host.Down(err)
	}
	if kept != nil {
		state := &redisState{lock: kept.lock, release: m.st.Hold(m.st.SessionKey(id), kept.lock)}
		rec := &Record{ID: id, Timeout: kept.timeout, Data: kept.data, Objects: kept.objects, state: state}
		m.hold(rec, state)
		return rec, nil
	}
	if got == nil {
		return nil, nil
	}
	if got.Queued {
		m.contend(id)
	}
	state := &redisState{}
	rec := &Record{ID: id, Timeout: got.Timeout.Minutes(), state: state}
	if lock {
		state.lock = got
		state.release = m.st.Hold(m.st.SessionKey(id), got)
		m.hold(rec, state)
	}
	if rec.Data, rec.Objects, err = decode(got.Data); err != nil {
		m.Leave(rec, owner)
		return nil, fmt.Errorf("session %s in Redis: %w", id[:8], err)
	}
	return rec, nil
}

// hold records that a request of this server holds rec's lock.
func (m *redisStore) hold(rec *Record, state *redisState) {
	rec.broken = m.locks.brokenFlag(rec.ID)
	m.mu.Lock()
	m.held[rec.ID] = state.lock
	m.mu.Unlock()
}

// takeKept takes the lock of session id that the server keeps, if it
// keeps one that it still surely holds for long enough for a request to
// renew it (Hold renews it before half of what is left has passed); one
// nearer its end is renewed first, and left to lapse if that fails.
func (m *redisStore) takeKept(ctx context.Context, id string) *keptLock {
	m.mu.Lock()
	k := m.kept[id]
	delete(m.kept, id)
	m.mu.Unlock()
	if k == nil {
		return nil
	}
	if time.Until(k.lock.HeldUntil()) < m.st.Lease/4 {
		if ok, err := m.st.Renew(ctx, m.st.SessionKey(id), k.lock); !ok || err != nil {
			return nil
		}
	}
	return k
}

// keep keeps rec's lock, which Redis granted for a new lease, for the
// session's next request.
func (m *redisStore) keep(rec *Record, lock *redisstore.Record) {
	m.listening.Do(func() { m.st.OnWanted(m.wanted) })
	m.mu.Lock()
	m.kept[rec.ID] = &keptLock{lock: lock, data: rec.Data, objects: rec.Objects, timeout: rec.Timeout}
	m.mu.Unlock()
}

// wanted gives back the kept lock of session id, which another server
// asks for. A lock that a request holds now is released by its commit:
// Redis sees the other server queued. Either way the session is marked
// contended here; wants for sessions this server neither keeps nor holds
// (every server hears every want) are not noted.
func (m *redisStore) wanted(id string) {
	m.mu.Lock()
	k := m.kept[id]
	delete(m.kept, id)
	if k != nil || m.held[id] != nil {
		m.contended[id] = time.Now()
	}
	m.mu.Unlock()
	if k != nil {
		go m.giveBack(id, k.lock)
	}
}

// giveBack releases a lock that the server kept.
func (m *redisStore) giveBack(id string, lock *redisstore.Record) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := m.st.Release(ctx, id, lock); err != nil {
		m.host.Down(err) // the lease ends it anyway
	}
}

// contend notes that session id went from server to server.
func (m *redisStore) contend(id string) {
	m.mu.Lock()
	m.contended[id] = time.Now()
	m.mu.Unlock()
}

// keeps reports whether the server keeps the lock of session id after
// its request: unless it went from server to server lately.
func (m *redisStore) keeps(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.contended[id]
	return !ok || time.Since(at) > contendedFor
}

// dropLapsed forgets the kept locks whose lease has passed, and the
// sessions contended too long ago.
func (m *redisStore) dropLapsed() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, k := range m.kept {
		if time.Now().After(k.lock.HeldUntil()) {
			delete(m.kept, id)
		}
	}
	for id, at := range m.contended {
		if time.Since(at) > contendedFor {
			delete(m.contended, id)
		}
	}
}

func (m *redisStore) Create(w http.ResponseWriter, r *http.Request, owner any, lock bool, _ any) *Record {
	rec := &Record{ID: newID(), Timeout: m.timeout, IsNew: true, state: &redisState{}}
	m.cookies.issue(w, r, rec.ID)
	return rec
}

// Check refuses what Redis cannot keep: objects.
func (m *redisStore) Check(data, _ *scope.Contents) error {
	_, err := data.MarshalBinary()
	return err
}

func (m *redisStore) Save(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *Record, data *scope.Contents, abandon bool) error {
	state := rec.state.(*redisState)
	if rec.lockBroken() {
		return ErrLockBroken // and Redis would refuse it: the lock is no longer its
	}
	var raw []byte
	if data != nil || rec.IsNew || rec.Changed {
		if data == nil {
			data = rec.Data
		}
		var err error
		if raw, err = encode(data, rec.Objects); err != nil {
			return err
		}
	}
	timeout := minutes(rec.Timeout)
	var err error
	switch {
	case rec.IsNew && abandon:
		return nil // never stored: nothing to end but the event
	case rec.IsNew:
		err = m.st.Create(ctx, rec.ID, raw, timeout)
	case abandon || rec.NewID != "" || !m.keeps(rec.ID):
		state.saving = true
		err = m.st.Commit(ctx, rec.ID, state.lock, raw, timeout, abandon, rec.NewID)
		state.committed = err == nil
		if state.committed && rec.NewID != "" && !abandon {
			m.cookies.issue(w, r, rec.NewID)
		}
		if state.committed && abandon {
			state.claim = state.lock.Claim // the commit claimed its Session_OnEnd
		}
	default:
		state.saving = true
		state.kept, err = m.st.CommitKeep(ctx, rec.ID, state.lock, raw, timeout)
		state.committed = err == nil
	}
	// The store knows the outcome (it asks again while a reply is lost):
	// refused answers 503, and unknown (Redis silent past the lease) 500,
	// for a 503 would say that nothing changed.
	switch {
	case errors.Is(err, redisstore.ErrLeaseLost):
		m.log.Error("a page held its session past the lock's lease; its changes were refused", "session", rec.ID[:8])
		return fmt.Errorf("%w: %v", ErrBusy, err)
	case errors.Is(err, redisstore.ErrUnknown):
		return fmt.Errorf("saving session %s: %w", rec.ID[:8], err)
	case err != nil:
		return m.host.Down(err)
	}
	return nil
}

func (m *redisStore) Leave(rec *Record, owner any) {
	state := rec.state.(*redisState)
	if state.lock == nil {
		return
	}
	defer m.locks.unlock(rec.ID, owner)
	m.mu.Lock()
	if m.held[rec.ID] == state.lock {
		delete(m.held, rec.ID)
	}
	m.mu.Unlock()
	state.release()
	switch {
	case rec.lockBroken():
		// An operator released it.
	case state.kept:
		m.keep(rec, state.lock)
	case state.committed:
		// The commit released it.
	case !state.saving && m.keeps(rec.ID):
		// Nothing to save (or the page failed): the session is as the
		// lock found it, which keeps it if nobody waits, and slides its
		// deadline either way.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		kept, err := m.st.Keep(ctx, rec.ID, state.lock)
		if err != nil {
			m.host.Down(err) // the lease ends it anyway
		} else if kept {
			m.keep(rec, state.lock)
		}
	default:
		// The commit failed (whether it applied may be unknown, so what
		// the server has of the session may not be what Redis has), or
		// the session goes from server to server.
		m.giveBack(rec.ID, state.lock)
	}
	state.lock = nil
}

// Break releases the session's lock in Redis (the holder's commit is then
// refused: its token no longer holds it) and this server's queue for it.
func (m *redisStore) Break(ctx context.Context, prefix string) (string, error) {
	id, err := m.locks.breakLock(prefix)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	held := m.held[id]
	delete(m.held, id)
	m.mu.Unlock()
	if held != nil {
		if err := m.st.Release(ctx, id, held); err != nil {
			return id, m.host.Down(err)
		}
	}
	return id, nil
}

// End runs the host's End for a session this server claimed, then removes
// it from Redis (ended).
func (m *redisStore) End(ctx context.Context, rec *Record) {
	m.host.End(ctx, rec)
	m.ended(ctx, rec)
}

// Close stops the sweep. Sessions stay in Redis: they outlive the server.
func (m *redisStore) Close(ctx context.Context) {
	select {
	case <-m.stop:
		return
	default:
	}
	close(m.stop)
	m.swept.Wait()
	m.mu.Lock()
	kept := m.kept
	m.kept = map[string]*keptLock{}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for id, k := range kept {
		wg.Go(func() { m.giveBack(id, k.lock) }) // other servers need not wait for the leases
	}
	wg.Wait()
	m.st.Close()
}

func (*redisStore) Name() string { return "Redis" }
