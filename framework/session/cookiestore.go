package session

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
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
	host    Host
	store   *sessions.CookieStore
	timeout float64 // minutes, of a new session
	wait    time.Duration
	now     func() time.Time
	locks   lockTable
}

func newCookieStore(h Host, o Options) *cookieStore {
	cs := sessions.NewCookieStore(o.Keys...)
	// gorilla's defaults (SameSite=None, 30 days, no HttpOnly) are not
	// docs/sessions.md's; Secure is set per request.
	cs.Options = &sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
	for _, c := range cs.Codecs {
		// The store checks the size itself, to name it in the error; the
		// idle timeout is in the cookie.
		c.(*securecookie.SecureCookie).MaxLength(0).MaxAge(0)
	}
	return &cookieStore{host: h, store: cs, timeout: o.Timeout.Minutes(), wait: o.LockWait, now: time.Now}
}

// The session's values in the cookie.
const (
	cookieID      = "id" // string
	cookieData    = "d"  // []byte: encode
	cookieUsed    = "t"  // int64: Unix seconds when the cookie was issued
	cookieTimeout = "to" // float64: Session.Timeout, minutes
)

func (c *cookieStore) Load(ctx context.Context, r *http.Request, owner any, lock bool) (*Record, error) {
	gs, err := c.store.New(r, CookieName)
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
	data, objects, err := decode(raw)
	if err != nil {
		return nil, nil
	}
	var broken *atomic.Bool
	if lock {
		if !c.locks.tryLock(id, owner) {
			if err := lockWait(ctx, c.wait, func(ctx context.Context) error { return c.locks.lock(ctx, id, owner) }); err != nil {
				return nil, err
			}
		}
		broken = c.locks.brokenFlag(id)
	}
	// Unchanged sessions are issued again now and then, to slide their
	// expiry: after a tenth of their timeout.
	resave := c.now().After(issued.Add(minutes(timeout) / 10))
	return &Record{ID: id, Data: data, Objects: objects, Timeout: timeout, Resave: resave, broken: broken}, nil
}

func (c *cookieStore) Create(w http.ResponseWriter, r *http.Request, owner any, lock bool, _ any) *Record {
	rec := &Record{ID: newID(), Timeout: c.timeout, IsNew: true}
	if lock {
		c.locks.lock(context.Background(), rec.ID, owner) // new: nobody else has it
		rec.broken = c.locks.brokenFlag(rec.ID)
	}
	return rec
}

// Check fails when data no longer fits in a cookie.
func (c *cookieStore) Check(data, objects *scope.Contents) error {
	_, err := c.encode(&Record{ID: strings.Repeat("0", 32), Timeout: 1e9, Objects: objects}, data)
	return err
}

// encode is the cookie value for rec holding data.
func (c *cookieStore) encode(rec *Record, data *scope.Contents) (string, error) {
	raw, err := encode(data, rec.Objects)
	if err != nil {
		return "", err
	}
	values := map[any]any{cookieID: rec.ID, cookieData: raw, cookieUsed: c.now().Unix(), cookieTimeout: rec.Timeout}
	value, err := securecookie.EncodeMulti(CookieName, values, c.store.Codecs...)
	if err != nil {
		return "", err
	}
	if n := len(CookieName) + 1 + len(value); n > maxCookie {
		return "", fmt.Errorf("Session is %d bytes in its cookie, over the cookie store's limit of %d bytes", n, maxCookie)
	}
	return value, nil
}

func (c *cookieStore) Save(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *Record, data *scope.Contents, abandon bool) error {
	if rec.lockBroken() {
		return ErrLockBroken
	}
	if abandon {
		setCookie(w, r, "", -1)
		return nil
	}
	if data == nil {
		data = rec.Data
	}
	if data == nil {
		data = Empty
	}
	if rec.NewID != "" {
		// The old cookie still holds the session as it was: nothing on
		// the server can revoke it (docs/sessions.md).
		moved := *rec
		moved.ID = rec.NewID
		rec = &moved
	}
	value, err := c.encode(rec, data)
	if err != nil {
		return err
	}
	setCookie(w, r, value, 0)
	return nil
}

func (c *cookieStore) Leave(rec *Record, owner any) { c.locks.unlock(rec.ID, owner) }

func (c *cookieStore) End(ctx context.Context, rec *Record) { c.host.End(ctx, rec) }

// Break releases this server's lock of the session whose ID starts with
// prefix (a cookie store's locks are per server).
func (c *cookieStore) Break(_ context.Context, prefix string) (string, error) {
	return c.locks.breakLock(prefix)
}

func (c *cookieStore) Close(context.Context) {}

// InCookie: the whole session travels in the response's cookie.
func (*cookieStore) InCookie() {}

func (*cookieStore) Name() string { return "cookie" }
