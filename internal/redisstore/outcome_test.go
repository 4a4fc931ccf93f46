package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"lasp/internal/redisstore"
)

// warm makes the store's pool hold at least n connections, so that n calls
// made while Redis is paused are sent at once, each on its own connection
// (a connection made during a pause waits for its handshake instead).
func warm(t *testing.T, st *redisstore.Store, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := st.Client().BLPop(t.Context(), 100*time.Millisecond, fmt.Sprintf("lasp:test:warm%d", i)).Err(); err != nil && !errors.Is(err, redis.Nil) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// prime runs each write of the store once, so that Redis knows its
// script: a copy that Redis runs late then runs the script itself, not
// EVALSHA's refusal of a script it does not know (which go-redis answers
// by sending the script, on a connection that may be gone by then).
func prime(t *testing.T, st *redisstore.Store) {
	t.Helper()
	ctx := t.Context()
	if err := st.Create(ctx, "prime", nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := mustLock(t, st, "prime")
	if err := st.Commit(ctx, "prime", rec, nil, time.Minute, true, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Done(ctx, "prime", rec.Claim); err != nil {
		t.Fatal(err)
	}
	if err := st.AppSet(ctx, "prime", []byte("prime"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, 0); err != nil {
		t.Fatal(err)
	}
}

// appValue is the entry Redis holds for an Application key ("" if none).
func appValue(t *testing.T, st *redisstore.Store, field string) string {
	t.Helper()
	b, err := st.AppGet(t.Context(), field)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCommitReplayed shows that a commit is idempotent: sent again with
// the same token (as Commit does while it waits for the outcome, or as a
// stalled Redis runs a copy late), it is recognised as applied and applies
// nothing, even after another request committed since; and that a commit
// after its lease is refused however often it is sent.
func TestCommitReplayed(t *testing.T) {
	st, _ := open(t)
	ctx := ctxFor(t, 10*time.Second)
	const id = "replayed"
	if err := st.Create(ctx, id, []byte("0"), time.Minute); err != nil {
		t.Fatal(err)
	}

	a := mustLock(t, st, id)
	if err := st.Commit(ctx, id, a, []byte("A"), time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}
	a.Again()
	if err := st.Commit(ctx, id, a, []byte("A"), time.Minute, false, ""); err != nil {
		t.Errorf("A's commit sent again = %v, want nil (applied)", err)
	}
	b := mustLock(t, st, id)
	if err := st.Commit(ctx, id, b, []byte("B"), time.Minute, false, ""); err != nil {
		t.Fatal(err)
	}
	// A's commit arrives again after B's: still applied, and B's work stands.
	a.Again()
	if err := st.Commit(ctx, id, a, []byte("A"), time.Minute, false, ""); err != nil {
		t.Errorf("A's commit sent again after B's = %v, want nil (applied)", err)
	}
	// Whatever a replay carries, it changes nothing.
	b.Again()
	if err := st.Commit(ctx, id, b, []byte("B twice"), time.Minute, true, ""); err != nil {
		t.Errorf("B's commit sent again = %v, want nil (applied)", err)
	}
	if got := readData(t, st, id); got != "B" {
		t.Errorf("data = %q, want B's %q", got, "B")
	}

	// An abandon sent again is still an abandon, claimed by its token.
	c := mustLock(t, st, id)
	for i := range 2 {
		if i > 0 {
			c.Again()
		}
		if err := st.Commit(ctx, id, c, []byte("C"), time.Minute, true, ""); err != nil {
			t.Fatalf("abandon: %v", err)
		}
	}
	if got, err := st.Read(ctx, id); got != nil || err != nil {
		t.Errorf("Read after the abandon = %v, %v; want nil, nil", got, err)
	}
	if err := st.Done(ctx, id, c.Claim); err != nil {
		t.Errorf("Done with the abandon's token: %v", err)
	}
	if err := st.Done(ctx, id, c.Claim); err != nil {
		t.Errorf("Done sent again: %v", err)
	}

	// Past its lease, a commit is refused, and stays refused.
	st.Lease = 300 * time.Millisecond
	const late = "late"
	if err := st.Create(ctx, late, []byte("before"), time.Minute); err != nil {
		t.Fatal(err)
	}
	l := mustLock(t, st, late)
	end := redisNow(t, st) + st.Lease.Milliseconds()
	waitFor(t, 5*time.Second, "the lease passes", func() bool { return redisNow(t, st) > end })
	for i := range 3 {
		if err := st.Commit(ctx, late, l, []byte("after"), time.Minute, false, ""); !errors.Is(err, redisstore.ErrLeaseLost) {
			t.Errorf("late commit, try %d = %v, want ErrLeaseLost", i+1, err)
		}
	}
	if got := readData(t, st, late); got != "before" {
		t.Errorf("after refused commits, data = %q, want %q", got, "before")
	}
}

// TestLostRepliesAreAskedAgain pauses Redis (SIGSTOP) while every kind of
// write waits for its reply, past go-redis's read timeout (2 s) twice, so
// that the store asks again; Redis runs every copy when it resumes, and
// each write still reports what happened, once: the commit is saved (not
// refused by its own earlier copy), the new session made, the Application
// writes made, the claim hands over its sessions and the finished session
// is gone.
func TestLostRepliesAreAskedAgain(t *testing.T) {
	st, srv := open(t)
	st.Lease = 8 * time.Second // past the pause: every outcome is known
	ctx := ctxFor(t, 30*time.Second)

	if err := st.Create(ctx, "commit", []byte("before"), time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := mustLock(t, st, "commit")
	if err := st.Create(ctx, "ended", []byte("ended"), time.Minute); err != nil {
		t.Fatal(err)
	}
	ended := mustLock(t, st, "ended")
	if err := st.Commit(ctx, "ended", ended, nil, time.Minute, true, ""); err != nil {
		t.Fatal(err)
	}
	const expired = 5
	for i := range expired {
		if err := st.Create(ctx, fmt.Sprintf("exp%d", i), []byte("expired"), time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	at := redisNow(t, st) + 10
	waitFor(t, 5*time.Second, "the sessions expire", func() bool { return redisNow(t, st) > at })
	lock, err := st.AppLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prime(t, st)
	warm(t, st, 12)

	var claimed []redisstore.Ended
	calls := map[string]func(context.Context) error{
		"Commit": func(ctx context.Context) error {
			return st.Commit(ctx, "commit", rec, []byte("after"), time.Minute, false, "")
		},
		"Create":        func(ctx context.Context) error { return st.Create(ctx, "new", []byte("new"), time.Minute) },
		"AppSet":        func(ctx context.Context) error { return st.AppSet(ctx, "plain", []byte("plain"), nil) },
		"AppSet locked": func(ctx context.Context) error { return st.AppSet(ctx, "locked", []byte("locked"), lock) },
		"Done":          func(ctx context.Context) error { return st.Done(ctx, "ended", ended.Claim) },
		"Claim": func(ctx context.Context) (err error) {
			claimed, err = st.Claim(ctx, 100)
			return err
		},
	}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	srv.Pause()
	for name, call := range calls {
		wg.Go(func() {
			err := call(ctx)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	time.Sleep(5 * time.Second) // replies are lost, and copies sent again wait too
	srv.Resume()
	wg.Wait()

	for name := range calls {
		if errs[name] != nil {
			t.Errorf("%s across the pause: %v, want nil", name, errs[name])
		}
	}
	if got := readData(t, st, "commit"); got != "after" {
		t.Errorf("committed data = %q, want %q", got, "after")
	}
	if got := readData(t, st, "new"); got != "new" {
		t.Errorf("created data = %q, want %q", got, "new")
	}
	for _, f := range []string{"plain", "locked"} {
		if got := appValue(t, st, f); got != f {
			t.Errorf("Application %s = %q, want %q", f, got, f)
		}
	}
	if n, err := st.Client().Exists(ctx, st.SessionKey("ended")).Result(); n != 0 || err != nil {
		t.Errorf("the finished session: exists %d, %v; want gone", n, err)
	}
	if len(claimed) != expired {
		t.Errorf("Claim across the pause returned %d sessions, want the %d expired ones", len(claimed), expired)
	}
	if again := claimAll(t, st); len(again) != 0 {
		t.Errorf("claimed again at once: %v", again)
	}
}

// TestLateWritesAfterTheLeaseAreRefused pauses Redis for longer than the
// lease while a commit and a write under Application:Lock() wait for their
// replies: they give up when the lease ends (ErrUnknown: neither applied
// nor refused for sure), and when Redis resumes and runs them late, it
// refuses them, for the lease is checked by Redis's clock as the script
// runs. A write without the lock has no lease: it applies late.
func TestLateWritesAfterTheLeaseAreRefused(t *testing.T) {
	st, srv := open(t)
	st.Lease = time.Second
	ctx := ctxFor(t, 30*time.Second)
	if err := st.Create(ctx, "late", []byte("before"), time.Minute); err != nil {
		t.Fatal(err)
	}
	rec := mustLock(t, st, "late")
	locked := time.Now()
	lock, err := st.AppLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prime(t, st)
	warm(t, st, 4)

	calls := map[string]func(context.Context) error{
		"Commit": func(ctx context.Context) error {
			return st.Commit(ctx, "late", rec, []byte("after"), time.Minute, false, "")
		},
		"AppSet locked": func(ctx context.Context) error { return st.AppSet(ctx, "locked", []byte("late"), lock) },
		"AppSet":        func(ctx context.Context) error { return st.AppSet(ctx, "plain", []byte("late"), nil) },
	}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	srv.Pause()
	start := time.Now()
	for name, call := range calls {
		wg.Go(func() {
			err := call(ctx)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	waited := time.Since(start)
	time.Sleep(time.Until(locked.Add(2 * st.Lease))) // Redis stays paused past the lease
	srv.Resume()

	for name := range calls {
		if !errors.Is(errs[name], redisstore.ErrUnknown) {
			t.Errorf("%s with Redis paused: %v, want ErrUnknown", name, errs[name])
		}
	}
	// The first attempt lasts go-redis's read timeout (2 s); the writes ask
	// again until the lease has passed since it began.
	if waited > st.Lease+5*time.Second {
		t.Errorf("the writes waited %v for their outcome, want the lease (%v) after go-redis's first try", waited, st.Lease)
	}
	// The write without the lock shows that Redis ran what waited.
	waitFor(t, 5*time.Second, "the late plain write", func() bool { return appValue(t, st, "plain") == "late" })
	if got := readData(t, st, "late"); got != "before" {
		t.Errorf("a commit run after its lease applied: data = %q, want %q", got, "before")
	}
	if got := appValue(t, st, "locked"); got != "" {
		t.Errorf("a write under Application:Lock() run after its lease applied: %q", got)
	}
	if err := st.Commit(ctx, "late", rec, []byte("after"), time.Minute, false, ""); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("the late commit sent again = %v, want ErrLeaseLost", err)
	}
}
