package session

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Options are what every store is opened with.
type Options struct {
	// Keys sign and encrypt the session cookie: pairs of a hash key and a
	// block key, the first pair encoding (framework.Config.Keys).
	Keys [][]byte
	// Timeout is the default Session.Timeout of a new session.
	Timeout time.Duration
	// LockWait bounds a request's wait for its session's lock (the script
	// timeout): a request still waiting then gets ErrBusy.
	LockWait time.Duration
	// Logger receives what a store logs. Nil means slog.Default().
	Logger *slog.Logger
}

// A Kind is a kind of store.
type Kind int

const (
	Memory Kind = iota // in this process
	Cookie             // all of a session in its cookie
	Redis              // in a Redis shared by a farm
)

// Shared reports whether servers share the store's sessions, so that they
// need the same keys.
func (k Kind) Shared() bool { return k != Memory }

// Parse reports which kind of store store names (framework.Config.
// SessionStore, -session-store): "" or "memory", "cookie", or
// "redis://host:port/db" (rediss:// for TLS). It opens nothing.
func Parse(store string) (Kind, error) {
	switch {
	case store == "" || store == "memory":
		return Memory, nil
	case store == "cookie":
		return Cookie, nil
	case strings.HasPrefix(store, "redis://"), strings.HasPrefix(store, "rediss://"):
		return Redis, nil
	}
	return 0, fmt.Errorf("unknown session store %q (want memory, cookie or redis://host:port/db)", store)
}

// Open opens the store that store names (see Parse) for h.
func Open(store string, h Host, o Options) (Store, error) {
	kind, err := Parse(store)
	if err != nil {
		return nil, err
	}
	if len(o.Keys) == 0 || len(o.Keys)%2 != 0 {
		return nil, errors.New("session: Keys must be pairs of a hash key and a block key")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch kind {
	case Cookie:
		return newCookieStore(h, o), nil
	case Redis:
		return newRedisStore(h, o, store)
	}
	return newMemoryStore(h, o), nil
}
