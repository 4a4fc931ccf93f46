package scripting

import (
	"net/textproto"
	"net/url"
)

// testRequest and testResponse are plain in-memory implementations of the
// engine's interfaces, for tests and benchmarks that run the engine alone.
// Behaviour visible over HTTP is tested in package framework.
type testRequest struct{ query url.Values }

func (r *testRequest) Query() url.Values                    { return r.query }
func (r *testRequest) RawQuery() string                     { return r.query.Encode() }
func (r *testRequest) Form() (url.Values, error)            { return url.Values{}, nil }
func (r *testRequest) Body() ([]byte, error)                { return nil, nil }
func (r *testRequest) Cookie(string) (string, bool)         { return "", false }
func (r *testRequest) CookieNames() []string                { return nil }
func (r *testRequest) ServerVariable(string) (string, bool) { return "", false }

type testResponse struct {
	header  textproto.MIMEHeader
	status  int
	cookies []*Cookie
}

func (r *testResponse) Header() textproto.MIMEHeader {
	if r.header == nil {
		r.header = textproto.MIMEHeader{}
	}
	return r.header
}
func (r *testResponse) SetCookie(c *Cookie)    { r.cookies = append(r.cookies, c) }
func (r *testResponse) WriteHeader(status int) { r.status = status }
func (r *testResponse) Flush() error           { return nil }
