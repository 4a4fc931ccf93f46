package framework

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"lasp/framework/session"
	"lasp/scripting"
)

// Component is a Go component class, registered in Config.Components: its
// progid, threading model and constructor. See scripting.Component.
type Component = scripting.Component

// Keeper is a Go component's instance that saves and restores its state,
// so that a shared session store (cookie, Redis) can keep it as a declared
// Session object. See scripting.Keeper.
type Keeper = scripting.Keeper

// Config configures a Server. Its zero value serves the current directory
// with production defaults.
type Config struct {
	// Root is the application: pages, global.lasa, components/, lib/,
	// data/ and static files. Nil means the directory Dir, or the current
	// directory when Dir is empty too, opened with os.OpenRoot so that
	// symbolic links cannot leave it (as serve opens -root).
	Root fs.FS

	// Dir is the application's directory on disk. With Root nil it is the
	// application: set Dir alone to serve a directory. With Root set it
	// says where Root was opened from: Server.MapPath answers paths under
	// it, and its data/ holds SQLite databases and saved uploads. Empty
	// then means Root has no directory on disk: MapPath answers
	// slash-separated paths relative to the root, and data/ is not there.
	Dir string

	// Dev reloads changed pages and shows detailed error pages.
	Dev bool

	// ScriptTimeout is the default Server.ScriptTimeout. Zero means 90s.
	ScriptTimeout time.Duration

	// Keys sign and encrypt the session cookie: pairs of a hash key (32 or
	// 64 bytes) and a block key (16, 24 or 32 bytes, AES). The first pair
	// encodes; every pair decodes, so keys can be rotated by putting the new
	// pair first. Servers of a farm need the same keys. Empty means a pair
	// made at random when the server starts (sessions then do not survive a
	// restart).
	Keys [][]byte

	// SessionStore is where sessions are kept (docs/sessions.md): "memory" (the
	// default when empty) in this process; "cookie": all of a session's
	// data in its encrypted cookie, so that any server with the same Keys
	// can serve any request; or "redis://host:port/db": a Redis shared by
	// a farm whose servers have the same Keys.
	SessionStore string

	// ApplicationStore is where Application's contents live: "memory" (the
	// default when empty) in this process, or "redis://host:port/db" to
	// share them across a farm, Application:Lock() then being farm-wide.
	// Application objects stay in each server.
	ApplicationStore string

	// SessionTimeout is the default Session.Timeout: how long a session may
	// stay idle before it ends. Zero means 20 minutes.
	SessionTimeout time.Duration

	// MaxRequestBody bounds a request body (Request.Form, Request.Body),
	// uploads included: a larger one answers 413. Zero means 32 MiB.
	MaxRequestBody int64

	// MaxBodyMemory bounds the memory that the bodies of all requests in
	// flight may hold together. Before its page runs, a request with a
	// body reserves twice its declared length (twice MaxRequestBody when
	// the length is not declared); while the reservations in flight leave
	// too little, it waits, for up to ScriptTimeout, then answers 503 with
	// Retry-After. A multipart body reserves the same, though its files go
	// to temporary files: the reservation bounds their disk use too.
	// Zero means four times MaxRequestBody (128 MiB by default); it must
	// be at least twice MaxRequestBody.
	MaxBodyMemory int64

	// MaxResponseBuffer bounds the output a page holds in its buffer.
	// Zero means 4 MiB.
	MaxResponseBuffer int

	// MemoryLimit is the memory, in bytes, the server may use (docs/serve.md): a
	// page whose script drives the process past it is stopped with a
	// runtime error naming the limit, and while memory is short new pages
	// answer 503 with Retry-After. Zero means DefaultMemoryLimit(); a
	// negative value turns the watch off. The limit is the process's, so
	// an embedding program should set Go's own (debug.SetMemoryLimit) to
	// it as well, as serve does.
	MemoryLimit int64

	// Components are the Go components pages can create by progid, besides
	// the built-in Lasp.Dictionary, Lasp.Counters and Lasp.Database.
	Components []Component

	// Databases are the databases Lasp.Database:Open knows by name
	// (serve's -database NAME=URL): NAME → sqlite:PATH (absolute, or
	// relative to Dir) or postgres://… (docs/data.md).
	Databases map[string]string

	// TrustedProxies are the proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (REMOTE_ADDR, HTTPS, the session
	// cookie's Secure); from any other peer those headers are ignored.
	TrustedProxies []netip.Prefix

	// CrossOrigin guards unsafe methods (POST, PUT, DELETE …) against
	// cross-site request forgery with Go's http.CrossOriginProtection: a
	// browser's request from another origin answers 403. Nil means the
	// default protection, with no trusted origin; set AllowCrossOrigin to
	// turn it off.
	CrossOrigin      *http.CrossOriginProtection
	AllowCrossOrigin bool

	// NoAccessLog turns off the access log: by default every request
	// logs one line (msg=request) at Info (docs/operations.md).
	NoAccessLog bool

	// NoCompression turns off compression: by default a text response
	// (text/*, JSON, JavaScript, XML, SVG) of 1 KiB or more is sent
	// gzipped to a client that accepts gzip, never with Range or an
	// already encoded body (docs/operations.md).
	NoCompression bool

	// Logger receives request logs, script errors and Lua print output.
	// Nil means slog.Default().
	Logger *slog.Logger
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if c.ScriptTimeout < 0 {
		errs = append(errs, errors.New("framework: negative ScriptTimeout"))
	}
	if len(c.Keys)%2 != 0 {
		errs = append(errs, errors.New("framework: Keys must be pairs of a hash key and a block key"))
	}
	if c.SessionTimeout < 0 {
		errs = append(errs, errors.New("framework: negative SessionTimeout"))
	}
	if _, err := session.Parse(c.SessionStore); err != nil {
		errs = append(errs, fmt.Errorf("framework: unknown SessionStore %q (want memory, cookie or redis://host:port/db)", c.SessionStore))
	}
	if c.ApplicationStore != "" && c.ApplicationStore != "memory" && !isRedisURL(c.ApplicationStore) {
		errs = append(errs, fmt.Errorf("framework: unknown ApplicationStore %q (want memory or redis://host:port/db)", c.ApplicationStore))
	}
	if c.MaxRequestBody < 0 {
		errs = append(errs, errors.New("framework: negative MaxRequestBody"))
	}
	if c.MaxBodyMemory < 0 {
		errs = append(errs, errors.New("framework: negative MaxBodyMemory"))
	}
	if maxBody := cmp.Or(c.MaxRequestBody, defaultMaxRequestBody); c.MaxBodyMemory > 0 && c.MaxBodyMemory < twice(maxBody) {
		errs = append(errs, fmt.Errorf("framework: MaxBodyMemory (%d) must be at least twice MaxRequestBody (%d)", c.MaxBodyMemory, maxBody))
	}
	if err := scripting.CheckComponents(c.Components); err != nil {
		errs = append(errs, err)
	}
	if err := scripting.CheckDatabases(c.Databases); err != nil {
		errs = append(errs, fmt.Errorf("framework: %w", err))
	}
	if c.MaxResponseBuffer < 0 {
		errs = append(errs, errors.New("framework: negative MaxResponseBuffer"))
	}
	return errors.Join(errs...)
}

// isRedisURL reports whether store names a Redis (redis:// or rediss://).
func isRedisURL(store string) bool {
	return strings.HasPrefix(store, "redis://") || strings.HasPrefix(store, "rediss://")
}
