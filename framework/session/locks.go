package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lasp/scope"
)

// lockTable holds the locks of the sessions in use in this process, by
// ID; a lock goes away when nobody holds or waits for it. Waiters are
// served in arrival order (scope.Lock).
type lockTable struct {
	mu sync.Mutex
	m  map[string]*tableLock
}

type tableLock struct {
	scope.Lock
	users  int
	since  atomic.Int64 // when its holder took it, Unix nanoseconds (Status)
	broken *atomic.Bool // its holder's: set when an operator breaks the lock (under lockTable.mu)
}

// lock waits for id's lock, in arrival order, as long as ctx allows.
func (t *lockTable) lock(ctx context.Context, id string, owner any) error {
	l := t.enter(id)
	if err := l.Lock.Lock(ctx, owner); err != nil {
		t.done(id, l)
		return err
	}
	t.took(l)
	return nil
}

// tryLock takes id's lock if that needs no wait (scope.Lock.TryLock).
func (t *lockTable) tryLock(id string, owner any) bool {
	l := t.enter(id)
	if !l.Lock.TryLock(owner) {
		t.done(id, l)
		return false
	}
	t.took(l)
	return true
}

// enter counts a user of id's lock, making the lock if it has none.
func (t *lockTable) enter(id string) *tableLock {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*tableLock{}
	}
	l := t.m[id]
	if l == nil {
		l = &tableLock{}
		t.m[id] = l
	}
	l.users++
	return l
}

// took records that l was just taken.
func (t *lockTable) took(l *tableLock) {
	l.since.Store(time.Now().UnixNano())
	t.mu.Lock()
	l.broken = new(atomic.Bool)
	t.mu.Unlock()
}

// brokenFlag is the flag that says whether the lock of id, just taken by
// its caller, was broken since (Record.broken).
func (t *lockTable) brokenFlag(id string) *atomic.Bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l := t.m[id]; l != nil {
		return l.broken
	}
	return nil
}

// breakLock breaks the held lock of the one session whose ID starts with
// prefix: its first waiter gets it, and its holder's save will be refused
// (ErrLockBroken). It returns the session's ID.
func (t *lockTable) breakLock(prefix string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var id string
	var found *tableLock
	for k, l := range t.m {
		if owner, _ := l.Lock.Status(); owner != nil && len(prefix) >= 8 && strings.HasPrefix(k, prefix) {
			if found != nil {
				return "", fmt.Errorf("several held locks match %q", prefix)
			}
			id, found = k, l
		}
	}
	if found == nil {
		return "", fmt.Errorf("no session lock held on this server matches %q", prefix)
	}
	if found.broken != nil {
		found.broken.Store(true)
	}
	if found.Lock.Break() != nil {
		// The holder's own unlock will find it no longer holds the lock.
		if found.users--; found.users == 0 {
			delete(t.m, id)
		}
	}
	return id, nil
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

// ErrBusy is the error of a request that waited for its session's lock
// for the whole of Options.LockWait, or whose lock's lease passed before
// its commit (503 Service Unavailable).
var ErrBusy = errors.New("the session stayed busy for the whole script timeout")

// ErrLockBroken is the error of a page whose session lock an operator
// released (the status page) while it ran: its changes are not saved, and
// it answers 503.
var ErrLockBroken = fmt.Errorf("%w: an operator released the session's lock while the page ran, and its changes were not saved", ErrBusy)

// lockWait runs wait, a wait for a session's lock, for up to bound: a
// request still waiting then gives up with ErrBusy.
func lockWait(ctx context.Context, bound time.Duration, wait func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, bound, ErrBusy)
	defer cancel()
	err := wait(ctx)
	if err != nil && errors.Is(context.Cause(ctx), ErrBusy) {
		return ErrBusy
	}
	return err
}
