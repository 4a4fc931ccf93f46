package framework

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"

	"lasp/scope"
	"lasp/scope/redisstore"
)

// redisStore keeps sessions in Redis (-session-store redis://…), shared by
// a farm: any server serves any request, True pages of one session run one
// at a time across the farm (a fenced lease lock, see scope/redisstore),
// sessions outlive server restarts, and Session_OnEnd runs once in the farm,
// on whichever server sweeps first.
type redisStore struct {
	s  *Server
	st *redisstore.Store

	locks lockTable // requests of one session on this server queue here first
	stop  chan struct{}
	swept sync.WaitGroup
	mu    sync.Mutex
	known map[string]string // cookie → session ID, for cookies that decoded
	// undone are the sessions whose Session_OnEnd ran but whose Done got no
	// answer, by ID, with their claims: the sweep asks again.
	undone map[string]string
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

func newRedisStore(s *Server, url string) (*redisStore, error) {
	st, err := redisstore.Open(url)
	if err != nil {
		return nil, err
	}
	if s.cfg.ScriptTimeout*2 > st.ClaimFor {
		st.ClaimFor = s.cfg.ScriptTimeout * 2 // Session_OnEnd may take a whole script timeout
	}
	m := &redisStore{s: s, st: st, stop: make(chan struct{}), known: map[string]string{}, undone: map[string]string{},
		locks: lockTable{m: map[string]*tableLock{}}}
	m.swept.Add(1)
	go m.sweep()
	return m, nil
}

// down wraps a Redis error as errStoreDown, and logs it.
func (m *redisStore) down(err error) error { return m.s.storeDown("session", err) }

// id is the session ID the request's cookie carries, if it decodes.
// Cookies that decoded before are remembered (any server of the farm may
// have issued them), up to maxKnownCookies.
func (m *redisStore) id(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	m.mu.Lock()
	id, ok := m.known[c.Value]
	m.mu.Unlock()
	if ok {
		return id
	}
	if securecookie.DecodeMulti(sessionCookie, c.Value, &id, m.s.codecs...) != nil {
		return ""
	}
	m.mu.Lock()
	if len(m.known) >= maxKnownCookies {
		clear(m.known)
	}
	m.known[c.Value] = id
	m.mu.Unlock()
	return id
}

// maxKnownCookies bounds the cookies remembered as decoded (~250 bytes each).
const maxKnownCookies = 100_000

func (m *redisStore) load(ctx context.Context, r *http.Request, owner any, lock bool) (*record, error) {
	id := m.id(r)
	if id == "" {
		return nil, nil
	}
	var got *redisstore.Record
	var err error
	if lock {
		// Queued here first, in arrival order: only the first request of a
		// session on this server waits in Redis.
		err = m.s.lockWait(ctx, func(ctx context.Context) error {
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
		if errors.Is(err, errSessionBusy) || ctx.Err() != nil {
			return nil, err // busy, or the request went away
		}
		return nil, m.down(err)
	}
	if got == nil {
		return nil, nil
	}
	state := &redisState{}
	if lock {
		state.lock = got
		state.release = m.st.Hold(m.st.SessionKey(id), got)
	}
	rec := &record{id: id, timeout: got.Timeout.Minutes(), state: state}
	if rec.data, rec.objects, err = decodeSession(got.Data); err != nil {
		m.leave(rec, owner)
		return nil, fmt.Errorf("session %s in Redis: %w", id[:8], err)
	}
	return rec, nil
}

func (m *redisStore) create(w http.ResponseWriter, r *http.Request, g *global, owner any, lock bool) *record {
	rec := &record{id: newID(), timeout: m.s.cfg.SessionTimeout.Minutes(), isNew: true, state: &redisState{}}
	m.s.issueCookie(w, r, rec.id)
	return rec
}

// check refuses what Redis cannot keep: objects.
func (m *redisStore) check(data, _ *scope.Contents) error {
	_, err := data.MarshalBinary()
	return err
}

func (m *redisStore) save(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *record, data *scope.Contents, abandon bool) error {
	state := rec.state.(*redisState)
	var raw []byte
	if data != nil || rec.isNew || rec.changed {
		if data == nil {
			data = rec.data
		}
		var err error
		if raw, err = encodeSession(data, rec.objects); err != nil {
			return err
		}
	}
	timeout := minutes(rec.timeout)
	var err error
	switch {
	case rec.isNew && abandon:
		return nil // never stored: nothing to end but the event
	case rec.isNew:
		err = m.st.Create(ctx, rec.id, raw, timeout)
	default:
		err = m.st.Commit(ctx, rec.id, state.lock, raw, timeout, abandon)
		state.committed = err == nil
		if state.committed && abandon {
			state.claim = state.lock.Token // the commit claimed its Session_OnEnd
		}
	}
	// The store knows the outcome (it asks again while a reply is lost):
	// refused answers 503, and unknown (Redis silent past the lease) 500,
	// for a 503 would say that nothing changed.
	switch {
	case errors.Is(err, redisstore.ErrLeaseLost):
		m.s.log.Error("a page held its session past the lock's lease; its changes were refused", "session", rec.id[:8])
		return fmt.Errorf("%w: %v", errSessionBusy, err)
	case errors.Is(err, redisstore.ErrUnknown):
		return fmt.Errorf("saving session %s: %w", rec.id[:8], err)
	case err != nil:
		return m.down(err)
	}
	return nil
}

func (m *redisStore) leave(rec *record, owner any) {
	state := rec.state.(*redisState)
	if state.lock == nil {
		return
	}
	defer m.locks.unlock(rec.id, owner)
	state.release()
	if !state.committed {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := m.st.Release(ctx, rec.id, state.lock); err != nil {
			m.down(err) // the lease ends it anyway
		}
	}
	state.lock = nil
}

// ended removes a session whose Session_OnEnd ran, so that no server
// claims it again: Done asks again while its reply is lost, up to the
// store's lease, and after that the sweep asks again until Redis answers.
// Only if no Done reaches Redis before the claim lapses (ClaimFor), and
// another server claims the session meanwhile, does its event run again.
func (m *redisStore) ended(ctx context.Context, rec *record) {
	if rec.isNew {
		return
	}
	state := rec.state.(*redisState)
	if !m.done(ctx, rec.id, state.claim) {
		state.undone = true
		m.mu.Lock()
		if len(m.undone) < maxUndone {
			m.undone[rec.id] = state.claim
		}
		m.mu.Unlock()
	}
}

// maxUndone bounds the sessions whose Done the sweep asks again.
const maxUndone = 10_000

// done removes a session whose Session_OnEnd ran under claim; it reports
// false when Redis did not answer.
func (m *redisStore) done(ctx context.Context, id, claim string) bool {
	switch err := m.st.Done(ctx, id, claim); {
	case errors.Is(err, redisstore.ErrClaimLapsed):
		m.s.log.Error("Session_OnEnd ran past its claim: another server claimed the session, and runs it again", "session", id[:8])
	case err != nil:
		m.down(err)
		return false
	}
	return true
}

// redo asks again for the Dones that got no answer; it reports false when
// Redis still does not answer.
func (m *redisStore) redo() bool {
	m.mu.Lock()
	undone := maps.Clone(m.undone)
	m.mu.Unlock()
	for id, claim := range undone {
		if !m.done(context.Background(), id, claim) {
			return false
		}
		m.mu.Lock()
		delete(m.undone, id)
		m.mu.Unlock()
	}
	return true
}

// close stops the sweep. Sessions stay in Redis: they outlive the server.
func (m *redisStore) close(ctx context.Context) {
	select {
	case <-m.stop:
		return
	default:
	}
	close(m.stop)
	m.swept.Wait()
	m.st.Close()
}

// sweepEvery is how often a server looks for sessions to end.
const sweepEvery = time.Second

// sweep runs Session_OnEnd for the sessions that expired, or whose ending
// another server claimed and did not finish, claiming them first so that
// each runs once in the farm.
func (m *redisStore) sweep() {
	defer m.swept.Done()
	for {
		select {
		case <-m.stop:
			return
		case <-time.After(sweepEvery/2 + rand.N(sweepEvery)):
		}
		if !m.redo() {
			continue
		}
		for m.endDue() {
		}
	}
}

// endDue claims up to 100 sessions whose Session_OnEnd is due and runs
// them; it reports whether there may be more. When Redis does not answer
// a Done, the rest of the claim is left to lapse (ClaimFor): those
// sessions end later, once, on whichever server claims them then.
func (m *redisStore) endDue() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ended, err := m.st.Claim(ctx, 100)
	cancel()
	if err != nil {
		m.down(err)
		return false
	}
	for _, e := range ended {
		state := &redisState{claim: e.Claim}
		rec := &record{id: e.ID, state: state}
		var err error
		if rec.data, rec.objects, err = decodeSession(e.Data); err != nil {
			m.s.log.Error("a session in Redis does not decode", "session", e.ID[:8], "err", err.Error())
			rec.data, rec.objects = nil, nil
		}
		m.s.endSession(context.Background(), rec)
		if state.undone {
			return false
		}
	}
	return len(ended) == 100
}

func (*redisStore) name() string { return "Redis" }
