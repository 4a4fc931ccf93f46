package framework

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"lasp/scope"
)

// maxCookie is the most a browser keeps of one cookie: name, '=' and value.
const maxCookie = 4096

// cookieStore keeps all of a session in its cookie (-session-store cookie),
// signed and encrypted by gorilla/sessions' CookieStore: any server with
// the same keys serves any request. It holds plain data only, up to what
// fits in a cookie; the idle timeout travels in the cookie too. A session
// ends only on Abandon (nothing on the server knows that a cookie is no
// longer used), and True pages are serialized per server only.
type cookieStore struct {
	s     *Server
	store *sessions.CookieStore
	now   func() time.Time
	locks lockTable
}

func newCookieStore(s *Server, keys [][]byte) *cookieStore {
	cs := sessions.NewCookieStore(keys...)
	// gorilla's defaults (SameSite=None, 30 days, no HttpOnly) are not
	// docs/sessions.md's; Secure is set per request.
	cs.Options = &sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
	for _, c := range cs.Codecs {
		// The store checks the size itself, to name it in the error; the
		// idle timeout is in the cookie.
		c.(*securecookie.SecureCookie).MaxLength(0).MaxAge(0)
	}
	return &cookieStore{s: s, store: cs, now: time.Now, locks: lockTable{m: map[string]*tableLock{}}}
}

// The session's values in the cookie.
const (
	cookieID      = "id" // string
	cookieData    = "d"  // []byte: scope.Contents.MarshalBinary
	cookieUsed    = "t"  // int64: Unix seconds when the cookie was issued
	cookieTimeout = "to" // float64: Session.Timeout, minutes
)

func (c *cookieStore) load(ctx context.Context, r *http.Request, owner any, lock bool) (*record, error) {
	gs, err := c.store.New(r, sessionCookie)
	if err != nil || gs.IsNew {
		return nil, nil
	}
	id, _ := gs.Values[cookieID].(string)
	raw, _ := gs.Values[cookieData].([]byte)
	used, _ := gs.Values[cookieUsed].(int64)
	timeout, _ := gs.Values[cookieTimeout].(float64)
	issued := time.Unix(used, 0)
	if id == "" || timeout <= 0 || c.now().After(issued.Add(minutes(timeout))) {
		return nil, nil // expired, or not ours
	}
	data, objects, err := decodeSession(raw)
	if err != nil {
		return nil, nil
	}
	if lock {
		if err := c.s.lockWait(ctx, func(ctx context.Context) error { return c.locks.lock(ctx, id, owner) }); err != nil {
			return nil, err
		}
	}
	// Unchanged sessions are issued again now and then, to slide their
	// expiry: after a tenth of their timeout.
	resave := c.now().After(issued.Add(minutes(timeout) / 10))
	return &record{id: id, data: data, objects: objects, timeout: timeout, resave: resave}, nil
}

func (c *cookieStore) create(w http.ResponseWriter, r *http.Request, g *global, owner any, lock bool) *record {
	rec := &record{id: newID(), timeout: c.s.cfg.SessionTimeout.Minutes(), isNew: true}
	if lock {
		c.locks.lock(context.Background(), rec.id, owner) // new: nobody else has it
	}
	return rec
}

// check fails when data no longer fits in a cookie.
func (c *cookieStore) check(data, objects *scope.Contents) error {
	_, err := c.encode(&record{id: strings.Repeat("0", 32), timeout: 1e9, objects: objects}, data)
	return err
}

// encode is the cookie value for rec holding data.
func (c *cookieStore) encode(rec *record, data *scope.Contents) (string, error) {
	raw, err := encodeSession(data, rec.objects)
	if err != nil {
		return "", err
	}
	values := map[any]any{cookieID: rec.id, cookieData: raw, cookieUsed: c.now().Unix(), cookieTimeout: rec.timeout}
	value, err := securecookie.EncodeMulti(sessionCookie, values, c.store.Codecs...)
	if err != nil {
		return "", err
	}
	if n := len(sessionCookie) + 1 + len(value); n > maxCookie {
		return "", fmt.Errorf("Session is %d bytes in its cookie, over the cookie store's limit of %d bytes", n, maxCookie)
	}
	return value, nil
}

func (c *cookieStore) save(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *record, data *scope.Contents, abandon bool) error {
	if abandon {
		setSessionCookie(w, r, "", -1)
		return nil
	}
	if data == nil {
		data = rec.data
	}
	if data == nil {
		data = emptySession
	}
	value, err := c.encode(rec, data)
	if err != nil {
		return err
	}
	setSessionCookie(w, r, value, 0)
	return nil
}

func (c *cookieStore) leave(rec *record, owner any) { c.locks.unlock(rec.id, owner) }

func (c *cookieStore) ended(context.Context, *record) {}

func (c *cookieStore) close(context.Context) {}

// lockTable holds the locks of the sessions in use in this process, by
// ID; a lock goes away when nobody holds or waits for it.
type lockTable struct {
	mu sync.Mutex
	m  map[string]*tableLock
}

type tableLock struct {
	scope.Lock
	users int
}

// lock waits for id's lock, in arrival order, as long as ctx allows.
func (t *lockTable) lock(ctx context.Context, id string, owner any) error {
	t.mu.Lock()
	l := t.m[id]
	if l == nil {
		l = &tableLock{}
		t.m[id] = l
	}
	l.users++
	t.mu.Unlock()
	err := l.Lock.Lock(ctx, owner)
	if err != nil {
		t.done(id, l)
	}
	return err
}

// unlock releases id's lock if owner holds it.
func (t *lockTable) unlock(id string, owner any) {
	t.mu.Lock()
	l := t.m[id]
	t.mu.Unlock()
	if l != nil && l.Lock.Unlock(owner) == nil {
		t.done(id, l)
	}
}

func (t *lockTable) done(id string, l *tableLock) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l.users--; l.users == 0 {
		delete(t.m, id)
	}
}

func (*cookieStore) name() string { return "cookie" }
