package framework

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lasp/internal/redisstore"
	"lasp/scope"
	"lasp/scripting"
)

// farmApp is Application as one run sees it when the farm shares it in
// Redis (-application-store redis://…): every read and write goes to Redis,
// and Application:Lock() is farm-wide. Writes made while holding the lock
// carry its token and fence, so a page that held the lock past its lease
// cannot overwrite what the next holder did.
type farmApp struct {
	s   *Server
	st  *redisstore.Store
	ctx context.Context

	owner any
	held  *redisstore.Record // while the run holds Application:Lock()
	count int                // how many times it locked it
	stop  func()             // stops renewing the lease
}

var (
	_ scripting.Contents = (*farmApp)(nil)
	_ scripting.Locker   = (*farmApp)(nil)
)

func (a *farmApp) Name() string { return "Application" }

// call bounds a Redis call and turns its failure into errStoreDown (503),
// unless it is a write whose outcome Redis did not tell: a write asks
// again while its reply is lost (redisstore.Store.AppSet, bounded by the
// lease rather than by this call), and one that may have applied must not
// answer 503.
func (a *farmApp) call(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	err := f(ctx)
	if errors.Is(err, redisstore.ErrLeaseLost) {
		return fmt.Errorf("Application: the write was refused: this page held Application:Lock() past its lease")
	}
	if errors.Is(err, redisstore.ErrUnknown) {
		return fmt.Errorf("Application: %w", err)
	}
	if err != nil && a.ctx.Err() == nil {
		return fmt.Errorf("Application: %w", a.s.storeDown("application", err))
	}
	return err
}

func (a *farmApp) Get(key string) (scope.Value, bool, error) {
	var entry []byte
	err := a.call(func(ctx context.Context) (err error) {
		entry, err = a.st.AppGet(ctx, scope.Fold(key))
		return err
	})
	if err != nil || entry == nil {
		return nil, false, err
	}
	c := scope.NewContents("Application")
	if err := c.UnmarshalBinary(entry); err != nil {
		return nil, false, err
	}
	v, ok := c.Get(key)
	return v, ok, nil
}

func (a *farmApp) Set(key string, v scope.Value) error {
	if v == nil {
		return a.Remove(key)
	}
	c := scope.NewContents("Application")
	if err := c.Set(key, v); err != nil {
		return err
	}
	entry, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	return a.call(func(ctx context.Context) error { return a.st.AppSet(ctx, scope.Fold(key), entry, a.held) })
}

func (a *farmApp) Remove(key string) error {
	return a.call(func(ctx context.Context) error { return a.st.AppSet(ctx, scope.Fold(key), nil, a.held) })
}

func (a *farmApp) RemoveAll() error {
	return a.call(func(ctx context.Context) error { return a.st.AppSet(ctx, "", nil, a.held) })
}

func (a *farmApp) Keys() ([]string, error) {
	var entries []string
	if err := a.call(func(ctx context.Context) (err error) {
		entries, err = a.st.AppAll(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		c := scope.NewContents("Application")
		if err := c.UnmarshalBinary([]byte(e)); err != nil {
			return nil, err
		}
		keys = append(keys, c.Keys()...)
	}
	return keys, nil
}

func (a *farmApp) Len() (int, error) {
	var n int64
	err := a.call(func(ctx context.Context) (err error) {
		n, err = a.st.AppLen(ctx)
		return err
	})
	return int(n), err
}

// Lock takes Application:Lock() for the farm, waiting in arrival order as
// long as ctx allows; a run may take it again while it holds it.
func (a *farmApp) Lock(ctx context.Context, owner any) error {
	if a.held != nil {
		if owner != a.owner {
			return errors.New("Application:Lock is held by another run of this apartment")
		}
		a.count++
		return nil
	}
	rec, err := a.st.AppLock(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return a.s.storeDown("application", err)
	}
	a.owner, a.held, a.count = owner, rec, 1
	a.stop = a.st.AppHold(rec)
	return nil
}

func (a *farmApp) Unlock(owner any) error {
	if a.held == nil || owner != a.owner {
		return scope.ErrNotLocked
	}
	if a.count--; a.count > 0 {
		return nil
	}
	a.release()
	return nil
}

func (a *farmApp) ReleaseAll(owner any) {
	if a.held != nil && owner == a.owner {
		a.release()
	}
}

func (a *farmApp) release() {
	a.stop()
	held := a.held
	a.held, a.owner, a.count = nil, nil, 0
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.ctx), 2*time.Second)
	defer cancel()
	if err := a.st.AppUnlock(ctx, held); err != nil {
		a.s.log.Error("releasing Application:Lock in Redis", "err", err.Error()) // its lease ends it
	}
}

// application is Application and its lock for a run under ctx.
func (s *Server) application(ctx context.Context) (scripting.Contents, scripting.Locker) {
	if s.farmApp == nil {
		return s.appContents, &s.appLock
	}
	a := &farmApp{s: s, st: s.farmApp, ctx: ctx}
	return a, a
}

// storeDown wraps an error of a Redis store (which: "session" or
// "application") as errStoreDown, which answers 503, and logs it, at most
// once every 5 seconds per store: while Redis is down every request fails
// the same way.
func (s *Server) storeDown(which string, err error) error {
	s.downMu.Lock()
	if s.downLast == nil {
		s.downLast = map[string]storeError{}
	}
	s.downLast[which] = storeError{err.Error(), time.Now()}
	if s.metrics != nil {
		s.metrics.storeErrs.WithLabelValues(which).Inc()
	}
	if last := s.downLog[which]; time.Since(last) > 5*time.Second {
		if s.downLog == nil {
			s.downLog = map[string]time.Time{}
		}
		s.downLog[which] = time.Now()
		s.log.Error("the Redis "+which+" store does not answer", "err", err.Error())
	}
	s.downMu.Unlock()
	return fmt.Errorf("%w: %v", errStoreDown, err)
}
