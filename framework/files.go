package framework

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unicode"
)

// This file maps URL paths to files of the application and serves the
// static ones (docs/pages.md).

// errNotFound means: answer 404.
var errNotFound = errors.New("not found")

// target is what a URL path resolves to.
type target struct {
	// name is the slash-separated name in the app FS ("index.lasp",
	// "dir/index.html"); empty when redirect is set.
	name string
	// page reports that name ends in .lasp (in any case): run it, don't
	// serve it.
	page bool
	// redirect, when non-empty, is the path (escaped, ready for a Location
	// header, without the query string) to redirect to: a directory asked
	// for without its trailing slash.
	redirect string
}

// indexNames are the default documents of a directory, best first.
var indexNames = [...]string{"index.lasp", "index.html"}

// lookup resolves a request's URL path (r.URL.Path, already percent-decoded)
// in fsys. Every path that must not be served, and every path that does not
// name a regular file or a directory with a default document, is
// errNotFound; other file system errors are returned as they are.
func lookup(fsys fs.FS, urlPath string) (target, error) {
	name, slash, ok := cleanName(urlPath)
	if !ok || hidden(name) {
		return target{}, errNotFound
	}
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return target{}, fsError(err)
	}
	switch {
	case fi.IsDir() && !slash:
		return target{redirect: (&url.URL{Path: "/" + name + "/"}).EscapedPath()}, nil
	case fi.IsDir():
		return lookupIndex(fsys, name)
	case slash || !fi.Mode().IsRegular():
		return target{}, errNotFound
	}
	return fileTarget(name), nil
}

// lookupIndex finds the default document of directory dir.
func lookupIndex(fsys fs.FS, dir string) (target, error) {
	for _, index := range indexNames {
		name := path.Join(dir, index)
		fi, err := fs.Stat(fsys, name)
		if err != nil {
			if err := fsError(err); err != errNotFound {
				return target{}, err
			}
			continue
		}
		if fi.Mode().IsRegular() {
			return fileTarget(name), nil
		}
	}
	return target{}, errNotFound
}

func fileTarget(name string) target {
	return target{name: name, page: strings.EqualFold(path.Ext(name), ".lasp")}
}

// cleanName turns a URL path into a name for fs.FS, reporting whether it
// ended in a slash. It refuses rather than cleans: a path with "..", ".",
// an empty segment, a dot segment, a backslash, a NUL, a colon, or a segment
// that Windows would silently alter is not ok. The root is ".".
func cleanName(urlPath string) (name string, slash, ok bool) {
	rest, found := strings.CutPrefix(urlPath, "/")
	if !found || strings.ContainsAny(rest, "\\\x00:") {
		return "", false, false
	}
	if rest == "" {
		return ".", true, true
	}
	rest, slash = strings.CutSuffix(rest, "/")
	for seg := range strings.SplitSeq(rest, "/") {
		if !safeSegment(seg) {
			return "", false, false
		}
	}
	if !fs.ValidPath(rest) {
		return "", false, false
	}
	return rest, slash, true
}

// safeSegment reports whether one path segment may be looked up. Besides
// empty and dot segments it refuses what Windows file systems would resolve
// to another name: trailing dots and spaces ("global.lasa."), and 8.3 short
// names ("GLOBAL~1.LAS").
func safeSegment(seg string) bool {
	switch {
	case seg == "", seg[0] == '.':
		return false
	case strings.HasSuffix(seg, "."), strings.HasSuffix(seg, " "):
		return false
	}
	for i := 0; i+1 < len(seg); i++ {
		if seg[i] == '~' && '0' <= seg[i+1] && seg[i+1] <= '9' {
			return false
		}
	}
	return true
}

// hidden reports whether the slash-separated app-relative name must never
// be served (docs/pages.md): global.lasa (at any depth), anything under
// components/, lib/ or data/ (the application's writable place), *.inc, and
// any segment starting with ".". Names are compared under Unicode case
// folding, so that a case-insensitive file system cannot leak /GLOBAL.LASA,
// /Lib/x.lua or /DATA/shop.db. The root "." is not hidden.
func hidden(name string) bool {
	if name == "." {
		return false
	}
	segs := strings.Split(fold(name), "/")
	if first := segs[0]; first == foldedComponents || first == foldedLib || first == foldedData {
		return true
	}
	for _, seg := range segs {
		if seg == foldedGlobal || strings.HasPrefix(seg, ".") || strings.HasSuffix(seg, foldedInc) {
			return true
		}
	}
	return false
}

var (
	foldedGlobal     = fold("global.lasa")
	foldedComponents = fold("components")
	foldedLib        = fold("lib")
	foldedData       = fold("data")
	foldedNotFound   = fold(notFoundName)
	foldedInc        = fold(".inc")
)

// fold maps every rune to the smallest rune that is equal to it under
// Unicode simple case folding, so that "ſ" (U+017F) and "S" fold alike, as
// they do on case-insensitive file systems.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// fsError maps an error from fsys to errNotFound when it means that the name
// does not resolve to a file inside the root, and returns other errors (the
// caller answers 500).
func fsError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrInvalid),
		errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ELOOP),
		errors.Is(err, syscall.ENAMETOOLONG), escapesRoot(err):
		return errNotFound
	}
	return err
}

// escapesRoot reports whether err is os.Root refusing a name that leaves
// the root (a symbolic link pointing outside, for one). The os package
// reports that with an unexported error and no fs.Err* to match, so its
// text is compared; TestLookupSymlinks fails if that text ever changes.
func escapesRoot(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "path escapes from parent"
}

// serveStatic serves the static file name from fsys with http.ServeContent:
// Last-Modified, a strong ETag, Range, and the conditional request headers.
// Only GET and HEAD are allowed; any other method is answered 405 here. The
// ETag is derived from size and modification time, or, when the modification
// time is zero (embed.FS), from a SHA-256 of the content, kept in etags.
func serveStatic(w http.ResponseWriter, r *http.Request, fsys fs.FS, etags *etagCache, name string) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return nil
	}
	if hidden(name) {
		return errNotFound
	}
	f, err := fsys.Open(name)
	if err != nil {
		return fsError(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fsError(err)
	}
	if !fi.Mode().IsRegular() {
		return errNotFound
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		content = bytes.NewReader(b)
	}
	etag, err := staticETag(etags, name, fi, content)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, fi.ModTime(), content)
	return nil
}

// staticETag returns the strong ETag of a static file whose content is
// positioned at its start, and leaves it there. A content hash (for a file
// without a modification time) is kept in etags, when not nil.
func staticETag(etags *etagCache, name string, fi fs.FileInfo, content io.ReadSeeker) (string, error) {
	if mt := fi.ModTime(); !mt.IsZero() {
		return `"` + strconv.FormatInt(fi.Size(), 36) + "-" + strconv.FormatInt(mt.UnixNano(), 36) + `"`, nil
	}
	key := hashKey{name: name, size: fi.Size()}
	if etag, ok := etags.load(key); ok {
		return etag, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, content); err != nil {
		return "", err
	}
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	etag := `"sha256-` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
	etags.store(key, etag)
	return etag, nil
}

// etagCache keeps the content-hash ETags of one Server's files that have
// no modification time (an embed.FS never changes). It holds at most
// maxHashETags; past that ETags are computed every time.
type etagCache struct {
	m sync.Map // hashKey -> string
	n atomic.Int64
}

// hashKey identifies a file whose ETag is a content hash.
type hashKey struct {
	name string
	size int64
}

const maxHashETags = 4096

func (c *etagCache) load(k hashKey) (string, bool) {
	if c == nil {
		return "", false
	}
	v, ok := c.m.Load(k)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// clear forgets every ETag (the files may have changed: Server.Restart).
func (c *etagCache) clear() {
	c.m.Clear()
	c.n.Store(0)
}

func (c *etagCache) store(k hashKey, etag string) {
	if c != nil && c.n.Add(1) <= maxHashETags {
		c.m.Store(k, etag)
	}
}

// mountPrefix is the part of the client's URL path in front of r.URL.Path,
// as sent (escaped): "/app" when the application is mounted with
// http.StripPrefix("/app", …), "" at the root.
func mountPrefix(r *http.Request) string {
	sent, _, _ := strings.Cut(r.RequestURI, "?")
	if u, err := url.ParseRequestURI(sent); err == nil && u.Host != "" {
		sent = u.EscapedPath() // absolute-form, as sent to a proxy
	}
	if p, ok := strings.CutSuffix(sent, r.URL.EscapedPath()); ok && strings.HasPrefix(p, "/") {
		return p
	}
	return ""
}

// localRedirect is the Location of a redirect from r's URL to the
// directory to (an escaped path from the root): relative ("sub/", as
// http.FileServer writes it), so that it stays under a mount prefix, when
// r.URL.Path names the same directory without its slash.
func localRedirect(r *http.Request, to string) string {
	dir := strings.TrimSuffix(to, "/")
	if r.URL.EscapedPath() == dir {
		return dir[strings.LastIndex(dir, "/")+1:] + "/"
	}
	return to
}
