package scripting

import (
	"bytes"
	"context"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"lasp/scope"
)

// testRequest, testResponse and testSession are plain in-memory
// implementations of the engine's interfaces, for tests and benchmarks that
// run the engine alone. Behaviour visible over HTTP is tested in package
// framework.
type testRequest struct {
	query   url.Values
	raw     string            // the query as sent; query.Encode() when empty
	form    url.Values        // Request.Form
	body    string            // Request.Body
	cookies map[string]string // request cookies
	vars    map[string]string // server variables, by upper-case name
	files   map[string][]File // Request.Files
	err     error             // the error of reading the body (Form, Body, TotalBytes, Files)
	ctx     context.Context   // the context the body was last read within
}

func (r *testRequest) Query() url.Values { return r.query }
func (r *testRequest) RawQuery() string {
	if r.raw != "" {
		return r.raw
	}
	return r.query.Encode()
}
func (r *testRequest) Form(ctx context.Context) (url.Values, error) {
	r.ctx = ctx
	if err := ctx.Err(); err != nil {
		return url.Values{}, err
	}
	if r.form == nil {
		return url.Values{}, r.err
	}
	return r.form, r.err
}
func (r *testRequest) Body(ctx context.Context) (string, error) {
	r.ctx = ctx
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return r.body, r.err
}
func (r *testRequest) TotalBytes(ctx context.Context) (int64, error) {
	b, err := r.Body(ctx)
	return int64(len(b)), err
}
func (r *testRequest) Files(ctx context.Context) (map[string][]File, error) {
	r.ctx = ctx
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r.files, r.err
}
func (r *testRequest) Cookie(name string) (string, bool) {
	v, ok := r.cookies[name]
	return v, ok
}
func (r *testRequest) CookieNames() []string {
	names := make([]string, 0, len(r.cookies))
	for n := range r.cookies {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
func (r *testRequest) ServerVariable(name string) (string, bool) {
	v, ok := r.vars[name]
	return v, ok
}

type testResponse struct {
	header  textproto.MIMEHeader
	status  int
	heads   int // WriteHeader calls
	cookies []*Cookie
	// out, when set, is the body writer: each Flush records what it holds.
	out      *bytes.Buffer
	flushed  []string
	flushErr error
}

func (r *testResponse) Header() textproto.MIMEHeader {
	if r.header == nil {
		r.header = textproto.MIMEHeader{}
	}
	return r.header
}
func (r *testResponse) SetCookie(c *Cookie) { r.cookies = append(r.cookies, c) }
func (r *testResponse) WriteHeader(status int) {
	r.status = status
	r.heads++
}
func (r *testResponse) Flush() error {
	if r.out != nil {
		r.flushed = append(r.flushed, r.out.String())
	}
	return r.flushErr
}

// testSession is an in-memory Session.
type testSession struct {
	Contents
	id        string
	timeout   float64
	abandoned bool
	renewErr  error // what RenewID returns
}

var _ Session = (*testSession)(nil)

func newTestSession() *testSession {
	return &testSession{Contents: Local(scope.NewContents("Session")), id: "sess-1", timeout: 20}
}

func (s *testSession) ID() string                 { return s.id }
func (s *testSession) Timeout() float64           { return s.timeout }
func (s *testSession) SetTimeout(minutes float64) { s.timeout = minutes }
func (s *testSession) Abandon()                   { s.abandoned = true }
func (s *testSession) RenewID() error {
	if s.renewErr == nil {
		s.id += "-renewed"
	}
	return s.renewErr
}

// failingContents is a Contents whose store does not answer.
type failingContents struct{ err error }

func (f failingContents) Name() string                          { return "Application" }
func (f failingContents) Get(string) (scope.Value, bool, error) { return nil, false, f.err }
func (f failingContents) Set(string, scope.Value) error         { return f.err }
func (f failingContents) Remove(string) error                   { return f.err }
func (f failingContents) RemoveAll() error                      { return f.err }
func (f failingContents) Keys() ([]string, error)               { return nil, f.err }
func (f failingContents) Len() (int, error)                     { return 0, f.err }

// formatCookie shows a cookie set by a page as one line.
func formatCookie(c *Cookie) string {
	parts := []string{c.Name + "=" + c.Value, "Path=" + c.Path}
	if c.Domain != "" {
		parts = append(parts, "Domain="+c.Domain)
	}
	if !c.Expires.IsZero() {
		parts = append(parts, "Expires="+c.Expires.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if c.HttpOnly {
		parts = append(parts, "HttpOnly")
	}
	if c.Secure {
		parts = append(parts, "Secure")
	}
	if c.SameSite != "" {
		parts = append(parts, "SameSite="+c.SameSite)
	}
	return strings.Join(parts, "; ")
}
