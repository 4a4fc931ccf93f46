package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"lasp/internal/redisstore"
	"lasp/internal/redistest"
)

// open starts a redis-server of the test's own and opens a Store on it.
func open(t *testing.T) (*redisstore.Store, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	return openOn(t, srv), srv
}

// openOn opens a Store on srv: another server of the farm.
func openOn(t *testing.T, srv *redistest.Server) *redisstore.Store {
	t.Helper()
	st, err := redisstore.Open(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// keyLife is the deadline of session id and when its key ends, in ms by
// Redis's clock.
func keyLife(t *testing.T, st *redisstore.Store, id string) (deadline, end int64) {
	t.Helper()
	key := "lasp:s:{" + id + "}"
	deadline, err := st.Client().HGet(t.Context(), key, "dl").Int64()
	if err != nil {
		t.Fatal(err)
	}
	ttl, err := st.Client().PTTL(t.Context(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return deadline, redisNow(t, st) + ttl.Milliseconds()
}

// ctxFor is a context that ends after d or with the test.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// queueKey and waitKey are where the waiters for session id's lock queue
// and show they are alive (see the package doc).
func queueKey(id string) string { return "lasp:q:{" + id + "}" }
func waitKey(id string) string  { return "lasp:w:{" + id + "}" }

// redisNow is Redis's clock in ms: the clock the store's deadlines use.
func redisNow(t *testing.T, st *redisstore.Store) int64 {
	t.Helper()
	tm, err := st.Client().Time(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMilli()
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// queued is how many waiters queue for session id's lock.
func queued(t *testing.T, st *redisstore.Store, id string) int64 {
	n, err := st.Client().ZCard(context.Background(), queueKey(id)).Result()
	if err != nil {
		t.Error(err)
	}
	return n
}

// mustLock locks session id, failing the test if it is missing.
func mustLock(t *testing.T, st *redisstore.Store, id string) *redisstore.Record {
	t.Helper()
	rec, err := st.Lock(ctxFor(t, 10*time.Second), id)
	if err != nil {
		t.Fatalf("Lock(%s): %v", id, err)
	}
	if rec == nil {
		t.Fatalf("Lock(%s) = nil, want the session", id)
	}
	return rec
}

// readData reads session id's data, failing the test if it is missing.
func readData(t *testing.T, st *redisstore.Store, id string) string {
	t.Helper()
	rec, err := st.Read(t.Context(), id)
	if err != nil {
		t.Fatalf("Read(%s): %v", id, err)
	}
	if rec == nil {
		t.Fatalf("Read(%s) = nil, want the session", id)
	}
	return string(rec.Data)
}

// claimAll runs Claim until it returns nothing and says which sessions it
// returned, by ID, calling Done on none of them.
func claimAll(t *testing.T, st *redisstore.Store) map[string]redisstore.Ended {
	t.Helper()
	got := map[string]redisstore.Ended{}
	for {
		ended, err := st.Claim(t.Context(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ended) == 0 {
			return got
		}
		for _, e := range ended {
			got[e.ID] = e
		}
	}
}

// waitClaimed waits (5 s at most) until Claim takes some sessions, and
// returns them by ID.
func waitClaimed(t *testing.T, st *redisstore.Store, what string) map[string]redisstore.Ended {
	t.Helper()
	var got map[string]redisstore.Ended
	waitFor(t, 5*time.Second, what, func() bool {
		got = claimAll(t, st)
		return len(got) > 0
	})
	return got
}

// TestCreateLockCommitRead shows the round trip of one session: Lock
// returns what Create stored, Read sees what Commit saved, and an unknown
// ID is nil for Read and Lock, at once and without error.
func TestCreateLockCommitRead(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 10*time.Second)

	if err := st.Create(ctx, "s1", []byte("first"), time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := mustLock(t, st, "s1")
	if string(rec.Data) != "first" || rec.Timeout != time.Minute {
		t.Errorf("Lock = %q, %v; want %q, %v", rec.Data, rec.Timeout, "first", time.Minute)
	}
	if err := st.Commit(ctx, "s1", rec, []byte("second"), 2*time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}
	got, err := st.Read(ctx, "s1")
	if err != nil || got == nil {
		t.Fatalf("Read = %v, %v; want the session", got, err)
	}
	if string(got.Data) != "second" || got.Timeout != 2*time.Minute {
		t.Errorf("Read = %q, %v; want %q, %v", got.Data, got.Timeout, "second", 2*time.Minute)
	}

	// A commit without data keeps the data; Release frees the lock
	// without saving.
	rec = mustLock(t, st, "s1")
	if err := st.Commit(ctx, "s1", rec, nil, time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}
	rec = mustLock(t, st, "s1")
	if err := st.Release(ctx, "s1", rec); err != nil {
		t.Fatal(err)
	}
	if d := readData(t, st, "s1"); d != "second" {
		t.Errorf("after a commit without data and a release, data = %q, want %q", d, "second")
	}

	if err := st.Create(ctx, "s1", []byte("again"), time.Minute); err == nil {
		t.Error("Create of an existing ID succeeded")
	}
	if d := readData(t, st, "s1"); d != "second" {
		t.Errorf("after a second Create, data = %q, want %q", d, "second")
	}

	if got, err := st.Read(ctx, "unknown"); got != nil || err != nil {
		t.Errorf("Read(unknown) = %v, %v; want nil, nil", got, err)
	}
	start := time.Now()
	if got, err := st.Lock(ctx, "unknown"); got != nil || err != nil {
		t.Errorf("Lock(unknown) = %v, %v; want nil, nil", got, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Lock(unknown) took %v, want at once", d)
	}
	if n := queued(t, st, "unknown"); n != 0 {
		t.Errorf("Lock(unknown) left %d waiters queued", n)
	}
}

// TestCommitRenewsID: a commit with a new ID moves the session in the same
// step, under its lock: the old ID finds nothing, a waiter queued on it
// finds no session, and the new ID holds the data, expires and locks as
// the session did.
func TestCommitRenewsID(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 10*time.Second)
	if err := st.Create(ctx, "old", []byte("cart"), time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := mustLock(t, st, "old")
	waited := make(chan *redisstore.Record)
	go func() {
		r, err := st.Lock(ctx, "old")
		if err != nil {
			t.Error(err)
		}
		waited <- r
	}()
	waitFor(t, 5*time.Second, "the waiter to queue", func() bool { return queued(t, st, "old") == 1 })
	if err := st.Commit(ctx, "old", rec, []byte("logged in"), time.Minute, false, "new"); err != nil {
		t.Fatal(err)
	}
	if r := <-waited; r != nil {
		t.Errorf("the waiter on the old ID got a session: %q", r.Data)
	}
	if got, err := st.Read(ctx, "old"); got != nil || err != nil {
		t.Errorf("Read(old) = %v, %v; want nil", got, err)
	}
	if d := readData(t, st, "new"); d != "logged in" {
		t.Errorf("Read(new) = %q", d)
	}
	soonest, n, err := st.Soonest(ctx, 10)
	if err != nil || n != 1 || len(soonest) != 1 || soonest[0].ID != "new" {
		t.Errorf("Soonest = %+v, %d, %v; want only the new ID", soonest, n, err)
	}
	again := mustLock(t, st, "new")
	if err := st.Commit(ctx, "new", again, nil, time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}

	// Renewing onto an ID that exists is refused, and changes nothing.
	if err := st.Create(ctx, "taken", []byte("other"), time.Minute); err != nil {
		t.Fatal(err)
	}
	rec = mustLock(t, st, "new")
	if err := st.Commit(ctx, "new", rec, []byte("x"), time.Minute, false, "taken"); err == nil {
		t.Error("a commit onto a taken ID succeeded")
	}
	if d := readData(t, st, "taken"); d != "other" {
		t.Errorf("the taken session changed: %q", d)
	}
}

// TestLockGrantsInArrivalOrder shows that waiters for a session's lock get
// it one at a time in the order they asked: eight waiters, each starting
// once the one before is queued, append their number in that order.
func TestLockGrantsInArrivalOrder(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 15*time.Second)
	const id, n = "order", 8
	if err := st.Create(ctx, id, nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	holder := mustLock(t, st, id)

	var inside atomic.Int32 // how many hold the lock, by their own account
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec, err := st.Lock(ctx, id)
			if err != nil || rec == nil {
				t.Errorf("waiter %d: Lock = %v, %v", i, rec, err)
				return
			}
			if k := inside.Add(1); k != 1 {
				t.Errorf("waiter %d holds the lock with %d others", i, k-1)
			}
			data := fmt.Sprintf("%s %d", rec.Data, i)
			inside.Add(-1)
			if err := st.Commit(ctx, id, rec, []byte(data), time.Minute, false, ""); err != nil {
				t.Errorf("waiter %d: Commit: %v", i, err)
			}
		})
		waitFor(t, 5*time.Second, fmt.Sprintf("waiter %d queued", i), func() bool { return queued(t, st, id) == int64(i+1) })
		// Arrival is by Redis's clock in ms: the next waiter comes in a
		// later ms.
		at := redisNow(t, st)
		waitFor(t, time.Second, "Redis's clock ticks", func() bool { return redisNow(t, st) > at })
	}
	if err := st.Commit(ctx, id, holder, []byte("start"), time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	if got, want := readData(t, st, id), "start 0 1 2 3 4 5 6 7"; got != want {
		t.Errorf("data = %q, want %q (the order the waiters asked in)", got, want)
	}
	if n := queued(t, st, id); n != 0 {
		t.Errorf("%d waiters left queued", n)
	}
}

// TestLockIsMutuallyExclusive shows that 100 concurrent read-modify-write
// requests on one session lose no update.
func TestLockIsMutuallyExclusive(t *testing.T) {
	st, _ := open(t)
	// Waiters ask often, so that a hundred handovers take little time; a
	// waiter that stalls longer than this only loses its place.
	st.StaleWaiter = 100 * time.Millisecond
	ctx := ctxFor(t, 30*time.Second)
	const id, n = "counter", 100
	if err := st.Create(ctx, id, []byte("0"), time.Minute); err != nil {
		t.Fatal(err)
	}
	var inside atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rec, err := st.Lock(ctx, id)
			if err != nil || rec == nil {
				t.Errorf("Lock = %v, %v", rec, err)
				return
			}
			if k := inside.Add(1); k != 1 {
				t.Errorf("%d requests hold the lock at once", k)
			}
			v, err := strconv.Atoi(string(rec.Data))
			if err != nil {
				t.Error(err)
			}
			inside.Add(-1)
			if err := st.Commit(ctx, id, rec, []byte(strconv.Itoa(v+1)), time.Minute, false, ""); err != nil {
				t.Errorf("Commit: %v", err)
			}
		})
	}
	wg.Wait()
	if got := readData(t, st, id); got != strconv.Itoa(n) {
		t.Errorf("counter = %s, want %d", got, n)
	}
}

// TestCommitAfterLeaseIsRefused shows the fence: a holder that stalled
// past its lease cannot overwrite what the next holder saved, and cannot
// save even when nobody took the lock meanwhile.
func TestCommitAfterLeaseIsRefused(t *testing.T) {
	st, _ := open(t)
	st.Lease = 300 * time.Millisecond
	ctx := ctxFor(t, 10*time.Second)
	const id = "fenced"
	if err := st.Create(ctx, id, []byte("start"), time.Minute); err != nil {
		t.Fatal(err)
	}

	a := mustLock(t, st, id) // A stalls: no Hold, no renewal
	start := time.Now()
	b := mustLock(t, st, id) // granted once A's lease passed
	if d := time.Since(start); d < st.Lease/2 {
		t.Errorf("B got the lock after %v, while A's lease (%v) was alive", d, st.Lease)
	}
	if err := st.Commit(ctx, id, b, []byte("B"), time.Minute, false, ""); err != nil {
		t.Fatalf("B's commit: %v", err)
	}
	if err := st.Commit(ctx, id, a, []byte("A"), time.Minute, false, ""); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("A's late commit = %v, want ErrLeaseLost", err)
	}
	if got := readData(t, st, id); got != "B" {
		t.Errorf("data = %q, want B's %q", got, "B")
	}

	// Alone, but late.
	a = mustLock(t, st, id)
	time.Sleep(2 * st.Lease)
	if err := st.Commit(ctx, id, a, []byte("A"), time.Minute, true, ""); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("a commit after the lease = %v, want ErrLeaseLost", err)
	}
	if got := readData(t, st, id); got != "B" {
		t.Errorf("after a refused commit, data = %q, want %q", got, "B")
	}
	// The refused commit did not abandon the session either, and the lock
	// is free.
	start = time.Now()
	c := mustLock(t, st, id)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Lock after a refused commit took %v, want at once", d)
	}
	if err := st.Commit(ctx, id, c, []byte("C"), time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}
}

// TestHoldRenewsTheLease shows that a holder that keeps renewing keeps the
// lock well past one lease: its commit succeeds, and another request's
// Lock runs out of time meanwhile.
func TestHoldRenewsTheLease(t *testing.T) {
	st, _ := open(t)
	st.Lease = 400 * time.Millisecond
	ctx := ctxFor(t, 10*time.Second)
	const id = "held"
	if err := st.Create(ctx, id, []byte("start"), time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := mustLock(t, st, id)
	stop := st.Hold(st.SessionKey(id), rec)

	other := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*st.Lease)
		defer cancel()
		got, err := st.Lock(ctx, id)
		if got != nil {
			err = fmt.Errorf("got the lock (fence %d) while it was held", got.Fence)
		}
		other <- err
	}()

	time.Sleep(3 * st.Lease)
	stop()
	if err := st.Commit(ctx, id, rec, []byte("held"), time.Minute, false, ""); err != nil {
		t.Fatalf("commit after %v held: %v", 3*st.Lease, err)
	}
	if err := <-other; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the other Lock = %v, want context.DeadlineExceeded", err)
	}
	if got := readData(t, st, id); got != "held" {
		t.Errorf("data = %q, want %q", got, "held")
	}
}

// TestWaiterThatGivesUpLeavesTheQueue shows that a waiter whose context
// ends takes itself out of the queue, so it delays nobody.
func TestWaiterThatGivesUpLeavesTheQueue(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 10*time.Second)
	const id = "impatient"
	if err := st.Create(ctx, id, nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	holder := mustLock(t, st, id)

	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if got, err := st.Lock(wctx, id); got != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock = %v, %v; want context.DeadlineExceeded", got, err)
	}
	for _, k := range []string{queueKey(id), waitKey(id)} {
		if n, err := st.Client().Exists(ctx, k).Result(); err != nil || n != 0 {
			t.Errorf("%s after the waiter gave up: exists %d, %v; want gone", k, n, err)
		}
	}

	if err := st.Commit(ctx, id, holder, nil, time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rec := mustLock(t, st, id)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Lock after the waiter gave up took %v, want at once", d)
	}
	st.Release(ctx, id, rec)
}

// TestDeadWaiterIsSkipped shows that a waiter that stopped asking (its
// server died) holds up the next Lock for at most StaleWaiter: at once when
// it was last seen long ago, and about StaleWaiter when it was last seen
// just now.
func TestDeadWaiterIsSkipped(t *testing.T) {
	st, _ := open(t)
	st.StaleWaiter = 500 * time.Millisecond
	ctx := ctxFor(t, 10*time.Second)
	rdb := st.Client()

	tests := []struct {
		name    string
		seenAgo time.Duration // when the dead waiter last asked
		min     time.Duration // how long the next Lock must wait at least
	}{
		{name: "long ago", seenAgo: 10 * st.StaleWaiter, min: 0},
		{name: "just now", seenAgo: 50 * time.Millisecond, min: st.StaleWaiter / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "dead-" + strings.ReplaceAll(tt.name, " ", "-")
			if err := st.Create(ctx, id, []byte("data"), time.Minute); err != nil {
				t.Fatal(err)
			}
			seen := redisNow(t, st) - tt.seenAgo.Milliseconds()
			ticket, err := rdb.HIncrBy(ctx, waitKey(id), "#", 1).Result() // the queue's arrival counter
			if err != nil {
				t.Fatal(err)
			}
			if err := rdb.ZAdd(ctx, queueKey(id), redis.Z{Score: float64(ticket), Member: "dead"}).Err(); err != nil {
				t.Fatal(err)
			}
			if err := rdb.HSet(ctx, waitKey(id), "dead", seen).Err(); err != nil {
				t.Fatal(err)
			}

			start := time.Now()
			rec := mustLock(t, st, id)
			d := time.Since(start)
			if d < tt.min || d > st.StaleWaiter+2*time.Second {
				t.Errorf("Lock behind a dead waiter took %v, want between %v and StaleWaiter (%v) plus a margin", d, tt.min, st.StaleWaiter)
			}
			if string(rec.Data) != "data" {
				t.Errorf("data = %q", rec.Data)
			}
			if err := st.Release(ctx, id, rec); err != nil {
				t.Fatal(err)
			}
			if n := queued(t, st, id); n != 0 {
				t.Errorf("%d waiters still queued, want the dead one dropped", n)
			}
		})
	}
}

// TestExpiredSessionsAreClaimedOnce shows the sweep across a farm: expired
// sessions are gone for Read and Lock at once, and concurrent Claim calls
// hand each one, with its data, to exactly one caller; after Done nothing
// of it is left.
func TestExpiredSessionsAreClaimedOnce(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 15*time.Second)
	const n = 40
	const timeout = 100 * time.Millisecond
	want := map[string]string{}
	for i := range n {
		id := fmt.Sprintf("exp%02d", i)
		want[id] = "data of " + id
		if err := st.Create(ctx, id, []byte(want[id]), timeout); err != nil {
			t.Fatal(err)
		}
	}
	// The deadline is by Redis's clock: wait until it passed there.
	end := redisNow(t, st) + (timeout + 200*time.Millisecond).Milliseconds()
	waitFor(t, 5*time.Second, "the sessions expire", func() bool { return redisNow(t, st) > end })

	// Expired but not claimed yet: not found.
	if got, err := st.Read(ctx, "exp00"); got != nil || err != nil {
		t.Errorf("Read of an expired session = %v, %v; want nil, nil", got, err)
	}
	if got, err := st.Lock(ctx, "exp01"); got != nil || err != nil {
		t.Errorf("Lock of an expired session = %v, %v; want nil, nil", got, err)
	}

	var mu sync.Mutex
	claims := map[string]int{}
	total := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				finished := total >= n
				mu.Unlock()
				if finished {
					return
				}
				ended, err := st.Claim(ctx, 3)
				if err != nil {
					t.Error(err)
					return
				}
				for _, e := range ended {
					if string(e.Data) != want[e.ID] {
						t.Errorf("claimed %s with data %q, want %q", e.ID, e.Data, want[e.ID])
					}
					if err := st.Done(ctx, e.ID, e.Claim); err != nil {
						t.Error(err)
					}
				}
				mu.Lock()
				for _, e := range ended {
					claims[e.ID]++
					total++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	for id := range want {
		if claims[id] != 1 {
			t.Errorf("%s claimed %d times, want once", id, claims[id])
		}
	}
	if len(claims) != n {
		t.Errorf("claimed %d sessions, want %d", len(claims), n)
	}
	keys, err := st.Client().Keys(ctx, "lasp:s:*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("session keys left after Done: %v, %v", keys, err)
	}
	if live, err := st.Sessions(ctx); live != 0 || err != nil {
		t.Errorf("Sessions = %d, %v; want 0", live, err)
	}
	if got := claimAll(t, st); len(got) != 0 {
		t.Errorf("claimed again after Done: %v", got)
	}
}

// TestAbandonedSessionIsClaimedAgainAfterClaimFor shows that an abandoned
// session is gone for Read and Lock and belongs to the server that
// abandoned it; if that server does not call Done within ClaimFor (it died
// running Session_OnEnd), another server claims it.
func TestAbandonedSessionIsClaimedAgainAfterClaimFor(t *testing.T) {
	st, _ := open(t)
	st.ClaimFor = 300 * time.Millisecond
	ctx := ctxFor(t, 10*time.Second)
	const id = "abandoned"
	if err := st.Create(ctx, id, []byte("start"), time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := mustLock(t, st, id)
	abandonedAt := time.Now()
	if err := st.Commit(ctx, id, rec, []byte("last"), time.Minute, true, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Read(ctx, id); got != nil || err != nil {
		t.Errorf("Read of an abandoned session = %v, %v; want nil, nil", got, err)
	}
	if got, err := st.Lock(ctx, id); got != nil || err != nil {
		t.Errorf("Lock of an abandoned session = %v, %v; want nil, nil", got, err)
	}
	if _, err := st.Client().ZScore(ctx, "lasp:ending", id).Result(); err != nil {
		t.Errorf("abandoned session not in lasp:ending: %v", err)
	}
	if live, err := st.Sessions(ctx); live != 0 || err != nil {
		t.Errorf("Sessions = %d, %v; want 0", live, err)
	}

	// Nobody calls Done: another server takes it over once ClaimFor lapsed,
	// and not before.
	got := waitClaimed(t, st, "the lapsed claim is taken")
	if d := time.Since(abandonedAt); d < st.ClaimFor/2 {
		t.Errorf("claimed again %v after the abandon, before ClaimFor (%v) lapsed", d, st.ClaimFor)
	}
	if len(got) != 1 || string(got[id].Data) != "last" {
		t.Errorf("claimed %v, want %s with its last data", got, id)
	}
	if again := claimAll(t, st); len(again) != 0 {
		t.Errorf("claimed twice at once: %v", again)
	}
	// The first claimer, late: its claim lapsed, and Done leaves the
	// session to the server that claimed it since.
	if err := st.Done(ctx, id, rec.Claim); !errors.Is(err, redisstore.ErrClaimLapsed) {
		t.Errorf("Done after the claim lapsed = %v, want ErrClaimLapsed", err)
	}
	if err := st.Done(ctx, id, got[id].Claim); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Client().Exists(ctx, st.SessionKey(id)).Result(); n != 0 || err != nil {
		t.Errorf("session key after Done: exists %d, %v", n, err)
	}
	if n, err := st.Client().ZCard(ctx, "lasp:ending").Result(); n != 0 || err != nil {
		t.Errorf("lasp:ending after Done: %d entries, %v", n, err)
	}
}

// TestLockedSessionIsNotClaimed shows that a session never ends under a
// request: past its deadline it is not claimed while its holder's lease is
// alive, its commit succeeds and gives it a new deadline; once a holder's
// lease passed (its server died), the sweep takes the session.
func TestLockedSessionIsNotClaimed(t *testing.T) {
	st, _ := open(t)
	st.Lease = 400 * time.Millisecond
	ctx := ctxFor(t, 10*time.Second)
	const timeout = 100 * time.Millisecond
	if err := st.Create(ctx, "busy", []byte("busy"), timeout); err != nil {
		t.Fatal(err)
	}
	rec := mustLock(t, st, "busy")
	stop := st.Hold(st.SessionKey("busy"), rec)
	until := time.Now().Add(5 * st.Lease / 2)
	for time.Now().Before(until) {
		if got := claimAll(t, st); len(got) != 0 {
			t.Fatalf("claimed a locked session: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := st.Commit(ctx, "busy", rec, []byte("done"), time.Minute, false, ""); err != nil {
		t.Fatalf("commit of a session past its deadline under a live lease: %v", err)
	}
	if got := readData(t, st, "busy"); got != "done" {
		t.Errorf("data = %q, want %q", got, "done")
	}

	// A holder that died: the session ends once its deadline and the lease
	// passed.
	if err := st.Create(ctx, "orphan", []byte("orphan"), timeout); err != nil {
		t.Fatal(err)
	}
	mustLock(t, st, "orphan")
	got := waitClaimed(t, st, "the orphaned session is claimed")
	if len(got) != 1 || string(got["orphan"].Data) != "orphan" {
		t.Errorf("claimed %v, want only orphan", got)
	}
}

// TestReadSlidesTheDeadline shows that reading a session keeps it alive:
// read well within its timeout for several timeouts it is never claimed;
// left alone it is.
func TestReadSlidesTheDeadline(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 10*time.Second)
	const id, timeout = "read", 300 * time.Millisecond
	if err := st.Create(ctx, id, []byte("data"), timeout); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(4 * timeout)
	for time.Now().Before(until) {
		if got := readData(t, st, id); got != "data" {
			t.Fatalf("data = %q", got)
		}
		if got := claimAll(t, st); len(got) != 0 {
			t.Fatalf("claimed a session read within its timeout: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := waitClaimed(t, st, "the session is claimed once reads stop")
	if string(got[id].Data) != "data" {
		t.Errorf("claimed %v, want %s", got, id)
	}
}

// TestFrequentCommitsSlideTheDeadline: a session committed many times a
// second moves its place in the expiry set about once per 1 % of its
// timeout, not on every commit, and still expires at its deadline: it is
// not claimed before, it is claimed once the deadline passes, and Soonest
// lists it within 1 % of it.
func TestFrequentCommitsSlideTheDeadline(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 15*time.Second)
	const id, timeout, commits = "busy", 2 * time.Second, 50
	if err := st.Create(ctx, id, []byte("0"), timeout); err != nil {
		t.Fatal(err)
	}
	zadds := func() int {
		info, err := st.Client().Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		_, after, _ := strings.Cut(info, "cmdstat_zadd:calls=")
		n, _ := strconv.Atoi(strings.SplitN(after, ",", 2)[0])
		return n
	}
	before := zadds()
	a := mustLock(t, st, id)
	for i := range commits {
		if _, err := st.CommitKeep(ctx, id, a, []byte(strconv.Itoa(i)), timeout); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := st.Release(ctx, id, a); err != nil {
		t.Fatal(err)
	}
	deadline := redisNow(t, st) + timeout.Milliseconds() // the session's, or a little after
	if n := zadds() - before; n > commits/5 {
		t.Errorf("%d commits moved the session in the expiry set %d times, want at most %d", commits, n, commits/5)
	}
	list, _, err := st.Soonest(ctx, 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("Soonest = %v, %v", list, err)
	}
	if early := deadline - list[0].Deadline.UnixMilli(); early < 0 || early > timeout.Milliseconds()/100+50 {
		t.Errorf("Soonest lists the deadline %d ms early, want 0 to %d", early, timeout.Milliseconds()/100+50)
	}
	for redisNow(t, st) < deadline-100 {
		if got := claimAll(t, st); len(got) != 0 {
			t.Fatalf("claimed %v before its deadline", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := waitClaimed(t, st, "the session is claimed once its deadline passed")
	if string(got[id].Data) != strconv.Itoa(commits-1) {
		t.Errorf("claimed %v, want %s with its last commit", got, id)
	}
}

// TestLongTimeoutKeyOutlivesTheDeadline: however long the timeout, a
// session committed often keeps its key until well past its deadline
// (nine tenths of the grace at least), for the sweep to read its data.
func TestLongTimeoutKeyOutlivesTheDeadline(t *testing.T) {
	st, _ := open(t)
	st.Grace = time.Second
	ctx := ctxFor(t, 10*time.Second)
	const id, timeout = "long", 24 * time.Hour
	if err := st.Create(ctx, id, []byte("0"), timeout); err != nil {
		t.Fatal(err)
	}
	a := mustLock(t, st, id)
	for i := range 30 {
		if _, err := st.CommitKeep(ctx, id, a, []byte(strconv.Itoa(i)), timeout); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	dl, end := keyLife(t, st, id)
	if want := dl + st.Grace.Milliseconds()*9/10; end < want {
		t.Errorf("the key ends %d ms after the deadline, want at least %d", end-dl, want-dl)
	}
}

// TestDeadlineOfAnEarlierVersion: a server of an earlier version moves a
// session's deadline, score and TTL on every request, but not the field
// that records the score (x); the next commit of this version then moves
// them all again. Here the earlier server cut the timeout to an hour, and
// this one sets it back to a day at once: the key must last the day.
func TestDeadlineOfAnEarlierVersion(t *testing.T) {
	st, _ := open(t)
	st.Grace = time.Second
	ctx := ctxFor(t, 10*time.Second)
	const id, timeout = "mixed", 24 * time.Hour
	if err := st.Create(ctx, id, []byte("0"), timeout); err != nil {
		t.Fatal(err)
	}
	a := mustLock(t, st, id)
	key, hour := "lasp:s:{"+id+"}", time.Hour.Milliseconds()
	// What the earlier version's commit wrote, with a timeout of an hour.
	now := redisNow(t, st)
	if err := st.Client().HSet(ctx, key, "to", hour, "dl", now+hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Client().PExpire(ctx, key, time.Hour+st.Grace).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CommitKeep(ctx, id, a, []byte("1"), timeout); err != nil {
		t.Fatal(err)
	}
	if dl, end := keyLife(t, st, id); end < dl {
		t.Errorf("the key ends %v before the deadline", time.Duration(dl-end)*time.Millisecond)
	}
}

// TestRedisDown shows that while Redis is down the store fails promptly
// with an error (never a nil session, which would mean "no such session"),
// and that once Redis is back the same Store works again, with the data
// it had.
func TestRedisDown(t *testing.T) {
	st, srv := open(t)
	ctx := ctxFor(t, 30*time.Second)
	if err := st.Create(ctx, "kept", []byte("kept"), time.Hour); err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	calls := []struct {
		name string
		call func(context.Context) (any, error)
	}{
		{"Lock", func(ctx context.Context) (any, error) { return st.Lock(ctx, "kept") }},
		{"Read", func(ctx context.Context) (any, error) { return st.Read(ctx, "kept") }},
		{"Create", func(ctx context.Context) (any, error) {
			return nil, st.Create(ctx, "new", []byte("new"), time.Hour)
		}},
		{"Claim", func(ctx context.Context) (any, error) { return st.Claim(ctx, 10) }},
	}
	for _, c := range calls {
		start := time.Now()
		_, err := c.call(ctx)
		d := time.Since(start)
		t.Logf("%s with Redis down: %v after %v", c.name, err, d)
		if d > 5*time.Second {
			t.Errorf("%s with Redis down took %v", c.name, d)
		}
		if err == nil {
			t.Errorf("%s with Redis down: no error", c.name)
		}
	}

	srv.Start()
	if got := readData(t, st, "kept"); got != "kept" {
		t.Errorf("after the restart, data = %q, want %q", got, "kept")
	}
	rec := mustLock(t, st, "kept")
	if err := st.Commit(ctx, "kept", rec, []byte("after"), time.Hour, false, ""); err != nil {
		t.Fatal(err)
	}
	if got := readData(t, st, "kept"); got != "after" {
		t.Errorf("data = %q, want %q", got, "after")
	}
	if err := st.Create(ctx, "new", []byte("new"), time.Hour); err != nil {
		t.Fatal(err)
	}
}

// TestSoonest: Soonest lists the sessions that expire soonest, at most n,
// with their deadlines, and counts them all.
func TestSoonest(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 10*time.Second)
	for i, id := range []string{"s3", "s1", "s2"} {
		if err := st.Create(ctx, id, nil, time.Duration(i+1)*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	list, total, err := st.Soonest(ctx, 2)
	if err != nil || total != 3 || len(list) != 2 || list[0].ID != "s3" || list[1].ID != "s1" {
		t.Fatalf("Soonest(2) = %+v, %d, %v; want s3 and s1 of 3", list, total, err)
	}
	if d := time.Until(list[0].Deadline); d <= 59*time.Minute || d > time.Hour+time.Minute {
		t.Errorf("s3 expires in %v, want about an hour", d)
	}
}

// TestKeptLock: a holder that keeps its lock (CommitKeep, Keep) commits
// again under it, each commit applied once (a copy of the last changes
// nothing); a server that asks for the lock is heard (OnWanted), gets it
// once the keeper gives it back, and sees what the keeper committed last;
// from then on the keeper's commits are refused, and Keep says it holds
// nothing. With a waiter queued, CommitKeep releases instead of keeping.
func TestKeptLock(t *testing.T) {
	st, srv := open(t)
	other := openOn(t, srv) // a second server of the farm
	ctx := ctxFor(t, 15*time.Second)
	const id = "kept"
	if err := st.Create(ctx, id, []byte("0"), time.Minute); err != nil {
		t.Fatal(err)
	}
	a := mustLock(t, st, id)
	for i, data := range []string{"1", "2"} {
		before := a.HeldUntil()
		kept, err := st.CommitKeep(ctx, id, a, []byte(data), time.Minute)
		if err != nil || !kept {
			t.Fatalf("commit %d: CommitKeep = %v, %v; want kept", i+1, kept, err)
		}
		if !a.HeldUntil().After(before) {
			t.Errorf("commit %d: HeldUntil %v, not after %v", i+1, a.HeldUntil(), before)
		}
	}
	a.Again()
	if kept, err := st.CommitKeep(ctx, id, a, []byte("2 again"), time.Minute); err != nil || !kept {
		t.Errorf("the last commit sent again = %v, %v; want kept, nil", kept, err)
	}
	if got := readData(t, st, id); got != "2" {
		t.Errorf("data = %q, want %q", got, "2")
	}
	// Copies of both commits that Redis runs late, after the second: the
	// first's does not undo the second.
	a.Again()
	a.Again()
	for i, data := range []string{"1 late", "2 late"} {
		if kept, err := st.CommitKeep(ctx, id, a, []byte(data), time.Minute); err != nil || !kept {
			t.Errorf("a late copy of commit %d = %v, %v; want kept, nil", i+1, kept, err)
		}
		if got := readData(t, st, id); got != "2" {
			t.Errorf("after a late copy of commit %d, data = %q, want %q", i+1, got, "2")
		}
	}
	if kept, err := st.Keep(ctx, id, a); err != nil || !kept {
		t.Errorf("Keep = %v, %v; want kept", kept, err)
	}

	wanted := make(chan string, 10)
	st.OnWanted(func(id string) { wanted <- id })
	took := make(chan *redisstore.Record, 1)
	go func() {
		rec, err := other.Lock(ctx, id)
		if err != nil {
			t.Error(err)
		}
		took <- rec
	}()
	select {
	case got := <-wanted:
		if got != id {
			t.Errorf("wanted %q, want %q", got, id)
		}
	case <-ctx.Done():
		t.Fatal("the keeper was never told that its lock is wanted")
	}
	if err := st.Release(ctx, id, a); err != nil {
		t.Fatal(err)
	}
	b := <-took
	if b == nil || string(b.Data) != "2" || b.Fence != a.Fence+1 {
		t.Fatalf("the other server took %+v, want data 2 and fence %d", b, a.Fence+1)
	}
	// The keeper, late: refused, and it holds nothing.
	if _, err := st.CommitKeep(ctx, id, a, []byte("stale"), time.Minute); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("the old keeper's commit = %v, want ErrLeaseLost", err)
	}
	if kept, err := st.Keep(ctx, id, a); kept || err != nil {
		t.Errorf("the old keeper's Keep = %v, %v; want not kept", kept, err)
	}

	// b keeps it; a queues (its second request) and b's next commit
	// releases to it.
	if kept, err := other.CommitKeep(ctx, id, b, []byte("3"), time.Minute); err != nil || !kept {
		t.Fatalf("CommitKeep = %v, %v; want kept", kept, err)
	}
	// A copy of the keeper's last commit, sent after it gave the lock back
	// and b committed (as when an operator breaks the lock while the
	// keeper awaits that commit's reply): still known to have applied.
	a.Again()
	a.Again()
	if kept, err := st.CommitKeep(ctx, id, a, []byte("2 again"), time.Minute); err != nil || kept {
		t.Errorf("the old keeper's last commit sent again = %v, %v; want applied (nil), not kept", kept, err)
	}
	if got := readData(t, st, id); got != "3" {
		t.Errorf("data = %q, want %q", got, "3")
	}
	go func() {
		rec, err := st.Lock(ctx, id)
		if err != nil {
			t.Error(err)
		}
		took <- rec
	}()
	waitFor(t, 5*time.Second, "a queued", func() bool { return queued(t, st, id) == 1 })
	if kept, err := other.CommitKeep(ctx, id, b, []byte("4"), time.Minute); err != nil || kept {
		t.Errorf("CommitKeep with a waiter = %v, %v; want released", kept, err)
	}
	if a2 := <-took; a2 == nil || string(a2.Data) != "4" {
		t.Errorf("the waiter took %+v, want data 4", a2)
	}
	if got := readData(t, st, id); got != "4" {
		t.Errorf("data = %q, want 4", got)
	}
}

// TestKeptLockOfADeadKeeper: a server that dies keeping a lock (nobody
// gives it back) blocks the session no longer than the lease: another
// server then takes it, with what the dead keeper committed last.
func TestKeptLockOfADeadKeeper(t *testing.T) {
	st, srv := open(t)
	st.Lease = 500 * time.Millisecond
	other := openOn(t, srv)
	ctx := ctxFor(t, 15*time.Second)
	const id = "dead"
	if err := st.Create(ctx, id, []byte("0"), time.Minute); err != nil {
		t.Fatal(err)
	}
	a := mustLock(t, st, id)
	if kept, err := st.CommitKeep(ctx, id, a, []byte("last"), time.Minute); err != nil || !kept {
		t.Fatalf("CommitKeep = %v, %v; want kept", kept, err)
	}
	st.Close() // the keeper dies
	start := time.Now()
	b, err := other.Lock(ctx, id)
	waited := time.Since(start)
	if err != nil || b == nil || string(b.Data) != "last" {
		t.Fatalf("Lock after the keeper died = %+v, %v; want the data %q", b, err, "last")
	}
	if waited > st.Lease+2*time.Second {
		t.Errorf("waited %v for a lock whose lease is %v", waited, st.Lease)
	}
	t.Logf("waited %v for the lock of a dead keeper (lease %v)", waited, st.Lease)

	// The keeper was not dead but cut off, and its commit's reply lost:
	// sent again after the other server took over and committed, it is
	// still known to have applied, and changes nothing.
	if err := other.Commit(ctx, id, b, []byte("other"), time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}
	late := openOn(t, srv)
	a.Again()
	if kept, err := late.CommitKeep(ctx, id, a, []byte("last again"), time.Minute); err != nil || kept {
		t.Errorf("the dead keeper's last commit sent again = %v, %v; want applied (nil), not kept", kept, err)
	}
	if got := readData(t, other, id); got != "other" {
		t.Errorf("data = %q, want %q", got, "other")
	}
	if _, err := late.CommitKeep(ctx, id, a, []byte("stale"), time.Minute); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("the dead keeper's next commit = %v, want ErrLeaseLost", err)
	}
}
