package scripting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// run is one request's use of a state.
type run struct {
	e   *Engine
	s   *state
	env *Env
	w   io.Writer

	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	start   time.Time
	timeout time.Duration

	page    *Page       // the page running now (changes during Server.Execute)
	first   *Page       // the page the run began with, for other goroutines to read
	globals *lua.LTable // its global environment
	where   *errorSite  // where the run failed, recorded by the error handler
	vmCtx   vmContext   // see vm
	pending *Error      // a compile error of a page or module the run loaded

	out        output
	ended      bool // Response.End, Redirect or Server.Transfer stopped the page
	coroutines int  // coroutines created, bounded by maxCoroutines
	nested     int  // pages run by Server.Execute or Transfer inside the page now
	// waits counts the waits the run is in (Server.Sleep, a lock, an
	// apartment's call); grown is the memory growth the memory watch
	// blamed on it, guarded by the watch's mutex.
	waits   atomic.Int32
	grown   uint64
	stopped bool // the memory watch stopped it (guarded likewise)
	status  int
	// headers the page set through properties, applied when the head is sent
	contentType, charset, cacheControl string
	cookies                            map[string]string // set by Response.Cookies
	expires                            *float64          // Response.Expires, in minutes
	lockedApp                          bool              // Application:Lock was called
	waitingLock                        bool              // Application:Lock is waiting
	raised                             error             // the last Go error raised in the page
	kept                               map[string]kept   // kept Session objects made in the run
	created                            []func() error    // Terminate of page-scope objects
	tx                                 transaction       // a transactional page's (transaction.go)
}

// errorSite is where a runtime error was raised.
type errorSite struct {
	file, traceback string
	line            int
	includes        []Site // the includes and modules' callers that led there, outermost first
}

func newRun(ctx context.Context, e *Engine, s *state, w io.Writer, p *Page, env *Env) *run {
	r := &run{e: e, s: s, env: env, w: w, page: p, first: p, status: 200, start: time.Now(),
		contentType: "text/html", charset: "utf-8"}
	if env.Status != 0 {
		r.status = env.Status
	}
	r.timeout = e.cfg.ScriptTimeout
	if env.ScriptTimeout > 0 {
		r.timeout = env.ScriptTimeout
	}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	r.timer = time.AfterFunc(r.timeout, func() { r.cancel(errScriptTimeout) })
	if e.memory != nil {
		e.memory.enter(r)
	}
	r.out = output{r: r, buffered: true, limit: e.cfg.MaxOutput}
	if d := p.Directives; d.ContentType != "" {
		r.contentType = d.ContentType
	}
	if d := p.Directives; d.Charset != "" {
		r.charset = d.Charset
	}
	return r
}

// vmContext is the run's context as its VM sees it: gopher-lua checks Done
// before every instruction, and a field costs less to read there than a
// cancelCtx's Done (an atomic load and a type assertion).
type vmContext struct {
	context.Context
	done <-chan struct{}
}

func (c *vmContext) Done() <-chan struct{} { return c.done }

// vm is the context the run's Lua code runs under.
func (r *run) vm() context.Context {
	r.vmCtx = vmContext{r.ctx, r.ctx.Done()}
	return &r.vmCtx
}

// setTimeout changes the script timeout, counted from the start of the run.
func (r *run) setTimeout(d time.Duration) {
	r.timeout = d
	r.timer.Reset(time.Until(r.start.Add(d)))
}

func (r *run) release() {
	if r.lockedApp {
		r.env.ApplicationLock.ReleaseAll(r) // a lock held when the page ends
	}
	r.timer.Stop()
	r.cancel(context.Canceled)
	if r.e.memory != nil {
		r.e.memory.leave(r)
	}
	r.out.release()
}

// exec runs the page and finishes the response.
func (r *run) exec() error {
	L := r.s.L
	L.SetContext(r.vm())
	defer L.RemoveContext()
	r.enterPage(r.page)
	err := r.protected(func() { r.runPage(L, r.page) })
	err = r.endTransaction(L, err)
	r.terminateCreated()
	if err != nil {
		return err
	}
	if err := r.saveKept(); err != nil {
		return err
	}
	// The session follows the transaction's outcome: an aborted page
	// keeps none of its session changes.
	if r.env.Commit != nil && r.tx.outcome != "aborted" {
		if err := r.env.Commit(); err != nil {
			if r.tx.outcome == "committed" {
				return fmt.Errorf("%w: %w", ErrSessionAfterCommit, err)
			}
			return err
		}
	}
	return r.out.finish()
}

// protected calls f in a Lua protected call and turns a failure into *Error.
// gopher-lua can panic past PCall when its value stack is full while it
// handles an error (it pushes the handler); that is recovered here too.
func (r *run) protected(f func()) (err error) {
	L := r.s.L
	defer func() {
		if v := recover(); v != nil {
			ae, ok := v.(*lua.ApiError)
			if !ok {
				panic(v)
			}
			if r.where == nil {
				r.where = r.s.errorSiteOf(L, 0) // the stack is still there
			}
			err = r.scriptError(ae.Object, ae)
		}
	}()
	r.s.protectedFn = f
	L.Push(r.s.callProtected)
	perr := L.PCall(0, 0, r.s.onError)
	L.SetTop(0)
	if perr == nil {
		return nil
	}
	var obj lua.LValue = lua.LNil
	var ae *lua.ApiError
	if errors.As(perr, &ae) {
		obj = ae.Object
	}
	if obj == r.s.stop && r.ctx.Err() == nil {
		return nil
	}
	if r.pending != nil {
		return r.pending
	}
	return r.scriptError(obj, perr)
}

// runPage runs p's script blocks, then its body, in a fresh environment, on
// L: the run's state or a coroutine of it.
func (r *run) runPage(L *lua.LState, p *Page) {
	prevPage, prevGlobals := r.page, r.globals
	defer func() { r.page, r.globals = prevPage, prevGlobals }()
	r.page, r.globals = p, r.s.newEnv()
	if r.nested == 0 {
		r.tx.globals = r.globals // its OnTransactionCommit/Abort
	}
	if len(p.Objects) > 0 {
		r.globals.Metatable = r.s.objectEnvMT(p)
	}
	for _, proto := range p.scripts {
		r.call(L, proto, r.globals)
	}
	r.call(L, p.body, r.globals)
}

// maxNested bounds pages run inside pages by Server.Execute and Transfer,
// so that a page executing itself fails at its line, well before the Lua
// call depth runs out (an error there has no line).
const maxNested = 16

// runNested runs p inside the page running now, for what (Server.Execute
// or Server.Transfer).
func (r *run) runNested(L *lua.LState, p *Page, what string) {
	if r.nested >= maxNested {
		L.RaiseError("%s: pages nested more than %d deep (does %s run itself?)", what, maxNested, p.Name)
	}
	r.nested++
	defer func() { r.nested-- }()
	was := r.enterPage(p)
	defer func() { r.tx.in = was }()
	r.runPage(L, p)
}

// call runs one compiled chunk in env.
func (r *run) call(L *lua.LState, proto *lua.FunctionProto, env *lua.LTable) {
	fn := L.NewFunctionFromProto(proto)
	fn.Env = env
	L.Push(fn)
	L.Call(0, 0)
}

// stopPage ends the page without an error.
func (r *run) stopPage(L *lua.LState) {
	r.ended = true
	L.Error(r.s.stop, 0)
}

// scriptError builds the *Error for a failed run.
func (r *run) scriptError(obj lua.LValue, cause error) *Error {
	if r.ctx.Err() != nil {
		c := context.Cause(r.ctx)
		if errors.Is(c, errScriptTimeout) && r.waitingLock {
			return &Error{Kind: Timeout, File: r.siteFile(), Line: r.siteLine(), Err: ErrBusy,
				Msg: fmt.Sprintf("Application:Lock waited for the whole script timeout of %v", r.timeout), Traceback: r.siteTrace()}
		}
		if errors.Is(c, errMemoryLimit) {
			return &Error{Kind: Runtime, File: r.siteFile(), Line: r.siteLine(), Err: c, Traceback: r.siteTrace(),
				Msg: fmt.Sprintf("the page was stopped: the server went over its memory limit of %s", formatBytes(int64(r.e.memory.limit)))}
		}
		if errors.Is(c, errScriptTimeout) {
			return &Error{Kind: Timeout, File: r.siteFile(), Line: r.siteLine(), Err: c,
				Msg: fmt.Sprintf("the page ran past its script timeout of %v", r.timeout), Traceback: r.siteTrace()}
		}
		return &Error{Kind: Canceled, File: r.siteFile(), Line: r.siteLine(), Msg: "the request was canceled", Err: c}
	}
	e := &Error{Kind: Runtime, File: r.siteFile(), Line: r.siteLine(), Traceback: r.siteTrace(), Err: cause}
	if r.where != nil {
		e.Includes = r.where.includes
	}
	switch v := obj.(type) {
	case lua.LString:
		e.Msg = string(v)
	case *lua.LNilType:
		e.Msg = cause.Error()
	default:
		e.Msg = fmt.Sprintf("error object is a %s value", obj.Type())
	}
	if e.File != "" {
		e.Msg = strings.TrimPrefix(e.Msg, fmt.Sprintf("%s:%d: ", e.File, e.Line))
	}
	// gopher-lua writes "position message" for an error raised from Go;
	// with no Lua frame to name, the position is empty.
	e.Msg = strings.TrimPrefix(e.Msg, " ")
	if r.raised != nil && strings.HasSuffix(e.Msg, r.raised.Error()) {
		e.Err = r.raised
	}
	return e
}

func (r *run) siteFile() string {
	if r.where == nil {
		return r.page.Name
	}
	return r.where.file
}

func (r *run) siteLine() int {
	if r.where == nil {
		return 0
	}
	return r.where.line
}

func (r *run) siteTrace() string {
	if r.where == nil {
		return ""
	}
	return r.where.traceback
}

// recordError is the error handler of a run's protected call: it runs where
// the error was raised, with the Lua stack intact, and records the innermost
// Lua frame and a traceback.
func (s *state) recordError(L *lua.LState) int {
	if r := s.run; r != nil && r.where == nil && L.Get(1) != s.stop {
		r.where = s.errorSiteOf(L, 1)
	}
	L.Push(L.Get(1))
	return 1
}

// errorSiteOf walks L's stack from level up: the innermost Lua frame is
// where the error is. Each step out of a file into a main chunk of another
// file, or out of a main chunk into another file, is a step of the chain
// that led there: an include (an included file's code is a main chunk in
// the including page; see nameProtos), Server.Execute, or a call into a lib
// module, which s has loaded (Site.Require).
func (s *state) errorSiteOf(L *lua.LState, level int) *errorSite {
	site := &errorSite{}
	var tb strings.Builder
	tb.WriteString("stack traceback:")
	chunk := ""
	innerMain := false // the frame inside this one is a main chunk
	for ; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.What == "G" {
			if !strings.HasPrefix(dbg.Name, "__") {
				fmt.Fprintf(&tb, "\n\t[Go]: in function '%s'", dbg.Name)
			}
			continue
		}
		if dbg.Source == "" || dbg.CurrentLine < 0 {
			continue
		}
		if site.file == "" {
			site.file, site.line = dbg.Source, dbg.CurrentLine
			chunk = dbg.Source
		} else if (dbg.LineDefined == 0 || innerMain) && dbg.Source != chunk {
			step := Site{File: dbg.Source, Line: dbg.CurrentLine, Require: s.isModule(chunk)}
			site.includes = append([]Site{step}, site.includes...)
			chunk = dbg.Source
		}
		innerMain = dbg.LineDefined == 0
		fmt.Fprintf(&tb, "\n\t%s:%d: in %s", dbg.Source, dbg.CurrentLine, funcName(dbg))
	}
	site.traceback = tb.String()
	return site
}

func funcName(dbg *lua.Debug) string {
	if dbg.LineDefined == 0 {
		return "main chunk"
	}
	if dbg.Name == "" || strings.HasPrefix(dbg.Name, "<") {
		return fmt.Sprintf("function <%s:%d>", dbg.Source, dbg.LineDefined)
	}
	return "function '" + dbg.Name + "'"
}

// output is the page's response body: held in a buffer until the page ends,
// Response.Flush is called, or Response.Buffer is false.
type output struct {
	r         *run
	buf       []byte
	pooled    *[]byte // where buf came from, in bufPool
	limit     int
	buffered  bool
	committed bool // the head was sent
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (o *output) release() {
	if o.pooled != nil && cap(o.buf) <= 256<<10 {
		*o.pooled = o.buf[:0]
		bufPool.Put(o.pooled)
	}
	o.buf, o.pooled = nil, nil
}

func (o *output) grow(L *lua.LState, n int) {
	if nr, ok := o.r.env.Response.(noResponse); ok {
		L.RaiseError("Response is not available in %s", nr.where)
	}
	if o.buf == nil {
		o.pooled = bufPool.Get().(*[]byte)
		o.buf = *o.pooled
	}
	if len(o.buf)+n > o.limit {
		L.RaiseError("the response buffer is over its limit of %d bytes: set Response.Buffer = false or call Response.Flush()", o.limit)
	}
}

func (o *output) writeString(L *lua.LState, s string) {
	o.grow(L, len(s))
	o.buf = append(o.buf, s...)
	if !o.buffered {
		o.flush(L)
	}
}

// writeEscaped writes s HTML-escaped (& < > " ').
func (o *output) writeEscaped(L *lua.LState, s string) {
	o.grow(L, len(s))
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		default:
			continue
		}
		o.buf = append(o.buf, s[last:i]...)
		o.buf = append(o.buf, esc...)
		last = i + 1
	}
	o.buf = append(o.buf, s[last:]...)
	if len(o.buf) > o.limit {
		o.grow(L, 0)
	}
	if !o.buffered {
		o.flush(L)
	}
}

// commit sends the head.
func (o *output) commit(contentLength int) {
	if o.committed {
		return
	}
	o.committed = true
	r := o.r
	h := r.env.Response.Header()
	ct := r.contentType
	switch {
	case ct == "text/html" && r.charset == "utf-8":
		ct = "text/html; charset=utf-8" // the default, made once
	case r.charset != "" && !strings.Contains(ct, "charset="):
		ct += "; charset=" + r.charset
	}
	h.Set("Content-Type", ct)
	if r.cacheControl != "" {
		h.Set("Cache-Control", r.cacheControl)
	}
	if _, set := h["Content-Length"]; contentLength >= 0 && !set {
		h["Content-Length"] = []string{strconv.Itoa(contentLength)}
	}
	r.env.Response.WriteHeader(r.status)
}

// flush sends the head and what the buffer holds.
func (o *output) flush(L *lua.LState) {
	o.commit(-1)
	if len(o.buf) > 0 {
		_, err := o.r.w.Write(o.buf)
		o.buf = o.buf[:0]
		if err != nil {
			o.r.cancel(err)
			L.RaiseError("writing the response: %v", err)
		}
	}
	if err := o.r.env.Response.Flush(); err != nil {
		o.r.cancel(err)
		L.RaiseError("flushing the response: %v", err)
	}
}

// finish sends what is left after the page ended.
func (o *output) finish() error {
	o.commit(len(o.buf))
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.r.w.Write(o.buf)
	o.buf = o.buf[:0]
	return err
}
