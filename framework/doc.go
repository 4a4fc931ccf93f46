// Package framework is Lasp as an http.Handler: it maps URLs to the files of
// an application, serves static files, runs pages through package scripting,
// and turns every failure into a response in one place (errors.go).
//
// A Server is made with New from a Config whose zero value works, is mounted
// anywhere an http.Handler goes, and is ended with Close.
//
// framework may import scripting, scope, globalfile and templates; nothing
// below it imports framework, and it never imports cmd.
package framework
