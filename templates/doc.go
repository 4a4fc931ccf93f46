// Package templates holds the framework's own HTML: the generic error page,
// the detailed error page of -dev mode, the operators' status page
// (serve -admin-addr), and the starter application that "serve new"
// writes.
//
// Pages are html/template files embedded in the binary and parsed once;
// everything shown in them is HTML-escaped. They carry their own small
// inline style sheet and load nothing from elsewhere, so they render even
// when the application's own files are broken.
//
// The package writes to an io.Writer: setting the status and headers is the
// caller's business. It imports only the standard library and must never
// import the rest of lasp; it knows nothing of Lua, pages or sessions (the
// caller turns a script error into a DevError).
package templates
