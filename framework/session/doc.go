// Package session keeps Lasp's sessions between requests
// (docs/sessions.md, docs/farm.md): the session cookie, the saved form of
// a session, the per-session locks and their waits, and the stores that
// keep sessions — in this process (memory), in the cookie, or in a Redis
// shared by a farm — with their expiry and the claim on Session_OnEnd.
//
// Open parses the store's setting and opens it. A request uses its
// session through a Request (Begin), the front that every store shares: it
// loads the session, or makes one on first need, keeps the page's changes
// on a copy, and commits them only when the page succeeds. A Store (the
// memory, cookie and Redis stores) only loads, saves, locks and ends
// sessions; what it can do beyond that it says through small optional
// interfaces (InProcess, InCookie, and Reporter: the Status of its
// sessions and locks, for a status page). What the framework does for a
// session (run Session_OnEnd, log that a store is down) reaches a store
// through the small Host interface it was opened with; a store never sees
// the server.
//
// It may import net/http, scope, internal/redisstore and gorilla's
// securecookie and sessions. It must never depend on framework, on
// scripting or on gopher-lua: a session is plain data (scope.Contents),
// and what the framework keeps with it in this process (Record.Live) is
// opaque here (deps_test.go).
package session
