package framework

import (
	"compress/gzip"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// Compression (docs/operations.md#compression): a response is sent gzipped
// when the client accepts gzip, its type is text (compressible) and it is at
// least gzhttp.DefaultMinSize bytes long. Never for HEAD, for a request with
// a Range header, or for a body the page already encoded (Content-Encoding
// set) or answered in part (Content-Range). Config.NoCompression turns it
// off.
//
// The compressor sits inside the access log's meter: the meter wraps the
// client's writer, gzhttp wraps the meter, the page writes to gzhttp. So
// the access log counts the bytes sent on the wire, gzip trailer included
// (gzhttp's Close runs before the log line).

// newCompressor is the gzip middleware of Config.NoCompression false.
func newCompressor() (func(http.Handler) http.HandlerFunc, error) {
	return gzhttp.NewWrapper(
		gzhttp.EnableZstd(false), // gzip only, as SPEC 11 says
		gzhttp.ContentTypeFilter(compressible),
		// Pages are compressed anew on every request: at the fastest
		// level gzip took 15 % of the table page's requests/s, at the
		// default 24 % (bench/run.sh with VARIANTS=1).
		gzhttp.CompressionLevel(gzip.BestSpeed),
	)
}

// compressible reports whether a response of Content-Type ct is text, the
// only kind compressed: images, fonts, archives, video are already
// compressed or gain little.
func compressible(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"), // application/ld+json, application/manifest+json
		strings.HasSuffix(mt, "+xml"):  // image/svg+xml, application/rss+xml, application/atom+xml
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/ecmascript",
		"application/x-javascript", "application/xml":
		return true
	}
	return false
}

// compress runs handle (the rest of ServeHTTP) with rw.w compressed when the
// client accepts gzip; rw.w is the client's writer, through the access
// log's meter. Every response of a compressing server says
// Vary: Accept-Encoding, compressed or not, for the caches in between.
func (s *Server) compress(rw *response, r *http.Request, id string) {
	if s.gzip == nil {
		s.handle(rw, r, id)
		return
	}
	if r.Method == http.MethodHead || r.Header.Get("Range") != "" ||
		!strings.Contains(strings.ToLower(r.Header.Get("Accept-Encoding")), "gzip") ||
		binaryFile(r.URL.Path) {
		// Not compressed, whatever the type: the client's own writer
		// keeps sendfile for static files. (gzhttp itself reads the
		// Accept-Encoding of the requests that pass, q=0 included.)
		rw.w.Header().Add("Vary", "Accept-Encoding")
		s.handle(rw, r, id)
		return
	}
	client := rw.w
	s.gzip(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rw.w = w
		s.handle(rw, r, id)
	})).ServeHTTP(&weakETag{ResponseWriter: client, r: r}, r)
	rw.w = client
}

// binaryFile reports whether urlPath names a static file whose type, by
// its extension (as http.ServeContent finds it), is not compressible: an
// image, a font, an archive. Those skip gzhttp's writer, which would hide
// the client's ReadFrom (sendfile) for nothing.
func binaryFile(urlPath string) bool {
	ext := path.Ext(urlPath)
	if ext == "" || strings.EqualFold(ext, ".lasp") {
		return false
	}
	ct := mime.TypeByExtension(ext)
	return ct != "" && !compressible(ct)
}

// weakETag is the client's writer under gzhttp: when gzhttp compresses a
// response with a strong ETag, it makes the tag weak (W/"…"), since the
// gzipped bytes are not the file's bytes (RFC 9110, 8.8.3), as nginx does.
// Conditional requests still work: If-None-Match compares weakly, so
// W/"x" matches the file's "x" and the answer is 304, which weakETag
// sends with the client's W/"x"; If-Range and If-Match compare strongly,
// so a weak tag never splices a range of the plain file into a gzipped
// copy.
type weakETag struct {
	http.ResponseWriter
	r    *http.Request
	sent bool // the header has gone (or is going) to the client
}

func (e *weakETag) WriteHeader(code int) {
	e.weaken(code)
	e.ResponseWriter.WriteHeader(code)
}

func (e *weakETag) Write(p []byte) (int, error) {
	e.weaken(http.StatusOK)
	return e.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the client (Flush, deadlines).
// A flush through gzhttp writes the gzip stream's bytes first, so the
// header has passed through Write by then.
func (e *weakETag) Unwrap() http.ResponseWriter { return e.ResponseWriter }

func (e *weakETag) weaken(code int) {
	if e.sent || code < 200 { // 1xx: informational, the real header follows
		return
	}
	e.sent = true
	h := e.Header()
	etag := h.Get("ETag")
	if etag == "" || strings.HasPrefix(etag, "W/") {
		return
	}
	switch {
	case h.Get("Content-Encoding") == "gzip",
		code == http.StatusNotModified && strings.Contains(strings.Join(e.r.Header.Values("If-None-Match"), ","), "W/"+etag):
		h.Set("ETag", "W/"+etag)
	}
}
