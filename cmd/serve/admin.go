package main

import (
	"net/http"
	"net/http/pprof"

	"lasp/framework"
)

// adminHandler is the operators' listener (-admin-addr): the status page,
// the metrics and Go's profiler, never served on the public address.
func adminHandler(app *framework.Server) http.Handler {
	mux := http.NewServeMux()
	status := app.StatusHandler()
	mux.Handle("/status", status)
	mux.Handle("/status/", status)
	mux.Handle("GET /metrics", app.MetricsHandler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("GET /{$}", http.RedirectHandler("/status", http.StatusFound))
	return mux
}
