package framework

import (
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"

	"lasp/framework/session"
	"lasp/scripting"
)

// request adapts *http.Request to scripting.Request. Its body is read on
// first use, bounded, and within the reading page's script timeout (body.go).
type request struct {
	r       *http.Request
	w       http.ResponseWriter // the response, whose connection bounds body reads
	maxBody int64

	query url.Values
	// backstop is the connection's read deadline outside the page's own
	// reads of the body (newRequest); zero when it has none.
	backstop time.Time

	body     string // the whole body, once Body has read it
	bodyErr  error
	bodyRead bool
	// streamed says that a multipart form was parsed straight from the
	// connection: the body is gone, and Body cannot read it any more.
	streamed bool
	received int64 // bytes of the body read so far

	form     url.Values
	formErr  error
	formRead bool
	// multipart is the parsed multipart form, files included (those past
	// multipartMemory in temporary files); close removes the files.
	multipart *multipart.Form
	files     map[string][]scripting.File // Request.Files, made from multipart on first use

	// app and dir are where File.SaveAs finds the application's data/
	// folder: the directory New opened, else Config.Dir ("": none on disk).
	app *os.Root
	dir string
}

var (
	_ scripting.Request = (*request)(nil)
)

func (q *request) Query() url.Values {
	if q.query == nil {
		q.query = q.r.URL.Query()
	}
	return q.query
}

func (q *request) RawQuery() string { return q.r.URL.RawQuery }

func (q *request) Cookie(name string) (string, bool) {
	c, err := q.r.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

func (q *request) CookieNames() []string {
	cs := q.r.Cookies()
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names
}

// ServerVariable answers the CGI-style variables of ASP's ServerVariables.
func (q *request) ServerVariable(name string) (string, bool) {
	r := q.r
	switch name {
	case "REQUEST_METHOD":
		return r.Method, true
	case "URL", "PATH_INFO", "SCRIPT_NAME":
		return mountPrefix(r) + r.URL.Path, true
	case "APPL_PATH":
		return mountPrefix(r) + "/", true
	case "QUERY_STRING":
		return r.URL.RawQuery, true
	case "REQUEST_URI":
		return r.RequestURI, true
	case "REMOTE_ADDR", "REMOTE_HOST":
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr, true
		}
		return host, true
	case "REMOTE_PORT":
		_, port, _ := net.SplitHostPort(r.RemoteAddr)
		return port, true
	case "SERVER_NAME":
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			return r.Host, true
		}
		return host, true
	case "SERVER_PORT":
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if _, port, err := net.SplitHostPort(a.String()); err == nil {
				return port, true
			}
		}
		return "", true
	case "LOCAL_ADDR":
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host, _, _ := net.SplitHostPort(a.String())
			return host, true
		}
		return "", true
	case "SERVER_PROTOCOL":
		return r.Proto, true
	case "SERVER_SOFTWARE":
		return "Lasp", true
	case "HTTPS":
		if session.Secure(r) {
			return "on", true
		}
		return "off", true
	case "CONTENT_TYPE":
		return r.Header.Get("Content-Type"), true
	case "CONTENT_LENGTH":
		if r.ContentLength < 0 {
			return "", true
		}
		return itoa(r.ContentLength), true
	case "ALL_HTTP":
		var b strings.Builder
		for k, vs := range r.Header {
			b.WriteString("HTTP_" + headerVar(k) + ":" + strings.Join(vs, ", ") + "\n")
		}
		return b.String(), true
	}
	if h, ok := strings.CutPrefix(name, "HTTP_"); ok {
		key := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(h, "_", "-"))
		if key == "Host" {
			return r.Host, true
		}
		if vs, ok := r.Header[key]; ok {
			return strings.Join(vs, ", "), true
		}
	}
	return "", false
}

func headerVar(key string) string {
	return strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
