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
}

// redisState is what a request (or the sweep) holds of its session in
// Redis.
type redisState struct {
	lock      *redisstore.Record // the lock taken, nil without
	release   func()             // stops renewing the lease
	committed bool               // the commit released the lock
	claim     string             // the claim on an ended session, for Done after its Session_OnEnd
	undone    bool               // Done got no answer: the sweep asks again
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
		timeout: o.Timeout.Minutes(), wait: o.LockWait, stop: make(chan struct{}), undone: map[string]string{}, held: map[string]*redisstore.Record{}}
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
	var err error
	if lock {
		// Queued here first, in arrival order: only the first request of a
		// session on this server waits in Redis.
		err = lockWait(ctx, m.wait, func(ctx context.Context) error {
			if err := m.locks.lock(ctx, id, owner); err != nil {
				return err
			}
			got, err = m.st.Lock(ctx, id)
			if got == nil {
				m.locks.unlock(id, owner)
			}
			return err
		})
	} else {
		got, err = m.st.Read(ctx, id)
	}
	if err != nil {
		if errors.Is(err, ErrBusy) || ctx.Err() != nil {
			return nil, err // busy, or the request went away
		}
		return nil, m.host.Down(err)
	}
	if got == nil {
		return nil, nil
	}
	state := &redisState{}
	rec := &Record{ID: id, Timeout: got.Timeout.Minutes(), state: state}
	if lock {
		state.lock = got
		state.release = m.st.Hold(m.st.SessionKey(id), got)
		rec.broken = m.locks.brokenFlag(id)
		m.mu.Lock()
		m.held[id] = got
		m.mu.Unlock()
	}
	if rec.Data, rec.Objects, err = decode(got.Data); err != nil {
		m.Leave(rec, owner)
		return nil, fmt.Errorf("session %s in Redis: %w", id[:8], err)
	}
	return rec, nil
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
	default:
		err = m.st.Commit(ctx, rec.ID, state.lock, raw, timeout, abandon, rec.NewID)
		state.committed = err == nil
		if state.committed && rec.NewID != "" && !abandon {
			m.cookies.issue(w, r, rec.NewID)
		}
		if state.committed && abandon {
			state.claim = state.lock.Token // the commit claimed its Session_OnEnd
		}
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
	if !state.committed {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := m.st.Release(ctx, rec.ID, state.lock); err != nil {
			m.host.Down(err) // the lease ends it anyway
		}
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
	m.st.Close()
}

func (*redisStore) Name() string { return "Redis" }
