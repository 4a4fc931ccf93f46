package scripting

import (
	"context"
	"fmt"
	"io"
	"net/textproto"
	"net/url"

	lua "github.com/yuin/gopher-lua"
)

// CompileGlobal compiles the script blocks of a global file, given as one
// chunk that keeps the file's line numbers, for RunEvent. A syntax error is
// an *Error naming the file and line.
func CompileGlobal(name, chunk string) (*Page, error) {
	proto, err := compileLua(name, chunk, nil)
	if err != nil {
		return nil, err
	}
	return &Page{Name: name, body: proto}, nil
}

// RunEvent runs the global file's scripts in a fresh environment of their
// own (pages never see their functions) and then calls the handler called
// event (Application_OnStart, ...) if they define one. Without
// env.Request and env.Response, using Request or Response in the event is
// an error that names it.
func (e *Engine) RunEvent(ctx context.Context, global *Page, event string, env *Env) error {
	if env.Request == nil {
		env.Request = noRequest{event}
	}
	if env.Response == nil {
		env.Response = noResponse{event}
	}
	s := e.get()
	r := newRun(ctx, e, s, io.Discard, global, env)
	s.run = r
	L := s.L
	L.SetContext(r.vm())
	err := r.protected(func() {
		r.page, r.globals = global, s.newEnv()
		r.call(L, global.body, r.globals)
		if fn, ok := r.globals.RawGetString(event).(*lua.LFunction); ok {
			L.Push(fn)
			L.Call(0, 0)
		}
		if env.Kept != nil && env.Kept.Ending() {
			r.endKept(L)
		}
	})
	if err == nil && env.Kept != nil && !env.Kept.Ending() {
		err = r.saveKept() // Session_OnStart: its kept objects go with the page's commit
	}
	r.terminateCreated()
	L.RemoveContext()
	r.release()
	e.put(s, err == nil)
	return err
}

// noRequest is the Request where there is none: every use is an error.
type noRequest struct{ where string }

func (n noRequest) fail() {
	panic(fmt.Errorf("Request is not available in %s", n.where))
}
func (n noRequest) Query() url.Values                         { n.fail(); return nil }
func (n noRequest) RawQuery() string                          { n.fail(); return "" }
func (n noRequest) Form(context.Context) (url.Values, error)  { n.fail(); return nil, nil }
func (n noRequest) Body(context.Context) (string, error)      { n.fail(); return "", nil }
func (n noRequest) TotalBytes(context.Context) (int64, error) { n.fail(); return 0, nil }
func (n noRequest) Cookie(string) (string, bool)              { n.fail(); return "", false }
func (n noRequest) CookieNames() []string                     { n.fail(); return nil }
func (n noRequest) ServerVariable(string) (string, bool)      { n.fail(); return "", false }

func (n noRequest) Files(context.Context) (map[string][]File, error) { n.fail(); return nil, nil }

// noResponse is the Response where there is none: every use is an error,
// writes included (see output.grow).
type noResponse struct{ where string }

func (n noResponse) fail() {
	panic(fmt.Errorf("Response is not available in %s", n.where))
}
func (n noResponse) Header() textproto.MIMEHeader { n.fail(); return nil }
func (n noResponse) SetCookie(*Cookie)            { n.fail() }
func (noResponse) WriteHeader(int)                {}
func (noResponse) Flush() error                   { return nil }
