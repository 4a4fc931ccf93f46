// Package framework is Lasp as an http.Handler: it maps URLs to the files of
// an application, serves static files, runs pages through package scripting,
// and turns every failure into a response in one place (errors.go).
//
// A Server is made with New from a Config whose zero value works, is mounted
// anywhere an http.Handler goes, and is ended with Close. Its Snapshot
// reports the live application (requests, Lua states, memory, apartments,
// sessions and their locks, declared objects, store health) as plain
// values, for an operators' status page (snapshot.go).
//
// Sessions are kept by package framework/session; framework adapts them to
// the script engine (session_view.go) and runs their events (session.go).
//
// framework may import framework/session, scripting, scope,
// internal/redisstore, globalfile and templates; nothing below it imports
// framework, and it never imports cmd.
package framework
