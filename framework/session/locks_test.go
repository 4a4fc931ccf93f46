package session

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestLockTableOrder: waiters for one session's lock get it in the order
// they arrived, and the table forgets a lock nobody holds or waits for.
func TestLockTableOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var table lockTable
		ctx := context.Background()
		if err := table.lock(ctx, "s", 0); err != nil {
			t.Fatal(err)
		}
		got := make(chan int, 3)
		for i := 1; i <= 3; i++ {
			go func() {
				if err := table.lock(ctx, "s", i); err != nil {
					t.Error(err)
					return
				}
				got <- i
				table.unlock("s", i)
			}()
			synctest.Wait() // i is queued before i+1 starts
		}
		table.unlock("s", 0)
		for want := 1; want <= 3; want++ {
			if i := <-got; i != want {
				t.Fatalf("waiter %d got the lock, want %d", i, want)
			}
		}
		synctest.Wait()
		if n := len(table.m); n != 0 {
			t.Errorf("%d locks left in the table", n)
		}
	})
}

// TestLockWaitBound: a wait still going at the bound ends with ErrBusy.
func TestLockWaitBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var table lockTable
		ctx := context.Background()
		table.lock(ctx, "s", "holder")
		start := time.Now()
		err := lockWait(ctx, 90*time.Second, func(ctx context.Context) error { return table.lock(ctx, "s", "waiter") })
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("err = %v, want ErrBusy", err)
		}
		if d := time.Since(start); d != 90*time.Second {
			t.Errorf("gave up after %v, want 90s", d)
		}
	})
}
