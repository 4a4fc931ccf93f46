package scripting

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"lasp/internal/database"
)

// Transactional pages (docs/data.md): a page with Transaction="Required"
// or "Requires_New" runs every Lasp.Database statement in one transaction
// per database, committed after the page succeeds, before its session and
// its output, and rolled back when it fails or calls
// ObjectContext:SetAbort(). A page run by Server.Execute or Transfer joins
// the run's transaction when it says Supported, Required or Requires_New
// (starting it if the run has none), and runs outside it otherwise.

// ErrSessionAfterCommit is the cause of a page whose database transaction
// committed but whose session changes could not then be saved: the
// database keeps the changes, the session does not (framework answers
// 503).
var ErrSessionAfterCommit = errors.New("the page's database transaction committed, but its session changes could not be saved")

// transaction is a run's part in a transaction.
type transaction struct {
	t       *database.Transaction // nil: none yet
	ctx     context.Context       // the run's context carrying t
	in      bool                  // the page running now takes part
	aborted bool                  // ObjectContext:SetAbort, not undone by SetComplete
	outcome string                // "committed" or "aborted", once decided
	globals *lua.LTable           // the first page's, where its handlers are
}

// joins reports whether a page with directive d takes part in a
// transaction, and whether it needs one.
func joins(d string) (joins, needs bool) {
	switch d {
	case "Required", "Requires_New":
		return true, true
	case "Supported":
		return true, false
	}
	return false, false
}

// enterPage sets the run's transaction for page p, starting one if p
// needs it; it returns whether the page before took part, for leavePage
// (Server.Execute).
func (r *run) enterPage(p *Page) (was bool) {
	was = r.tx.in
	join, need := joins(p.Directives.Transaction)
	if need && r.tx.t == nil {
		r.tx.t = &database.Transaction{}
		r.tx.ctx = database.WithTransaction(r.ctx, r.tx.t)
	}
	r.tx.in = join && r.tx.t != nil
	return was
}

// callCtx is the context Go objects are called with: the run's, carrying
// the transaction when the page running now takes part in one.
func (r *run) callCtx() context.Context {
	if r.tx.in {
		return r.tx.ctx
	}
	return r.ctx
}

// endTransaction decides the run's transaction once the page has run
// (pageErr: how it ended): rolled back when the page failed or called
// SetAbort, else committed; then the page's OnTransactionCommit or
// OnTransactionAbort runs. An error is the page's: its transaction did
// not commit.
func (r *run) endTransaction(L *lua.LState, pageErr error) error {
	t := r.tx.t
	if t == nil {
		return pageErr
	}
	if pageErr != nil {
		t.Rollback()
		return pageErr
	}
	handler := "OnTransactionCommit"
	if r.tx.aborted {
		t.Rollback()
		r.tx.outcome, handler = "aborted", "OnTransactionAbort"
	} else if err := t.Commit(); err != nil {
		var pe *database.PartialError
		if errors.As(err, &pe) {
			r.env.Log.Error("a transaction committed in part", "request_id", r.env.RequestID, "page", r.first.Name, "err", err.Error())
		}
		return &Error{Kind: Runtime, File: r.first.Name, Msg: "the page's transaction did not commit: " + err.Error(), Err: err}
	} else {
		r.tx.outcome = "committed"
	}
	r.tx.in = false
	fn, ok := r.tx.globals.RawGetString(handler).(*lua.LFunction)
	if !ok {
		return nil
	}
	// The outcome is decided: a handler that fails cannot undo it, so its
	// error is logged and the page answers with what it wrote.
	// The handler runs in the first page's environment, as its body did
	// (an include in it needs them).
	r.page, r.globals = r.first, r.tx.globals
	defer func() { r.globals = nil }()
	if err := r.protected(func() { L.Push(fn); L.Call(0, 0) }); err != nil {
		r.env.Log.Error(handler+" failed", "request_id", r.env.RequestID, "page", r.first.Name, "outcome", r.tx.outcome, "err", err.Error())
	}
	return nil
}

// objectContext builds ObjectContext: SetAbort and SetComplete.
func (s *state) objectContext() *object {
	L := s.L
	o := s.newObject("ObjectContext", func(*lua.LState, string) (lua.LValue, bool) { return lua.LNil, false }, nil)
	set := func(name string, abort bool) {
		o.method(L, name, func(L *lua.LState) int {
			r := s.run
			if !r.tx.in {
				L.RaiseError("ObjectContext:%s: the page has no transaction (Transaction=\"Required\" or \"Requires_New\")", name)
			}
			if r.tx.outcome != "" {
				L.RaiseError("ObjectContext:%s: the transaction is %s already", name, r.tx.outcome)
			}
			r.tx.aborted = abort
			return 0
		})
	}
	set("SetAbort", true)
	set("SetComplete", false)
	return o
}
