package scope

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// request is a lock owner, as a page's request is.
type request struct{ id int }

// state returns who holds l, how often, and the owners waiting, in order.
func (l *Lock) state() (owner any, count int, waiting []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for e := l.waiters.Front(); e != nil; e = e.Next() {
		waiting = append(waiting, e.Value.(*lockWaiter).owner)
	}
	return l.owner, l.count, waiting
}

func TestLockCounter(t *testing.T) {
	var l Lock
	counter := 0 // not atomic: the lock is all that protects it
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			r := &request{id: i}
			if err := l.Lock(context.Background(), r); err != nil {
				t.Error(err)
				return
			}
			n := counter
			runtime.Gosched() // invite another goroutine in, if the lock let it
			counter = n + 1
			if err := l.Unlock(r); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if counter != 200 {
		t.Errorf("counter = %d, want 200", counter)
	}
	if owner, _, waiting := l.state(); owner != nil || len(waiting) != 0 {
		t.Errorf("lock left held by %v with %d waiting", owner, len(waiting))
	}
}

func TestLockFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l Lock
		holder := &request{id: 0}
		if err := l.Lock(t.Context(), holder); err != nil {
			t.Fatal(err)
		}
		var (
			mu    sync.Mutex
			order []int
			want  []int
		)
		for i := 1; i <= 20; i++ {
			want = append(want, i)
			go func() {
				r := &request{id: i}
				if err := l.Lock(t.Context(), r); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				if err := l.Unlock(r); err != nil {
					t.Error(err)
				}
			}()
			synctest.Wait() // waiter i is queued before i+1 starts
		}
		if _, _, waiting := l.state(); len(waiting) != 20 {
			t.Fatalf("%d waiting, want 20", len(waiting))
		}
		if err := l.Unlock(holder); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !slices.Equal(order, want) {
			t.Errorf("acquired in order %v, want %v", order, want)
		}
	})
}

func TestLockReentrant(t *testing.T) {
	var l Lock
	ctx := context.Background()
	a, b := &request{id: 1}, &request{id: 2}
	for range 3 {
		if err := l.Lock(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if owner, count, _ := l.state(); owner != any(a) || count != 3 {
		t.Fatalf("owner %v count %d, want a, 3", owner, count)
	}
	if err := l.Unlock(b); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Unlock by a non-owner: %v, want ErrNotLocked", err)
	}
	for range 2 {
		if err := l.Unlock(a); err != nil {
			t.Fatal(err)
		}
	}
	if owner, count, _ := l.state(); owner != any(a) || count != 1 {
		t.Errorf("after two of three Unlocks: owner %v count %d, want a, 1", owner, count)
	}
	if err := l.Unlock(a); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(a); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Unlock of a free lock: %v, want ErrNotLocked", err)
	}
	if err := l.Lock(ctx, b); err != nil {
		t.Errorf("Lock of a free lock: %v", err)
	}
}

func TestLockBadOwner(t *testing.T) {
	tests := []struct {
		name  string
		owner any
	}{
		{name: "nil", owner: nil},
		{name: "uncomparable", owner: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Lock
			if err := l.Lock(context.Background(), tt.owner); err == nil {
				t.Error("Lock succeeded")
			}
			if err := l.Unlock(tt.owner); !errors.Is(err, ErrNotLocked) {
				t.Errorf("Unlock: %v", err)
			}
			l.ReleaseAll(tt.owner) // must not panic
		})
	}
}

func TestLockTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l Lock
		holder, late, next := &request{id: 1}, &request{id: 2}, &request{id: 3}
		if err := l.Lock(t.Context(), holder); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		err := l.Lock(ctx, late)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock = %v, want DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != 2*time.Second {
			t.Errorf("Lock returned after %v, want 2s", waited)
		}
		if owner, count, waiting := l.state(); owner != any(holder) || count != 1 || len(waiting) != 0 {
			t.Errorf("after the timeout: owner %v count %d waiting %v", owner, count, waiting)
		}
		if err := l.Unlock(holder); err != nil {
			t.Fatal(err)
		}
		if owner, _, _ := l.state(); owner != nil {
			t.Errorf("the lock went to %v after its waiter timed out", owner)
		}
		if err := l.Lock(t.Context(), next); err != nil {
			t.Errorf("Lock after the timeout: %v", err)
		}

		done, cancelDone := context.WithCancel(t.Context())
		cancelDone()
		if err := l.Lock(done, holder); !errors.Is(err, context.Canceled) {
			t.Errorf("Lock with a context already done = %v, want Canceled", err)
		}
	})
}

// TestLockTimeoutRace ends waits just as the lock is handed over (what
// Unlock does, done here under the lock's mutex so that both happen before
// the waiter looks): whichever the waiter sees first, the lock must end free
// and the queue empty.
func TestLockTimeoutRace(t *testing.T) {
	for range 500 {
		synctest.Test(t, func(t *testing.T) {
			var l Lock
			holder, waiter := &request{id: 1}, &request{id: 2}
			if err := l.Lock(t.Context(), holder); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			result := make(chan error)
			go func() { result <- l.Lock(ctx, waiter) }()
			synctest.Wait() // queued: the next Unlock hands over to it
			// End the wait and hand over at once: the waiter finds both
			// its context done and the lock its own.
			l.mu.Lock()
			cancel()
			l.count = 0
			l.handOff()
			l.mu.Unlock()
			if err := <-result; err == nil {
				if err := l.Unlock(waiter); err != nil {
					t.Fatal(err)
				}
			}
			if owner, _, waiting := l.state(); owner != nil || len(waiting) != 0 {
				t.Fatalf("lock left held by %v with %v waiting", owner, waiting)
			}
		})
	}
}

func TestLockReleaseAllAfterPanic(t *testing.T) {
	var l Lock
	ctx := context.Background()
	page := &request{id: 1}
	func() {
		defer func() { _ = recover() }()
		defer l.ReleaseAll(page) // what the framework runs when a page ends
		for range 2 {
			if err := l.Lock(ctx, page); err != nil {
				t.Fatal(err)
			}
		}
		panic("the page failed")
	}()
	if owner, count, _ := l.state(); owner != nil || count != 0 {
		t.Errorf("after ReleaseAll: owner %v count %d", owner, count)
	}
	other := &request{id: 2}
	if err := l.Lock(ctx, other); err != nil {
		t.Fatal(err)
	}
	l.ReleaseAll(page) // holds nothing: does nothing
	if owner, _, _ := l.state(); owner != any(other) {
		t.Errorf("ReleaseAll by a non-owner took the lock from its owner")
	}
}

func TestLockReleaseAllHandsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l Lock
		a, b, c := &request{id: 1}, &request{id: 2}, &request{id: 3}
		if err := l.Lock(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		errs := make(map[*request]chan error)
		for _, r := range []*request{b, c} {
			errs[r] = make(chan error, 1)
			go func() { errs[r] <- l.Lock(t.Context(), r) }()
			synctest.Wait()
		}
		l.ReleaseAll(b) // b's wait is ended: its page has ended
		if err := <-errs[b]; !errors.Is(err, ErrLockReleased) {
			t.Errorf("b's Lock = %v, want ErrLockReleased", err)
		}
		l.ReleaseAll(a) // a's holds go, and the lock goes to c
		if err := <-errs[c]; err != nil {
			t.Errorf("c's Lock = %v", err)
		}
		if owner, count, waiting := l.state(); owner != any(c) || count != 1 || len(waiting) != 0 {
			t.Errorf("owner %v count %d waiting %v, want c, 1, none", owner, count, waiting)
		}
	})
}

// TestTryLock: TryLock takes a free lock or one more hold of the owner's,
// and never a lock another owner holds.
func TestTryLock(t *testing.T) {
	var l Lock
	a, b := new(int), new(int)
	if !l.TryLock(a) || !l.TryLock(a) {
		t.Fatal("TryLock of a free lock, then again by its owner, failed")
	}
	if l.TryLock(b) {
		t.Fatal("TryLock took a lock another owner holds")
	}
	l.Unlock(a)
	if l.TryLock(b) {
		t.Fatal("TryLock took a lock its owner still holds once")
	}
	l.Unlock(a)
	if !l.TryLock(b) {
		t.Fatal("TryLock of a released lock failed")
	}
	if l.TryLock(nil) {
		t.Fatal("TryLock with a nil owner succeeded")
	}
}

// TestLockStatus: Status reports a held lock and its queue.
func TestLockStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l Lock
		if owner, n := l.Status(); owner != nil || n != 0 {
			t.Errorf("free: %v %d", owner, n)
		}
		a, b := &request{1}, &request{2}
		l.Lock(t.Context(), a)
		done := make(chan error)
		go func() { done <- l.Lock(t.Context(), b) }()
		synctest.Wait()
		if owner, n := l.Status(); owner != a || n != 1 {
			t.Errorf("held by a with one waiter: %v %d", owner, n)
		}
		l.Unlock(a)
		<-done
		if owner, n := l.Status(); owner != b || n != 0 {
			t.Errorf("handed over to b: %v %d", owner, n)
		}
		l.Unlock(b)
		if owner, n := l.Status(); owner != nil || n != 0 {
			t.Errorf("free again: %v %d", owner, n)
		}
	})
}

// TestLockBreak: Break hands a held lock to the first waiter; the old
// owner's Unlock then fails and its ReleaseAll does nothing.
func TestLockBreak(t *testing.T) {
	var l Lock
	if got := l.Break(); got != nil {
		t.Errorf("Break of a free lock took it from %v", got)
	}
	a, b := "a", "b"
	if err := l.Lock(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() { got <- l.Lock(t.Context(), b) }()
	for _, waiters := l.Status(); waiters == 0; _, waiters = l.Status() {
		runtime.Gosched()
	}
	if owner := l.Break(); owner != a {
		t.Errorf("Break took the lock from %v, want a", owner)
	}
	if err := <-got; err != nil {
		t.Fatalf("the waiter: %v", err)
	}
	if err := l.Unlock(a); err != ErrNotLocked {
		t.Errorf("the old owner's Unlock: %v, want ErrNotLocked", err)
	}
	l.ReleaseAll(a)
	if owner, _ := l.Status(); owner != b {
		t.Errorf("after the old owner's ReleaseAll the lock is %v's, want b's", owner)
	}
}
