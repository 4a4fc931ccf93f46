package session

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"lasp/scope"
)

// A Store keeps sessions between requests (docs/sessions.md). A request
// loads its session (or creates one on first need), works on a copy of
// its data, saves the copy when the page succeeds (a page that fails
// changes nothing), and leaves. Open returns one.
//
// Every method may be called from several goroutines at once; owner
// stands for a request (any comparable value of its own).
type Store interface {
	// Load finds the session the request's cookie names; nil when there
	// is none (no cookie, a forged or expired one). With lock it first
	// waits for the session's lock, in arrival order, for up to
	// Options.LockWait (then ErrBusy).
	Load(ctx context.Context, r *http.Request, owner any, lock bool) (*Record, error)
	// Create starts a session, locked by owner when lock, and sets its
	// cookie if the store's cookie names an ID; live is kept as
	// Record.Live by a store whose sessions live in this process. It
	// cannot fail: a store that needs a round trip makes it when the
	// session is first saved.
	Create(w http.ResponseWriter, r *http.Request, owner any, lock bool, live any) *Record
	// Check reports whether data (and kept objects' states) can be saved:
	// it runs after every write, so that the error names the page's line.
	Check(data, objects *scope.Contents) error
	// Save stores the page's changes: data (nil when unchanged) and
	// rec.Timeout, under rec.NewID when set (sending its cookie), the old
	// ID finding nothing from then on. With abandon the session ends
	// instead: nothing finds it any more, and the caller ends it with End
	// once it has left.
	Save(ctx context.Context, w http.ResponseWriter, r *http.Request, rec *Record, data *scope.Contents, abandon bool) error
	// Leave ends the request's use of rec: its lock, if owner holds it, is
	// released and its idle time starts.
	Leave(rec *Record, owner any)
	// End ends a session that a request abandoned: the host's End
	// (Session_OnEnd), then the store forgets it. The store ends the
	// sessions that expire itself.
	End(ctx context.Context, rec *Record)
	// Close ends every session the store can end (at shutdown), and
	// stops the store.
	Close(ctx context.Context)
	// Name names the store in messages.
	Name() string
}

// InProcess is a Store whose sessions live in this process, with what the
// host keeps of them (Record.Live): they end with the process, or when
// the application restarts. Len is the number of live sessions.
//
// Shed ends, the host's End running for each, the idle sessions that no
// request came back to since the one that made them, if that one left
// before before: what a flood of clients that never send their cookie
// back leaves behind. It returns how many it ended.
type InProcess interface {
	Store
	Len() int
	Shed(before time.Time) int
}

// InCookie is a Store that sends the whole session in the response's
// cookie: once the response has been flushed, its session cannot change.
type InCookie interface {
	Store
	InCookie()
}

// A Host is what a store needs of the server it keeps sessions for.
type Host interface {
	// End runs Session_OnEnd for a session that ended, then ends what
	// the host keeps of it (rec.Live). A store calls it once per session.
	End(ctx context.Context, rec *Record)
	// Down reports that the store does not answer (err), and returns the
	// error the request gets (503 Service Unavailable).
	Down(err error) error
}

var (
	_ InProcess = (*memoryStore)(nil)
	_ InCookie  = (*cookieStore)(nil)
	_ Store     = (*redisStore)(nil)
)

// A Record is one session as a request found it. A store makes it (Load,
// Create); the request changes Timeout, Objects and Changed, and hands it
// back to Save and Leave.
type Record struct {
	ID string // the ID the request found, or made: its lock's, all along
	// NewID is the ID Save moves the session to (Session:RenewID): the
	// old ID finds nothing once it is saved. "" keeps ID.
	NewID   string
	Data    *scope.Contents // as last saved; nil is empty. Never changed in place.
	Timeout float64         // Session.Timeout, minutes
	IsNew   bool            // made by Create for this request
	Resave  bool            // save it even unchanged, to slide its expiry

	// Objects hold the state of its kept Session objects (a shared store),
	// by id; Changed says the page changed them.
	Objects *scope.Contents
	Changed bool

	// Live is what the host keeps of the session in this process (its
	// objects), for a store whose sessions live here (InProcess): given to
	// Create, found again by Load. Opaque to the store; nil elsewhere.
	Live any

	state  any          // the store's own
	broken *atomic.Bool // set when an operator breaks the lock this request holds
}

// lockBroken reports whether an operator broke the lock rec's request
// held (Breaker): its save must be refused.
func (rec *Record) lockBroken() bool { return rec.broken != nil && rec.broken.Load() }

// A Breaker is a Store whose stuck session locks an operator can release,
// from the status page. Every store of this package is one.
type Breaker interface {
	Store
	// Break releases the lock of the session whose ID starts with prefix
	// (at least 8 characters, as Status shows them), held by a request of
	// this server: the first request waiting for it proceeds, and the
	// holder's later save is refused with ErrLockBroken, so that two pages
	// never both save. It returns the session's ID, or an error when no
	// held lock, or more than one, matches.
	Break(ctx context.Context, prefix string) (string, error)
}

var (
	_ Breaker = (*memoryStore)(nil)
	_ Breaker = (*cookieStore)(nil)
	_ Breaker = (*redisStore)(nil)
)
