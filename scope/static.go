package scope

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// ErrClosed is the answer of Statics.Get once the scope has ended (Close).
var ErrClosed = errors.New("the scope has ended")

// ErrUnknownObject is wrapped by Statics.Get's error for an id that was
// never declared.
var ErrUnknownObject = errors.New("no such static object")

// Factory creates the object declared under one id. ctx is the context of
// the Get that asked first; the factory should give up when it ends.
type Factory func(ctx context.Context) (Object, error)

// Statics holds the objects declared in global.lasa for one scope (the
// Application, or one Session): Application.StaticObjects and
// Session.StaticObjects. It is safe for use by many goroutines at once.
//
// An object is created on its first reference by id, exactly once, even when
// many requests reference it at the same moment: the first caller runs the
// factory, the others wait for it, each as long as its own context allows.
// An object nobody asks for is never created. A failed creation is not
// remembered: its error goes to every caller that waited for that attempt,
// and the next Get tries again.
//
// Close ends the scope: every created object that is a Terminator is
// terminated once, in reverse order of creation.
type Statics struct {
	factories map[string]Factory

	mu      sync.Mutex
	objects map[string]Object   // created
	order   []string            // ids of objects, in creation order
	pending map[string]*attempt // creations in progress
	closed  bool                // Close has begun: Get refuses
	ended   bool                // Close has taken the objects to terminate
}

// attempt is one creation in progress; done is closed when it has finished,
// with obj or err set.
type attempt struct {
	done chan struct{}
	obj  Object
	err  error
}

// NewStatics returns a Statics for the objects declared in decls, a factory
// by id. Ids are matched exactly (they are Lua identifiers). No factory is
// called until its id is asked for.
func NewStatics(decls map[string]Factory) *Statics {
	return &Statics{
		factories: maps.Clone(decls),
		objects:   map[string]Object{},
		pending:   map[string]*attempt{},
	}
}

// IDs returns the declared ids, sorted.
func (s *Statics) IDs() []string {
	return slices.Sorted(maps.Keys(s.factories))
}

// Created returns the ids of the objects created so far, in order of
// creation (none once Close has begun ending them). It returns a copy and
// never waits for a creation in progress.
func (s *Statics) Created() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// Get returns the object declared as id, creating it on first reference. A
// Get that finds a creation in progress waits for it until ctx ends, and
// then returns ctx's error (the creation goes on). Get returns an error
// wrapping ErrUnknownObject for an undeclared id, and ErrClosed once Close
// has begun. A factory that calls Get for its own id waits for itself until
// its context ends.
func (s *Statics) Get(ctx context.Context, id string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if o, ok := s.objects[id]; ok {
		s.mu.Unlock()
		return o, nil
	}
	f, ok := s.factories[id]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrUnknownObject, id)
	}
	a, creating := s.pending[id]
	if !creating {
		a = &attempt{done: make(chan struct{})}
		s.pending[id] = a
	}
	s.mu.Unlock()

	if !creating {
		s.create(ctx, id, f, a)
		return a.obj, a.err
	}
	select {
	case <-a.done:
		return a.obj, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// create runs the factory for attempt a and publishes its outcome. If the
// factory panics, the waiters get an error and the panic goes on.
func (s *Statics) create(ctx context.Context, id string, f Factory, a *attempt) {
	finished := false
	defer func() {
		if !finished {
			s.finish(id, a, nil, fmt.Errorf("creating static object %s: the factory panicked", id))
		}
	}()
	o, err := f(ctx)
	finished = true
	switch {
	case err != nil:
		err = fmt.Errorf("creating static object %s: %w", id, err)
	case o == nil:
		err = fmt.Errorf("creating static object %s: the factory returned no object", id)
	}
	s.finish(id, a, o, err)
}

// finish records the outcome of attempt a and wakes its waiters. An object
// created after Close has begun is refused with ErrClosed; if Close has
// already terminated the others, it is terminated here.
func (s *Statics) finish(id string, a *attempt, o Object, err error) {
	s.mu.Lock()
	delete(s.pending, id)
	var orphan Object
	switch {
	case err != nil:
		a.err = err
	case s.ended:
		orphan, a.err = o, ErrClosed
	case s.closed:
		s.objects[id] = o
		s.order = append(s.order, id)
		a.err = ErrClosed
	default:
		s.objects[id] = o
		s.order = append(s.order, id)
		a.obj = o
	}
	s.mu.Unlock()
	if orphan != nil {
		if terr := terminate(id, orphan); terr != nil {
			a.err = errors.Join(ErrClosed, terr)
		}
	}
	close(a.done)
}

// Close ends the scope. It waits, as long as ctx allows, for creations in
// progress; then it calls Terminate on every created object that is a
// Terminator, in reverse order of creation, once each, and returns their
// errors joined (a panic in Terminate is an error too). Get fails with
// ErrClosed from the moment Close begins. Only the first Close does
// anything; later calls return nil at once.
func (s *Statics) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	pending := slices.Collect(maps.Values(s.pending))
	s.mu.Unlock()

	var errs []error
wait:
	for _, a := range pending {
		select {
		case <-a.done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("waiting for static objects being created: %w", ctx.Err()))
			break wait
		}
	}

	s.mu.Lock()
	s.ended = true
	objects, order := s.objects, s.order
	s.objects, s.order = nil, nil
	s.mu.Unlock()

	for _, id := range slices.Backward(order) {
		if err := terminate(id, objects[id]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// terminate calls o.Terminate if o has one, turning a panic into an error
// so that one failing object never stops the others from ending.
func terminate(id string, o Object) (err error) {
	t, ok := o.(Terminator)
	if !ok {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("terminating static object %s: panic: %v", id, p)
		}
	}()
	if err := t.Terminate(); err != nil {
		return fmt.Errorf("terminating static object %s: %w", id, err)
	}
	return nil
}
