package scope

import (
	"container/list"
	"context"
	"errors"
	"reflect"
	"sync"
)

// ErrNotLocked is Unlock's answer when the owner does not hold the lock
// (Application:Unlock() without Application:Lock()).
var ErrNotLocked = errors.New("unlock without a matching lock")

// ErrLockReleased is Lock's answer to an owner whose locks were released by
// ReleaseAll while it was still waiting.
var ErrLockReleased = errors.New("lock released while waiting for it")

// Lock is the Application lock behind Application:Lock() and
// Application:Unlock(): a mutual exclusion held by one owner (a request) at
// a time. Its zero value is an unlocked Lock; it must not be copied after
// first use.
//
//   - Lock waits for its turn as long as its context allows, and nothing
//     more: a request past its deadline gets the context's error (the
//     framework answers 503) and leaves no trace in the queue.
//   - It is re-entrant, as ASP allows Lock twice in a page: each Lock by
//     the owner must be matched by an Unlock, or by ReleaseAll.
//   - It is fair: waiters get the lock in the order they asked for it. An
//     owner that unlocks hands the lock straight to the first waiter, so a
//     newcomer can never overtake the queue.
//   - A waiter holds nothing but its goroutine, blocked on a channel.
//
// An owner is any comparable value other than nil that stands for one
// request, such as a pointer to it. An owner calls Lock and Unlock from
// one goroutine at a time.
type Lock struct {
	mu      sync.Mutex
	owner   any       // nil when free
	count   int       // how many times owner holds it
	waiters list.List // of *lockWaiter, in arrival order
}

// lockWaiter is one owner waiting for the lock. ready is closed when the lock
// is handed to it (err nil) or when ReleaseAll cancels its wait (err set).
type lockWaiter struct {
	owner any
	ready chan struct{}
	err   error
}

// Lock acquires l for owner, waiting behind earlier waiters until it is
// free or ctx is done. It returns ctx's error, without the lock, when ctx
// ends first or has already ended. If owner holds l already, Lock counts
// one more hold and returns at once.
func (l *Lock) Lock(ctx context.Context, owner any) error {
	if owner == nil || !reflect.TypeOf(owner).Comparable() {
		return errors.New("lock owner must be a comparable value other than nil")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	switch l.owner {
	case nil:
		l.owner, l.count = owner, 1
		l.mu.Unlock()
		return nil
	case owner:
		l.count++
		l.mu.Unlock()
		return nil
	}
	w := &lockWaiter{owner: owner, ready: make(chan struct{})}
	elem := l.waiters.PushBack(w)
	l.mu.Unlock()

	select {
	case <-w.ready:
		return w.err
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-w.ready:
		// Handed over (or cancelled) just as ctx ended: a request past its
		// deadline must not run on holding the lock, so pass it on.
		if w.err == nil {
			l.handOff()
		}
	default:
		l.waiters.Remove(elem)
	}
	return ctx.Err()
}

// TryLock acquires l for owner if that needs no wait: l is free, or owner
// holds it already (one more hold). It reports whether it did; it never
// jumps the queue, since a free lock has no waiters.
func (l *Lock) TryLock(owner any) bool {
	if owner == nil || !reflect.TypeOf(owner).Comparable() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.owner {
	case nil:
		l.owner, l.count = owner, 1
		return true
	case owner:
		l.count++
		return true
	}
	return false
}

// Status reports who holds l (nil: nobody), and how many owners wait for
// it. It is a snapshot, for a status page: both may have changed by the
// time it returns.
func (l *Lock) Status() (owner any, waiters int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.owner, l.waiters.Len()
}

// Unlock releases one hold of l by owner, and hands l to the first waiter
// when it was the last. It returns ErrNotLocked if owner does not hold l.
func (l *Lock) Unlock(owner any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if owner == nil || l.owner != owner {
		return ErrNotLocked
	}
	l.count--
	if l.count == 0 {
		l.handOff()
	}
	return nil
}

// ReleaseAll releases every hold of l by owner, and ends with
// ErrLockReleased any wait of owner's still queued. It is what runs when a
// page ends, fails or times out; it does nothing if owner holds nothing.
func (l *Lock) ReleaseAll(owner any) {
	if owner == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for e := l.waiters.Front(); e != nil; {
		next := e.Next()
		if w := e.Value.(*lockWaiter); w.owner == owner {
			l.waiters.Remove(e)
			w.err = ErrLockReleased
			close(w.ready)
		}
		e = next
	}
	if l.owner == owner {
		l.handOff()
	}
}

// Break takes l from whoever holds it and hands it to the first waiter,
// for an operator releasing a stuck lock. It returns the owner it took
// the lock from (nil: l was free). That owner's later Unlock or
// ReleaseAll finds it no longer holds l and does nothing.
func (l *Lock) Break() (owner any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	owner = l.owner
	if owner != nil {
		l.handOff()
	}
	return owner
}

// handOff frees l and gives it to the first waiter, if any; l.mu must be
// held.
func (l *Lock) handOff() {
	l.owner, l.count = nil, 0
	if front := l.waiters.Front(); front != nil {
		w := l.waiters.Remove(front).(*lockWaiter)
		l.owner, l.count = w.owner, 1
		close(w.ready)
	}
}
