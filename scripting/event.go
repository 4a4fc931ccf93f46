package scripting

import (
	"context"
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
// event (Application_OnStart, ...) if they define one. Output is discarded;
// without env.Request and env.Response the event sees an empty request.
func (e *Engine) RunEvent(ctx context.Context, global *Page, event string, env *Env) error {
	if env.Request == nil {
		env.Request = noRequest{}
	}
	if env.Response == nil {
		env.Response = noResponse{textproto.MIMEHeader{}}
	}
	s := e.get()
	r := newRun(ctx, e, s, io.Discard, global, env)
	s.run = r
	L := s.L
	L.SetContext(r.ctx)
	err := r.protected(func() {
		r.page, r.globals = global, s.newEnv()
		r.call(L, global.body, r.globals)
		if fn, ok := r.globals.RawGetString(event).(*lua.LFunction); ok {
			L.Push(fn)
			L.Call(0, 0)
		}
	})
	r.terminateCreated()
	L.RemoveContext()
	r.release()
	e.put(s, err == nil)
	return err
}

// noRequest is the request of an event that runs outside any request.
type noRequest struct{}

func (noRequest) Query() url.Values                    { return url.Values{} }
func (noRequest) RawQuery() string                     { return "" }
func (noRequest) Form() (url.Values, error)            { return url.Values{}, nil }
func (noRequest) Body() ([]byte, error)                { return nil, nil }
func (noRequest) Cookie(string) (string, bool)         { return "", false }
func (noRequest) CookieNames() []string                { return nil }
func (noRequest) ServerVariable(string) (string, bool) { return "", false }

// noResponse is the response of an event: everything is discarded.
type noResponse struct{ h textproto.MIMEHeader }

func (r noResponse) Header() textproto.MIMEHeader { return r.h }
func (noResponse) SetCookie(*Cookie)              {}
func (noResponse) WriteHeader(int)                {}
func (noResponse) Flush() error                   { return nil }
