// Package scripting compiles Lasp pages to Lua and runs them.
//
// A page (*.lasp) is parsed by package page, turned into Lua that keeps
// every original line number, compiled once to a *lua.FunctionProto and
// cached. A request runs the cached protos in a pooled, sandboxed Lua state
// with a fresh global environment, writing to an io.Writer through the
// intrinsic objects (Request, Response, Server).
//
// Everything about Lua states lives here: the sandbox, the pool, contexts and
// deadlines, and the reasons a state is thrown away.
//
// The engine knows nothing of HTTP: the framework adapts *http.Request and
// http.ResponseWriter to the small interfaces in env.go. This package must
// never import net/http, framework, globalfile or templates.
package scripting
