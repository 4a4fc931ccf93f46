// Package database is Lasp.Database (docs/data.md): SQL for pages over
// database/sql, with SQLite (modernc.org/sqlite, pure Go) embedded and
// PostgreSQL (pgx) for a farm, and the transactions of transactional
// pages. It knows plain data (scope.Value) and nothing of Lua or HTTP.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx"
	_ "modernc.org/sqlite"             // "sqlite"

	"lasp/scope"
)

// MaxRows bounds what one Query returns.
const MaxRows = 10_000

// MaxPools bounds the databases a server opens (pools by URL).
const MaxPools = 64

// maxStatements bounds a pool's cache of prepared statements; past it the
// cache starts again.
const maxStatements = 256

// Pools are an application's databases: one connection pool per URL,
// opened on first use and shared by every page until Close.
type Pools struct {
	dir   string            // the application's directory on disk; "" none
	names map[string]string // NAME → URL (-database)

	mu    sync.Mutex
	pools map[string]*pool // by resolved data source
}

// NewPools returns the pools of the application in dir ("" when it has no
// directory on disk: SQLite then needs an absolute path given by name),
// with the named databases of names (NAME → URL, from -database).
func NewPools(dir string, names map[string]string) (*Pools, error) {
	for name, u := range names {
		if !validName(name) {
			return nil, fmt.Errorf("database name %q: use letters, digits, '_' and '-'", name)
		}
		if _, _, err := parseURL(u, true); err != nil {
			return nil, fmt.Errorf("database %s: %w", name, err)
		}
	}
	return &Pools{dir: dir, names: names, pools: map[string]*pool{}}, nil
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Close closes every pool.
func (p *Pools) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, pl := range p.pools {
		errs = append(errs, pl.close())
	}
	clear(p.pools)
	return errors.Join(errs...)
}

// pool is one database's connections and prepared statements.
type pool struct {
	db       *sql.DB
	postgres bool

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (pl *pool) close() error {
	pl.mu.Lock()
	for _, st := range pl.stmts {
		st.Close()
	}
	clear(pl.stmts)
	pl.mu.Unlock()
	return pl.db.Close()
}

// stmt is the prepared statement for query, made once per pool.
func (pl *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if st, ok := pl.stmts[query]; ok {
		return st, nil
	}
	st, err := pl.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(pl.stmts) >= maxStatements {
		for _, old := range pl.stmts {
			old.Close() // statements in use finish first (database/sql)
		}
		clear(pl.stmts)
	}
	pl.stmts[query] = st
	return st, nil
}

// open returns the pool for what a page's Open names: a URL or a NAME.
func (p *Pools) open(what string) (*pool, error) {
	byName := false
	if u, ok := p.names[what]; ok {
		what, byName = u, true
	}
	driver, source, err := parseURL(what, byName)
	if err != nil {
		return nil, err
	}
	if driver == "sqlite" {
		if source, err = p.sqlitePath(source, byName); err != nil {
			return nil, err
		}
	}
	key := driver + " " + source
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl, ok := p.pools[key]; ok {
		return pl, nil
	}
	if len(p.pools) >= MaxPools {
		// Each pool holds connections and file handles until the server
		// ends: a page opening a database per request parameter must not
		// exhaust them.
		return nil, fmt.Errorf("%s: the server has %d databases open already, its limit", redact(what), MaxPools)
	}
	pl := &pool{postgres: driver == "pgx", stmts: map[string]*sql.Stmt{}}
	if driver == "sqlite" {
		// WAL lets readers run beside the writer; a writer waits for the
		// other (busy_timeout) instead of failing, and a transaction takes
		// the write lock when it begins (_txlock=immediate), so that two
		// never deadlock upgrading a read.
		pl.db, err = sql.Open("sqlite", "file:"+source+
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate")
		if err == nil {
			pl.db.SetMaxOpenConns(8)
			pl.db.SetMaxIdleConns(8)
			pl.db.SetConnMaxIdleTime(5 * time.Minute)
		}
	} else {
		pl.db, err = sql.Open("pgx", source)
		if err == nil {
			pl.db.SetMaxOpenConns(20)
			pl.db.SetMaxIdleConns(10)
			pl.db.SetConnMaxIdleTime(5 * time.Minute)
		}
	}
	if err != nil {
		return nil, err
	}
	p.pools[key] = pl
	return pl, nil
}

// parseURL splits a database URL into its database/sql driver and data
// source: "sqlite:PATH" or "postgres://…" ("postgresql://…").
func parseURL(u string, byName bool) (driver, source string, err error) {
	switch {
	case strings.HasPrefix(u, "sqlite:"):
		path := strings.TrimPrefix(u, "sqlite:")
		if path == "" || strings.ContainsAny(path, "?#\x00") {
			return "", "", fmt.Errorf("%q: want sqlite:PATH (a file path, without ? or #)", u)
		}
		return "sqlite", path, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		if _, err := url.Parse(u); err != nil {
			return "", "", fmt.Errorf("%q: %v", redact(u), err)
		}
		return "pgx", u, nil
	}
	if byName {
		return "", "", fmt.Errorf("%q is not a database URL (sqlite:PATH or postgres://…)", redact(u))
	}
	return "", "", fmt.Errorf("%q is not a database URL (sqlite:PATH or postgres://…) nor the name of one given with -database", redact(u))
}

// redact hides a URL's password.
func redact(u string) string {
	if p, err := url.Parse(u); err == nil && p.User != nil {
		return p.Redacted()
	}
	return u
}

// sqlitePath is the file of a page's sqlite:PATH: relative to the
// application's directory and under its data/ (made when missing), so
// that a database is never served. A database given by name (the
// operator's) may be anywhere.
func (p *Pools) sqlitePath(path string, byName bool) (string, error) {
	if byName && filepath.IsAbs(path) {
		return path, nil
	}
	if p.dir == "" {
		return "", fmt.Errorf("sqlite:%s: the application has no directory on disk; give the database an absolute path with -database", path)
	}
	clean := filepath.ToSlash(filepath.Clean(filepath.FromSlash(path)))
	if filepath.IsAbs(path) || !strings.HasPrefix(clean, "data/") {
		return "", fmt.Errorf("sqlite:%s: a page's SQLite database must be under the application's data/ folder (sqlite:data/NAME.db)", path)
	}
	full := filepath.Join(p.dir, filepath.FromSlash(clean))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return "", err
	}
	return full, nil
}

// convertArgs converts a page's parameters for database/sql: integral numbers as
// integers, so that integer columns get integers.
func convertArgs(params []scope.Value) ([]any, error) {
	out := make([]any, len(params))
	for i, v := range params {
		switch x := v.(type) {
		case nil, bool, string:
			out[i] = x
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				out[i] = int64(x)
			} else {
				out[i] = x
			}
		default:
			return nil, fmt.Errorf("parameter %d must be nil, a boolean, a number or a string", i+1)
		}
	}
	return out, nil
}

// value converts a column's value to plain data: NULL is nil, numbers are
// numbers, text and blobs strings, times RFC 3339 strings.
func value(v any) scope.Value {
	switch x := v.(type) {
	case nil:
		return nil
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case int16:
		return float64(x)
	case int8:
		return float64(x)
	case int:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	case float32:
		return float64(x)
	case bool:
		return x
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}
