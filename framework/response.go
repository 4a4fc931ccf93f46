package framework

import (
	"errors"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"lasp/scripting"
)

// response adapts http.ResponseWriter to scripting.Response and io.Writer.
type response struct {
	w         http.ResponseWriter // the client's, through meter (and gzip)
	committed bool
	meter     meter         // counts the response for the access log and the metrics
	waited    time.Duration // waiting for the session's lock, for the access log
}

// client is the client's own http.ResponseWriter, for reading the body
// (http.MaxBytesReader asks it to close the connection after a body that
// is too large).
func (r *response) client() http.ResponseWriter {
	if r.meter.ResponseWriter != nil {
		return r.meter.ResponseWriter
	}
	return r.w
}

var _ scripting.Response = (*response)(nil)

func (r *response) Header() textproto.MIMEHeader { return textproto.MIMEHeader(r.w.Header()) }

func (r *response) WriteHeader(status int) {
	r.committed = true
	r.w.WriteHeader(status)
}

func (r *response) Write(p []byte) (int, error) {
	r.committed = true
	return r.w.Write(p)
}

func (r *response) Flush() error {
	err := http.NewResponseController(r.w).Flush()
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

func (r *response) SetCookie(c *scripting.Cookie) {
	hc := &http.Cookie{
		Name: c.Name, Value: c.Value, Path: c.Path, Domain: c.Domain,
		Expires: c.Expires, HttpOnly: c.HttpOnly, Secure: c.Secure,
	}
	switch strings.ToLower(c.SameSite) {
	case "lax":
		hc.SameSite = http.SameSiteLaxMode
	case "strict":
		hc.SameSite = http.SameSiteStrictMode
	case "none":
		hc.SameSite = http.SameSiteNoneMode
	}
	http.SetCookie(r.w, hc)
}

// reset drops the headers a failed page set, before an error page.
func (r *response) reset() {
	h := r.w.Header()
	for k := range h {
		delete(h, k)
	}
}
