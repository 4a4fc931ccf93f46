package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
)

// CookieName names the session cookie (docs/sessions.md).
const CookieName = "LASPSESSIONID"

// newID returns a fresh session ID: 128 bits from crypto/rand.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// idCookies makes and reads session cookies that hold an ID, signed and
// encrypted with the keys, and remembers the cookies that decoded.
type idCookies struct {
	codecs []securecookie.Codec
	log    *slog.Logger

	mu    sync.Mutex
	known map[string]string // cookie → session ID, for cookies that decoded
}

func newIDCookies(keys [][]byte, log *slog.Logger) *idCookies {
	codecs := securecookie.CodecsFromPairs(keys...)
	for _, c := range codecs {
		// Idle expiry is the store's; the cookie carries no age limit.
		c.(*securecookie.SecureCookie).MaxAge(0)
	}
	return &idCookies{codecs: codecs, log: log, known: map[string]string{}}
}

// issue sets the cookie of a new session that id names and returns its
// value ("" if it could not be made: the session then lasts one request).
func (c *idCookies) issue(w http.ResponseWriter, r *http.Request, id string) string {
	value, err := securecookie.EncodeMulti(CookieName, id, c.codecs...)
	if err != nil {
		c.log.Error("encoding the session cookie", "err", err.Error())
		return ""
	}
	setCookie(w, r, value, 0)
	return value
}

// id is the session ID the request's cookie carries, if it decodes.
// Cookies that decoded before are remembered (any server of a farm may
// have issued them), up to maxKnownCookies.
func (c *idCookies) id(r *http.Request) string {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return ""
	}
	c.mu.Lock()
	id, ok := c.known[ck.Value]
	c.mu.Unlock()
	if ok {
		return id
	}
	if securecookie.DecodeMulti(CookieName, ck.Value, &id, c.codecs...) != nil {
		return ""
	}
	c.mu.Lock()
	if len(c.known) >= maxKnownCookies {
		clear(c.known)
	}
	c.known[ck.Value] = id
	c.mu.Unlock()
	return id
}

// maxKnownCookies bounds the cookies remembered as decoded (~250 bytes each).
const maxKnownCookies = 100_000

// setCookie sets the session cookie (docs/sessions.md); maxAge < 0
// deletes it.
func setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: Secure(r)})
}

type secureKey struct{}

// MarkSecure returns r marked as having come over HTTPS on the client's
// side of a trusted proxy (X-Forwarded-Proto: https): its session cookie
// is Secure, as over TLS.
func MarkSecure(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), secureKey{}, true))
}

// Secure reports whether r came over HTTPS: its own TLS, or a trusted
// proxy's (MarkSecure).
func Secure(r *http.Request) bool {
	return r.TLS != nil || r.Context().Value(secureKey{}) == true
}

// minutes is a Session.Timeout as a duration.
func minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }
