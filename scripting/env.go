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
	// Form parses the body (urlencoded or multipart) on first use.
	Form() (url.Values, error)
	// Body is the raw body, read on first use and bounded in size.
	Body() ([]byte, error)
	// Cookie is the value of the named request cookie.
	Cookie(name string) (string, bool)
	// Cookies lists the names of the request cookies.
	CookieNames() []string
	// ServerVariable is a CGI-style variable (REQUEST_METHOD, HTTP_HOST ...).
	ServerVariable(name string) (string, bool)
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
	// KeptObjects are the declared Session objects that a shared session
	// store keeps as their state (Lua components whose self holds plain
	// data, Go components that implement Keeper), id → progid. A run that references one makes it in its own
	// Lua state: from the state LoadObject gives (without Initialize), or
	// new (with Initialize) when there is none. Before Commit, each one
	// made is given back to SaveObject. With EndKept (Session_OnEnd of
	// such a session), every kept object with a state is terminated after
	// the event.
	KeptObjects map[string]string
	LoadObject  func(id string) (state scope.Value, ok bool)
	SaveObject  func(id string, state scope.Value) error
	EndKept     bool
	// KeptApartment, when not nil, gives the apartment that hosts the kept
	// objects of this request (made on first need); they are then proxies,
	// as declared Session objects are with an in-process session. Without
	// it they live in the run's own Lua state.
	KeptApartment func() *Apartment
	// Commit, when not nil, runs after the page ends without an error and
	// before the rest of its output is sent: the session is saved there, so
	// that what the client sees next finds the page's changes. Its error
	// fails the page.
	Commit func() error
	// ScriptTimeout overrides the engine's default for this request when > 0.
	ScriptTimeout time.Duration
}
