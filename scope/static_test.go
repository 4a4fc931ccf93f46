package scope

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// component is a static object that records its Terminate calls.
type component struct {
	testObject
	id         string
	terminated atomic.Int32
	log        *terminations
	err        error // Terminate's answer
	panics     bool  // Terminate panics
}

func (c *component) Terminate() error {
	c.terminated.Add(1)
	c.log.add(c.id)
	if c.panics {
		panic("terminate failed")
	}
	return c.err
}

// terminations records the order of Terminate calls.
type terminations struct {
	mu  sync.Mutex
	ids []string
}

func (t *terminations) add(id string) {
	t.mu.Lock()
	t.ids = append(t.ids, id)
	t.mu.Unlock()
}

func (t *terminations) list() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.ids)
}

// counted is a factory that counts its calls and makes components.
type counted struct {
	calls atomic.Int32
	made  []*component
	mu    sync.Mutex
}

func (f *counted) factory(id string, log *terminations, wait <-chan struct{}) Factory {
	return func(ctx context.Context) (Object, error) {
		f.calls.Add(1)
		if wait != nil {
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		c := &component{testObject: testObject{progID: "Test." + id, threading: Agile}, id: id, log: log}
		f.mu.Lock()
		f.made = append(f.made, c)
		f.mu.Unlock()
		return c, nil
	}
}

func TestStaticsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &terminations{}
		var dog, cat counted
		release := make(chan struct{})
		s := NewStatics(map[string]Factory{
			"s_fido":   dog.factory("s_fido", log, release),
			"g_morris": cat.factory("g_morris", log, nil),
		})
		if got := s.IDs(); !slices.Equal(got, []string{"g_morris", "s_fido"}) {
			t.Errorf("IDs() = %q", got)
		}

		objs := make([]Object, 100)
		var wg sync.WaitGroup
		for i := range objs {
			wg.Go(func() {
				o, err := s.Get(t.Context(), "s_fido")
				if err != nil {
					t.Error(err)
				}
				objs[i] = o
			})
		}
		synctest.Wait() // all 100 are asking, one is creating
		if n := dog.calls.Load(); n != 1 {
			t.Fatalf("factory called %d times while creating, want 1", n)
		}
		close(release)
		wg.Wait()
		if n := dog.calls.Load(); n != 1 {
			t.Errorf("factory called %d times, want 1", n)
		}
		for i, o := range objs {
			if o == nil || o != objs[0] {
				t.Fatalf("Get %d returned %v, not the one object %v", i, o, objs[0])
			}
		}
		if o, err := s.Get(t.Context(), "s_fido"); err != nil || o != objs[0] {
			t.Errorf("a later Get: %v, %v", o, err)
		}
		if n := cat.calls.Load(); n != 0 {
			t.Errorf("a never-referenced object was created %d times", n)
		}

		if err := s.Close(t.Context()); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := s.Close(t.Context()); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if n := dog.made[0].terminated.Load(); n != 1 {
			t.Errorf("Terminate called %d times, want 1", n)
		}
		if n := cat.calls.Load(); n != 0 {
			t.Errorf("Close created a never-referenced object")
		}
		if _, err := s.Get(t.Context(), "s_fido"); !errors.Is(err, ErrClosed) {
			t.Errorf("Get after Close: %v, want ErrClosed", err)
		}
	})
}

func TestStaticsUnknown(t *testing.T) {
	s := NewStatics(nil)
	_, err := s.Get(context.Background(), "nope")
	if !errors.Is(err, ErrUnknownObject) || err.Error() != `no such static object: "nope"` {
		t.Errorf("Get of an unknown id: %v", err)
	}
	if len(s.IDs()) != 0 {
		t.Errorf("IDs() = %q", s.IDs())
	}
}

func TestStaticsFailureIsNotCached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("Initialize failed")
		var calls atomic.Int32
		release := make(chan struct{})
		want := &testObject{progID: "Animals.Dog", threading: Agile}
		s := NewStatics(map[string]Factory{"dog": func(ctx context.Context) (Object, error) {
			if calls.Add(1) == 1 {
				<-release
				return nil, boom
			}
			return want, nil
		}})
		errs := make(chan error, 10)
		for range 10 {
			go func() {
				_, err := s.Get(t.Context(), "dog")
				errs <- err
			}()
		}
		synctest.Wait()
		close(release)
		for range 10 {
			if err := <-errs; !errors.Is(err, boom) || err.Error() != "creating static object dog: Initialize failed" {
				t.Errorf("a waiter of the failed attempt got %v", err)
			}
		}
		o, err := s.Get(t.Context(), "dog")
		if err != nil || o != Object(want) {
			t.Errorf("the retry: %v, %v", o, err)
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("factory called %d times, want 2", n)
		}
	})
}

func TestStaticsFactoryErrors(t *testing.T) {
	tests := []struct {
		name    string
		factory Factory
		want    string
	}{
		{
			name:    "no object",
			factory: func(context.Context) (Object, error) { return nil, nil },
			want:    "creating static object x: the factory returned no object",
		},
		{
			name:    "error",
			factory: func(context.Context) (Object, error) { return nil, errors.New("bad progid") },
			want:    "creating static object x: bad progid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStatics(map[string]Factory{"x": tt.factory})
			if _, err := s.Get(context.Background(), "x"); err == nil || err.Error() != tt.want {
				t.Errorf("Get: %v, want %s", err, tt.want)
			}
		})
	}
}

func TestStaticsFactoryPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int32
		s := NewStatics(map[string]Factory{"x": func(context.Context) (Object, error) {
			if calls.Add(1) == 1 {
				<-release
				panic("factory bug")
			}
			return dict, nil
		}})
		panicked := make(chan any)
		go func() {
			defer func() { panicked <- recover() }()
			_, _ = s.Get(t.Context(), "x")
		}()
		synctest.Wait()
		waiter := make(chan error)
		go func() {
			_, err := s.Get(t.Context(), "x")
			waiter <- err
		}()
		synctest.Wait()
		close(release)
		if p := <-panicked; p != "factory bug" {
			t.Errorf("the creator's panic = %v, want it to go on", p)
		}
		if err := <-waiter; err == nil || err.Error() != "creating static object x: the factory panicked" {
			t.Errorf("the waiter got %v", err)
		}
		if o, err := s.Get(t.Context(), "x"); err != nil || o != Object(dict) {
			t.Errorf("the retry: %v, %v", o, err)
		}
	})
}

func TestStaticsWaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var f counted
		release := make(chan struct{})
		s := NewStatics(map[string]Factory{"x": f.factory("x", &terminations{}, release)})
		created := make(chan Object)
		go func() {
			o, err := s.Get(t.Context(), "x")
			if err != nil {
				t.Error(err)
			}
			created <- o
		}()
		synctest.Wait()

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		if _, err := s.Get(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a waiter past its deadline got %v", err)
		}
		if waited := time.Since(start); waited != time.Second {
			t.Errorf("the waiter returned after %v, want 1s", waited)
		}
		close(release) // the creation goes on for the one who asked first
		o := <-created
		if got, err := s.Get(t.Context(), "x"); err != nil || got != o {
			t.Errorf("after the creation: %v, %v", got, err)
		}
		if n := f.calls.Load(); n != 1 {
			t.Errorf("factory called %d times, want 1", n)
		}

		done, cancelDone := context.WithCancel(t.Context())
		cancelDone()
		if _, err := s.Get(done, "x"); !errors.Is(err, context.Canceled) {
			t.Errorf("Get with a context already done: %v", err)
		}
	})
}

func TestStaticsClose(t *testing.T) {
	log := &terminations{}
	bad := errors.New("cannot stop")
	a := &component{id: "a", log: log}
	b := &component{id: "b", log: log, err: bad}
	c := &component{id: "c", log: log, panics: true}
	d := &component{id: "d", log: log}
	plain := &testObject{progID: "No.Terminate", threading: Agile}
	objects := map[string]Object{"a": a, "b": b, "c": c, "d": d, "plain": plain}
	decls := map[string]Factory{}
	for id, o := range objects {
		decls[id] = func(context.Context) (Object, error) { return o, nil }
	}
	s := NewStatics(decls)
	ctx := context.Background()
	for _, id := range []string{"c", "plain", "a", "b"} { // d: never referenced
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Close(ctx)
	if want := []string{"b", "a", "c"}; !slices.Equal(log.list(), want) {
		t.Errorf("terminated %q, want %q (reverse creation order)", log.list(), want)
	}
	if !errors.Is(err, bad) {
		t.Errorf("Close error %v does not wrap Terminate's error", err)
	}
	want := "terminating static object b: cannot stop\nterminating static object c: panic: terminate failed"
	if err == nil || err.Error() != want {
		t.Errorf("Close error:\n got %v\nwant %s", err, want)
	}
	for _, o := range []*component{a, b, c, d} {
		want := int32(1)
		if o == d {
			want = 0
		}
		if n := o.terminated.Load(); n != want {
			t.Errorf("%s terminated %d times, want %d", o.id, n, want)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if len(log.list()) != 3 {
		t.Errorf("a second Close terminated again: %q", log.list())
	}
}

// TestStaticsCloseDuringCreation: Close waits for a creation in progress and
// terminates what it made; the creator is told the scope has ended.
func TestStaticsCloseDuringCreation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &terminations{}
		var f counted
		release := make(chan struct{})
		s := NewStatics(map[string]Factory{"x": f.factory("x", log, release)})
		got := make(chan error)
		go func() {
			_, err := s.Get(t.Context(), "x")
			got <- err
		}()
		synctest.Wait()
		closed := make(chan error)
		go func() { closed <- s.Close(t.Context()) }()
		synctest.Wait() // Close is waiting for the creation
		if _, err := s.Get(t.Context(), "x"); !errors.Is(err, ErrClosed) {
			t.Errorf("Get while closing: %v, want ErrClosed", err)
		}
		close(release)
		if err := <-got; !errors.Is(err, ErrClosed) {
			t.Errorf("the creator got %v, want ErrClosed", err)
		}
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
		if !slices.Equal(log.list(), []string{"x"}) {
			t.Errorf("terminated %q, want the object created while closing", log.list())
		}
	})
}

// TestStaticsCloseGivesUp: Close stops waiting when its context ends; an
// object created after that is terminated by its creator.
func TestStaticsCloseGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &terminations{}
		var f counted
		release := make(chan struct{})
		s := NewStatics(map[string]Factory{"x": f.factory("x", log, release)})
		got := make(chan error)
		go func() {
			_, err := s.Get(t.Context(), "x")
			got <- err
		}()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := s.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v, want DeadlineExceeded", err)
		}
		close(release)
		if err := <-got; !errors.Is(err, ErrClosed) {
			t.Errorf("the creator got %v, want ErrClosed", err)
		}
		if !slices.Equal(log.list(), []string{"x"}) {
			t.Errorf("terminated %q, want the object created after Close", log.list())
		}
	})
}

// TestStaticsCreated: Created lists the objects created so far, in order
// of creation, and none once the scope has ended.
func TestStaticsCreated(t *testing.T) {
	var f counted
	log := &terminations{}
	s := NewStatics(map[string]Factory{"a": f.factory("a", log, nil), "b": f.factory("b", log, nil), "c": f.factory("c", log, nil)})
	ctx := t.Context()
	if got := s.Created(); len(got) != 0 {
		t.Errorf("before any Get: %v", got)
	}
	for _, id := range []string{"c", "a", "c"} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Created()
	if !slices.Equal(got, []string{"c", "a"}) {
		t.Errorf("Created() = %v, want [c a]", got)
	}
	got[0] = "changed" // a copy
	if again := s.Created(); again[0] != "c" {
		t.Errorf("Created() shares its slice: %v", again)
	}
	s.Close(ctx)
	if got := s.Created(); len(got) != 0 {
		t.Errorf("after Close: %v", got)
	}
}
