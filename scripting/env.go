package scripting

import (
	"context"
	"log/slog"
	"net/textproto"
	"net/url"
	"time"

	"lasp/scope"
)

// Request is what a page reads of its request.
type Request interface {
	// Query is the parsed query string; RawQuery the query as sent.
	Query() url.Values
	RawQuery() string
	// Form parses the body (urlencoded or multipart) on first use. ctx is
	// the run's: when it ends (the script timeout, the client gone) a read
	// still waiting for a slow client fails, so the page fails instead of
	// being held.
	Form(ctx context.Context) (url.Values, error)
	// Body is the raw body (a string: Lua keeps it without a copy), read on
	// first use within ctx and bounded in size.
	Body(ctx context.Context) (string, error)
	// TotalBytes is the size of the body: its declared length, or the
	// body's, read within ctx, when none is declared.
	TotalBytes(ctx context.Context) (int64, error)
	// Files are the uploaded files of a multipart form, by field name, in
	// the order sent; nil for any other body. They share Form's one parse
	// of the body (and its errors), read within ctx.
	Files(ctx context.Context) (map[string][]File, error)
	// Cookie is the value of the named request cookie.
	Cookie(name string) (string, bool)
	// Cookies lists the names of the request cookies.
	CookieNames() []string
	// ServerVariable is a CGI-style variable (REQUEST_METHOD, HTTP_HOST ...).
	ServerVariable(name string) (string, bool)
}

// File is an uploaded file of a multipart form (Request.Files). It lasts
// as long as its request: large files are in temporary files, removed when
// the request ends.
type File interface {
	// Name is the client's name for the file, reduced to a safe base name
	// (no folders, no control characters, never "", "." or "..").
	Name() string
	// Size is its length in bytes.
	Size() int64
	// ContentType is the type the client sent for it; "" when none.
	ContentType() string
	// Read is the whole file (its size is bounded by the request body's).
	Read() (string, error)
	// SaveAs writes the file to path, slash-separated and relative to the
	// application's data/ folder, which it cannot leave; missing folders
	// are made, and the file is replaced atomically. It returns the saved
	// path relative to the application root ("data/uploads/a.png"). ctx
	// bounds the copying.
	SaveAs(ctx context.Context, path string) (string, error)
}

// Response is the head of a page's response. The body goes to the writer
// given to Engine.Run.
type Response interface {
	Header() textproto.MIMEHeader
	SetCookie(c *Cookie)
	// WriteHeader commits the status and headers; it is called once, before the
	// first byte of the body.
	WriteHeader(status int)
	// Flush sends what was written so far to the client.
	Flush() error
}

// Cookie is a cookie set by Response.Cookies.
type Cookie struct {
	Name, Value  string
	Path, Domain string
	Expires      time.Time // zero: a session cookie
	HttpOnly     bool
	Secure       bool
	SameSite     string // "", "Lax", "Strict" or "None"
}

// Env is what one request gives the pages it runs.
type Env struct {
	Request  Request
	Response Response
	// Log receives print output and Response.AppendToLog, with RequestID.
	Log       *slog.Logger
	RequestID string
	// Status is the status the page starts with; zero means 200.
	Status int
	// LastError is what Server.GetLastError returns (in an error page).
	LastError *Error
	// Application is the application's contents, ApplicationLock its lock.
	Application     Contents
	ApplicationLock Locker
	// Session is the request's session; nil when the page has none, and
	// NoSession then says why (for the error of a page that touches it).
	// SessionReadOnly refuses writes (EnableSessionState=ReadOnly).
	Session         Session
	NoSession       string
	SessionReadOnly bool
	// Declared finds an object declared in global.lasa with Application (or
	// Session) scope by id, creating it on first reference; ok is false for
	// an id that is not declared.
	Declared func(ctx context.Context, id string) (obj scope.Object, ok bool, err error)
	// PageObjects are global.lasa's Page-scope declarations, id → progid:
	// each request that references one gets its own.
	PageObjects map[string]string
	// Kept are the declared Session objects that a shared session store
	// keeps as their state; nil when there are none.
	Kept Kept
	// Commit, when not nil, runs after the page ends without an error and
	// before the rest of its output is sent: the session is saved there, so
	// that what the client sees next finds the page's changes. Its error
	// fails the page.
	Commit func() error
	// ScriptTimeout overrides the engine's default for this request when > 0.
	ScriptTimeout time.Duration
}

// Kept are the declared Session objects that a shared session store keeps
// as their state (Lua components whose self holds plain data, Go
// components that implement Keeper). A run that references one makes it
// in its own Lua state, or in Apartment when that is not nil: from the
// state Load gives (without Initialize), or new (with Initialize) when
// there is none. Before Env.Commit, each one made is given back to Save.
type Kept interface {
	// Objects are the kept objects, id → progid.
	Objects() map[string]string
	// Load is the saved state of object id; ok is false when it has none.
	Load(id string) (state scope.Value, ok bool)
	// Save keeps the state of object id, to be saved with the session.
	Save(id string, state scope.Value) error
	// Apartment, when not nil, hosts the kept objects of this request (it
	// is made on first need); they are then proxies, as declared Session
	// objects are with an in-process session.
	Apartment() *Apartment
	// Ending reports whether the session ends (Session_OnEnd): every kept
	// object with a state is terminated after the event, and none is saved.
	Ending() bool
}
