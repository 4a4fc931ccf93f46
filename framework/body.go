package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Request bodies (docs/serve.md): a body is read only when a page asks for it, no
// larger than Config.MaxRequestBody (413), no longer than the reading page's
// script timeout, and a malformed one answers 400. Multipart forms are
// parsed straight from the connection, their files past multipartMemory
// going to temporary files that are removed when the request ends. Bodies
// of all requests in flight share Config.MaxBodyMemory (admitBody).

const (
	// defaultMaxRequestBody is Config.MaxRequestBody when it is zero.
	defaultMaxRequestBody = 32 << 20

	// multipartMemory is how much of a multipart form's files stays in
	// memory; the rest goes to temporary files. Its other fields are
	// values, kept in memory (mime/multipart allows them 10 MiB more).
	multipartMemory = 1 << 20
)

var (
	errTooLarge   = errors.New("the request body is too large")
	errBadRequest = errors.New("the request is malformed")
	errBodyBusy   = errors.New("request bodies in flight hold all of MaxBodyMemory")
	errStreamed   = errors.New("the body was read by Request.Form as a multipart form, and is gone")
)

// parseQuery parses r's query string. A malformed one, or one with more
// parameters than Go parses (10,000), is an errBadRequest: a page never
// sees a query silently emptied.
func parseQuery(r *http.Request) (url.Values, error) {
	if r.URL.RawQuery == "" {
		return url.Values{}, nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: query string: %v", errBadRequest, err)
	}
	return q, nil
}

// admitBody reserves, before r's page runs, the share of MaxBodyMemory that
// r's body may use once read: twice its declared length (the bytes, and
// the values parsed from them), or twice MaxRequestBody for a body of
// unknown length. While bodies in flight hold too much it waits, for up to
// the script timeout, then gives up with errBodyBusy (503). A request
// without a body, or with one declared over MaxRequestBody (the page's
// first read refuses it unread), reserves nothing. release gives the share
// back when the request ends.
func (s *Server) admitBody(r *http.Request) (release func(), err error) {
	n := r.ContentLength
	if !hasBody(r) || n > s.cfg.MaxRequestBody {
		return func() {}, nil
	}
	if n < 0 {
		n = s.cfg.MaxRequestBody
	}
	share := min(twice(n), s.cfg.MaxBodyMemory)
	if !s.bodyMemory.TryAcquire(share) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ScriptTimeout)
		defer cancel()
		if s.bodyMemory.Acquire(ctx, share) != nil {
			return nil, errBodyBusy
		}
	}
	return func() { s.bodyMemory.Release(share) }, nil
}

// hasBody reports whether r comes with a body (of any length, or unknown).
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
}

// newRequest adapts r for its page. A request with a body gets a read
// deadline of ScriptTimeout from now on its connection, a backstop for
// reads that no page's context bounds: before sending a response, net/http
// reads up to 256 KiB of a body the page left unread, and would otherwise
// wait as long as a slow client takes while the page holds its Lua state.
// Past the backstop that read fails and the connection is closed after the
// response, so that what is left of the body is never read as a request.
func (s *Server) newRequest(w http.ResponseWriter, r *http.Request, query url.Values) *request {
	q := &request{r: r, w: w, maxBody: s.cfg.MaxRequestBody, query: query}
	if hasBody(r) {
		q.backstop = time.Now().Add(s.cfg.ScriptTimeout)
		http.NewResponseController(w).SetReadDeadline(q.backstop) // ErrNotSupported: no backstop
	}
	return q
}

// twice is 2n, or math.MaxInt64 where that overflows.
func twice(n int64) int64 {
	if n > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return 2 * n
}

// Form parses the body as a form, on first use: urlencoded from the
// whole body, multipart straight from the connection unless Body has
// already read it. Other bodies give an empty form.
func (q *request) Form(ctx context.Context) (url.Values, error) {
	if q.formRead {
		return q.form, q.formErr
	}
	q.formRead = true
	q.form = url.Values{}
	mt, params, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		body, err := q.Body(ctx)
		if err != nil {
			q.formErr = err
			return q.form, err
		}
		if q.form, q.formErr = url.ParseQuery(body); q.formErr != nil {
			q.formErr = fmt.Errorf("%w: form: %v", errBadRequest, q.formErr)
		}
	case "multipart/form-data":
		var src io.Reader
		if q.bodyRead {
			if q.bodyErr != nil {
				q.formErr = q.bodyErr
				return q.form, q.formErr
			}
			src = strings.NewReader(q.body)
		} else {
			q.streamed = true
			body, stop := q.open(ctx)
			defer stop()
			src = body
		}
		f, err := multipart.NewReader(src, params["boundary"]).ReadForm(multipartMemory)
		if err != nil {
			q.formErr = q.bodyError(ctx, err)
			return q.form, q.formErr
		}
		q.multipart, q.form = f, f.Value
	}
	return q.form, q.formErr
}

// Body reads the whole body on first use. ctx bounds the reading:
// when it ends (the page's script timeout, or its client gone), a read
// still waiting for the client fails.
func (q *request) Body(ctx context.Context) (string, error) {
	if !q.bodyRead {
		q.bodyRead = true
		if q.streamed {
			q.bodyErr = errStreamed
		} else {
			q.body, q.bodyErr = q.readBody(ctx)
		}
	}
	return q.body, q.bodyErr
}

// TotalBytes is the size of the body: its declared length when it has one
// (the body itself is not read), else the length of the body, read whole.
func (q *request) TotalBytes(ctx context.Context) (int64, error) {
	if n := q.r.ContentLength; n >= 0 && !q.bodyRead {
		if n > q.maxBody {
			return 0, q.tooLarge()
		}
		return n, nil
	}
	if q.streamed {
		return q.received, nil
	}
	b, err := q.Body(ctx)
	return int64(len(b)), err
}

func (q *request) readBody(ctx context.Context) (string, error) {
	if q.r.Body == nil || q.r.Body == http.NoBody {
		return "", nil
	}
	body, stop := q.open(ctx)
	defer stop()
	var b strings.Builder
	buf := 32 << 10
	if n := q.r.ContentLength; n >= 0 && n <= q.maxBody {
		b.Grow(int(n))
		buf = int(min(int64(buf), max(512, n+1)))
	}
	_, err := io.CopyBuffer(&b, body, make([]byte, buf))
	if err != nil {
		return "", q.bodyError(ctx, err)
	}
	return b.String(), nil
}

// open gives the body, bounded by maxBody, for a read bounded by ctx: the
// backstop deadline is lifted (the page may have changed its timeout), and
// when ctx ends (the page's script timeout, or its client gone) while the
// read waits for the client, the read deadline moves to now and the read
// fails. Where the ResponseWriter cannot set deadlines, a read waits for
// the client (or its connection to close). stop, called once the reading
// is done, puts the backstop back unless the body was read to its end
// (net/http then reads the connection itself, without a deadline).
func (q *request) open(ctx context.Context) (body io.Reader, stop func()) {
	if q.r.ContentLength > q.maxBody {
		return errReader{q.tooLarge()}, func() {}
	}
	if q.r.Body == nil {
		return strings.NewReader(""), func() {}
	}
	rc := http.NewResponseController(q.w)
	if !q.backstop.IsZero() {
		rc.SetReadDeadline(time.Time{})
	}
	fired := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		defer close(fired)
		rc.SetReadDeadline(time.Now())
	})
	c := &counter{r: http.MaxBytesReader(q.w, q.r.Body, q.maxBody), n: &q.received}
	return c, func() {
		if !cancel() {
			<-fired
			return
		}
		if !c.eof && !q.backstop.IsZero() {
			rc.SetReadDeadline(q.backstop)
		}
	}
}

// bodyError classifies an error from reading or parsing the body: over
// MaxRequestBody is errTooLarge (413); a read cut short by ctx or by the
// connection, and an error of the temporary files, stay as they are;
// anything else is a malformed body, errBadRequest (400). mime/multipart's
// "message too large" (more than 1,000 parts, or more than 10 MiB of
// values) counts as too large.
func (q *request) bodyError(ctx context.Context, err error) error {
	var mbe *http.MaxBytesError
	var pe *fs.PathError
	switch {
	case errors.Is(err, errTooLarge), errors.As(err, &mbe), errors.Is(err, multipart.ErrMessageTooLarge):
		return q.tooLarge()
	case ctx.Err() != nil, errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &pe):
		return err
	}
	return fmt.Errorf("%w: %v", errBadRequest, err)
}

func (q *request) tooLarge() error {
	return fmt.Errorf("%w (over %d bytes)", errTooLarge, q.maxBody)
}

// close removes the temporary files of a multipart form. It runs when the
// request ends, however its page ended.
func (q *request) close() error {
	if q.multipart == nil {
		return nil
	}
	return q.multipart.RemoveAll()
}

// counter counts the bytes read through it into *n, and whether it met
// the end of the body.
type counter struct {
	r   io.Reader
	n   *int64
	eof bool
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	c.eof = c.eof || err == io.EOF
	return n, err
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
