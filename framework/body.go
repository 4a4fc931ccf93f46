package framework

import (
	"context"
	"crypto/rand"
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
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"lasp/scripting"
)

// Request bodies (docs/serve.md): a body is read only when a page asks for it, no
// larger than Config.MaxRequestBody (413), no longer than the reading page's
// script timeout, and a malformed one answers 400. Multipart forms are
// parsed straight from the connection, their files past multipartMemory
// going to temporary files that are removed when the request ends; pages
// read and save the files (Request.Files) from there, saving only under
// the application's data/ folder (upload.SaveAs). Bodies of all requests
// in flight share Config.MaxBodyMemory (admitBody).

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
	q := &request{r: r, w: w, maxBody: s.cfg.MaxRequestBody, query: query, app: s.root, dir: s.cfg.Dir}
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

// Files are the uploaded files of a multipart form, made on first use
// from the form Form parses (Form parses it if it has not yet). Other
// bodies have no files, and are not read for them.
func (q *request) Files(ctx context.Context) (map[string][]scripting.File, error) {
	if mt, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return nil, nil
	}
	if _, err := q.Form(ctx); err != nil {
		return nil, err
	}
	if q.files == nil && q.multipart != nil {
		q.files = make(map[string][]scripting.File, len(q.multipart.File))
		for k, fhs := range q.multipart.File {
			files := make([]scripting.File, len(fhs))
			for i, fh := range fhs {
				files[i] = &upload{q: q, fh: fh, name: safeName(fh.Filename)}
			}
			q.files[k] = files
		}
	}
	return q.files, nil
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

// upload is a file of a multipart form, for Request.Files. Its bytes are
// in memory, or past multipartMemory in a temporary file that lasts as
// long as its request.
type upload struct {
	q    *request
	fh   *multipart.FileHeader
	name string // fh.Filename made safe
}

var _ scripting.File = (*upload)(nil)

func (u *upload) Name() string        { return u.name }
func (u *upload) Size() int64         { return u.fh.Size }
func (u *upload) ContentType() string { return u.fh.Header.Get("Content-Type") }

// Read reads the whole file; it is no larger than MaxRequestBody.
func (u *upload) Read() (string, error) {
	f, err := u.open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	b.Grow(int(u.fh.Size))
	if _, err := io.Copy(&b, f); err != nil {
		return "", err
	}
	return b.String(), nil
}

// SaveAs copies the file to name under the application's data/ folder
// (made on first use), through os.Root so that neither the name nor a
// symbolic link can leave it: into a temporary file next to the target,
// synced, then renamed over it, so that the target is never seen half
// written. It returns "data/" and the cleaned name.
func (u *upload) SaveAs(ctx context.Context, name string) (string, error) {
	rel, err := dataPath(name)
	if err != nil {
		return "", err
	}
	data, err := u.q.openData()
	if err != nil {
		return "", err
	}
	defer data.Close()
	dir := path.Dir(rel)
	if dir != "." {
		if err := data.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("making data/%s: %w", dir, err)
		}
	}
	src, err := u.open()
	if err != nil {
		return "", err
	}
	defer src.Close()
	tmp := path.Join(dir, ".upload-"+rand.Text())
	dst, err := data.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("saving data/%s: %w", rel, err)
	}
	_, err = io.Copy(dst, ctxReader{ctx, src})
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = data.Rename(tmp, rel)
	}
	if err != nil {
		data.Remove(tmp)
		return "", fmt.Errorf("saving data/%s: %w", rel, err)
	}
	return "data/" + rel, nil
}

// open opens the file's bytes. An empty file has neither content nor a
// temporary file, which mime/multipart's Open fails on.
func (u *upload) open() (io.ReadCloser, error) {
	if u.fh.Size == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	return u.fh.Open()
}

// openData opens the application's data/ folder, making it on first use.
func (q *request) openData() (*os.Root, error) {
	app := q.app
	if app == nil {
		if q.dir == "" {
			return nil, errors.New("the application has no directory on disk (Config.Root is an fs.FS and Config.Dir is empty): there is no data/ folder to save in")
		}
		r, err := os.OpenRoot(q.dir)
		if err != nil {
			return nil, fmt.Errorf("opening the application directory: %w", err)
		}
		defer r.Close()
		app = r
	}
	if err := app.MkdirAll("data", 0o755); err != nil {
		return nil, fmt.Errorf("making data/: %w", err)
	}
	return app.OpenRoot("data")
}

// dataPath checks a path given to SaveAs, slash-separated and relative to
// data/, and cleans it: it must name a file inside data/.
func dataPath(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("the path is empty")
	case strings.ContainsAny(name, "\\\x00"):
		return "", fmt.Errorf("the path %q has a \\ or a NUL (folders are separated by /)", name)
	case path.IsAbs(name) || filepath.IsAbs(name) || filepath.VolumeName(name) != "":
		return "", fmt.Errorf("the path %q is absolute: it must be relative to data/", name)
	case strings.HasSuffix(name, "/"):
		return "", fmt.Errorf("the path %q names a folder, not a file", name)
	}
	rel := path.Clean(name)
	switch {
	case rel == "..", strings.HasPrefix(rel, "../"):
		return "", fmt.Errorf("the path %q leaves data/", name)
	case rel == ".":
		return "", fmt.Errorf("the path %q names data/ itself, not a file", name)
	case !filepath.IsLocal(filepath.FromSlash(rel)):
		return "", fmt.Errorf("the path %q is not a plain path inside data/", name)
	}
	return rel, nil
}

// maxNameLen bounds a file name, in bytes, as most file systems do.
const maxNameLen = 255

// safeName reduces a client's file name to a base name that is safe to
// show and to save under: no folders (of / or \ paths), no control or
// bidirectional-text characters, at most maxNameLen bytes (keeping a
// short extension), and "file" for a name left empty, "." or "..".
func safeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name) // invalid UTF-8 becomes U+FFFD
	name = strings.TrimSpace(name)
	if len(name) > maxNameLen {
		ext := path.Ext(name)
		if len(ext) > 32 {
			ext = ""
		}
		n := maxNameLen - len(ext)
		for n > 0 && !utf8.RuneStart(name[n]) {
			n--
		}
		name = name[:n] + ext
	}
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	return name
}

// ctxReader reads r until ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
