package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"lasp/scope"
)

// A Request is one request's use of its session, in front of a Store: the
// record it loaded (or makes on first need, so that pages that never use
// their session cost none), and the page's changes, kept apart until
// Commit: a page that fails changes nothing.
type Request struct {
	store    Store
	w        http.ResponseWriter
	r        *http.Request
	use      Use
	rec      *Record
	work     *scope.Contents // the page's copy of the data, made by its first write
	readOnly bool
	locked   bool // the request holds the session's lock
	dirty    bool // Session.Timeout changed, or the session is new
	ended    bool // saved as abandoned: End is due
	abandon  bool
}

// A Use says how a request uses its session.
type Use struct {
	// ReadOnly: the page (EnableSessionState=ReadOnly) takes no lock and
	// cannot change the session.
	ReadOnly bool
	// Page is the host's side of the request; nil keeps nothing and
	// never flushes.
	Page Page
	// Name names the request in a Status, as the holder of its session's
	// lock: the page's path.
	Name string
}

// A Page is the host's side of a request that uses its session.
type Page interface {
	// Live makes what the host keeps of a session this request starts
	// (Record.Live), or returns nil.
	Live() any
	// Flushed reports whether the response's headers went out.
	Flushed() bool
}

// Begin makes q, a zero Request, r's use of the session its cookie names,
// which it loads, waiting for its lock unless u.ReadOnly. q is meant to be
// a field of the host's own per-request value (one allocation less per
// request), and must not move once begun: it owns the lock. The caller
// must call Finish when Begin succeeded.
func (q *Request) Begin(ctx context.Context, st Store, w http.ResponseWriter, r *http.Request, u Use) error {
	*q = Request{store: st, w: w, r: r, use: u, readOnly: u.ReadOnly}
	rec, err := st.Load(ctx, r, q, !u.ReadOnly)
	if err != nil {
		return err
	}
	q.rec, q.locked = rec, rec != nil && !u.ReadOnly
	return nil
}

// Ended is a Request over a session that ended, for its Session_OnEnd: it
// may still change the data, which goes nowhere.
func Ended(rec *Record) Request {
	return Request{store: endedStore{}, rec: rec, locked: true}
}

// endedStore is the store of a session that ended: every change fits.
type endedStore struct{ Store }

func (endedStore) Check(_, _ *scope.Contents) error { return nil }

// Found reports whether the request came with a session (or made one).
func (q *Request) Found() bool { return q.rec != nil }

// Record is the session, made now if the request came without one.
func (q *Request) Record() *Record {
	if q.rec == nil {
		var live any
		if q.use.Page != nil {
			live = q.use.Page.Live()
		}
		q.rec = q.store.Create(q.w, q.r, q, !q.readOnly, live)
		q.locked, q.dirty = !q.readOnly, true
	}
	return q.rec
}

// Start starts a session for a Session_OnStart that run runs: it may
// write to the session even on a ReadOnly page, whose changes are then
// saved at once (the page itself cannot write).
func (q *Request) Start(run func() error) error {
	readOnly := q.readOnly
	q.readOnly = false
	q.Record()
	if err := run(); err != nil {
		return err
	}
	q.readOnly = readOnly
	if readOnly {
		if err := q.Commit(); err != nil {
			return err
		}
		q.work, q.dirty = nil, false
	}
	return nil
}

// Data is what the page reads: its own copy once it wrote, else the
// record's. Never nil; not to be changed.
func (q *Request) Data() *scope.Contents {
	if q.work != nil {
		return q.work
	}
	if q.rec == nil || q.rec.Data == nil {
		return Empty
	}
	return q.rec.Data
}

// change applies f to the page's copy of the data.
func (q *Request) change(f func(c *scope.Contents) error) error {
	if q.use.Page != nil && q.use.Page.Flushed() {
		if q.rec == nil {
			return errors.New("Session cannot start once the response has been flushed")
		}
		if _, ok := q.store.(InCookie); ok {
			return errors.New("Session cannot change once the response has been flushed: the cookie store sends it in the response's headers")
		}
	}
	q.Record()
	if q.work == nil {
		q.work = q.Data().Clone()
	}
	return f(q.work)
}

// Set stores val, and lets the store check that the data can still be
// saved, so that the page's error names the line that went too far.
func (q *Request) Set(key string, val scope.Value) error {
	return q.change(func(c *scope.Contents) error {
		if err := c.Set(key, val); err != nil {
			return err
		}
		return q.store.Check(c, q.rec.Objects)
	})
}

// Remove removes key.
func (q *Request) Remove(key string) error {
	if _, ok := q.Data().Get(key); !ok {
		return nil
	}
	return q.change(func(c *scope.Contents) error { c.Remove(key); return nil })
}

// RemoveAll empties the session.
func (q *Request) RemoveAll() error {
	if q.Data().Len() == 0 {
		return nil
	}
	return q.change(func(c *scope.Contents) error { c.RemoveAll(); return nil })
}

// SetTimeout sets Session.Timeout, in minutes.
func (q *Request) SetTimeout(minutes float64) {
	q.Record().Timeout = minutes
	q.dirty = true
}

// ID is the session's ID as the page sees it: the new one once RenewID
// has run.
func (q *Request) ID() string {
	rec := q.Record()
	if rec.NewID != "" {
		return rec.NewID
	}
	return rec.ID
}

// RenewID gives the session a new ID, saved with the page's changes
// (Session:RenewID, called at login against session fixation): the
// session keeps its data under the new ID, whose cookie goes with the
// response, and the old ID finds nothing once the page succeeds. A session
// this request made has a new ID already.
func (q *Request) RenewID() error {
	if q.use.Page != nil && q.use.Page.Flushed() {
		return errors.New("Session:RenewID cannot run once the response has been flushed: the new ID's cookie goes in the response's headers")
	}
	if rec := q.Record(); !rec.IsNew {
		rec.NewID, q.dirty = newID(), true
	}
	return nil
}

// Abandon ends the session when the page succeeds.
func (q *Request) Abandon() {
	if q.rec != nil {
		q.abandon = true
	}
}

// Commit saves the page's changes; it runs when the page succeeded, before
// the rest of its output goes out.
func (q *Request) Commit() error {
	if q.rec == nil || (!q.locked && !q.rec.IsNew) {
		return nil // nothing to save, or ReadOnly
	}
	if q.work == nil && !q.dirty && !q.abandon && !q.rec.Resave && !q.rec.Changed {
		return nil
	}
	if err := q.store.Save(q.r.Context(), q.w, q.r, q.rec, q.work, q.abandon); err != nil {
		return err
	}
	if q.work != nil {
		q.rec.Data = q.work
	}
	q.ended = q.abandon
	return nil
}

// Finish ends the request's use of its session, then ends the session
// (Host.End) if the page abandoned it.
func (q *Request) Finish(ctx context.Context) {
	if q.rec == nil {
		return
	}
	q.store.Leave(q.rec, q)
	if q.ended {
		q.store.End(ctx, q.rec)
	}
}

// LoadObject is the saved state of kept Session object id.
func (q *Request) LoadObject(id string) (scope.Value, bool) {
	if q.rec == nil || q.rec.Objects == nil {
		return nil, false
	}
	return q.rec.Objects.Get(id)
}

// SaveObject keeps the state of kept Session object id, to be saved with
// the session. A ReadOnly page may use the object but not change it.
func (q *Request) SaveObject(id string, state scope.Value) error {
	if old, ok := q.LoadObject(id); ok && scope.Equal(old, state) {
		return nil
	}
	if q.readOnly {
		return fmt.Errorf("Session object %s changed on a ReadOnly page (EnableSessionState=ReadOnly): its change is not saved", id)
	}
	rec := q.Record()
	objects := scope.NewContents("Session objects")
	if rec.Objects != nil {
		objects = rec.Objects.Clone()
	}
	if err := objects.Set(id, state); err != nil {
		return err
	}
	rec.Objects, rec.Changed = objects, true
	return q.store.Check(q.Data(), rec.Objects)
}
