package framework

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"lasp/framework/session"
	"lasp/templates"
)

// StatusHandler serves the operators' status page (docs/operations.md):
// GET /status is the live application (Snapshot) as HTML, or as JSON for
// Accept: application/json or ?format=json; POST /status/release releases
// a stuck session lock (form field "session": the ID's first 8
// characters, as the page shows them), the page asking to confirm first.
// It belongs on an operators' listener (serve -admin-addr), never on the
// public one.
func (s *Server) StatusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", s.serveStatus)
	mux.HandleFunc("POST /status/release", s.releaseLock)
	// The release form posts from the page itself; another site's form
	// must not.
	return http.NewCrossOriginProtection().Handler(mux)
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	snap := s.Snapshot(r.Context())
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(snap)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page := struct {
		Snapshot
		Notice string
	}{Snapshot: snap, Notice: r.URL.Query().Get("notice")}
	if err := templates.WriteStatus(w, page); err != nil {
		s.log.Error("writing the status page", "err", err.Error())
	}
}

// releaseLock breaks the session lock the form names, logs it, and goes
// back to the status page with what happened.
func (s *Server) releaseLock(w http.ResponseWriter, r *http.Request) {
	prefix := r.FormValue("session")
	notice := ""
	b, ok := s.sessions.(session.Breaker)
	if !ok {
		notice = "This session store cannot release locks."
	} else if id, err := b.Break(r.Context(), prefix); err != nil {
		notice = "Not released: " + err.Error()
	} else {
		s.log.Warn("session lock released by an operator", "session", session.IDPrefix(id), "remote_addr", r.RemoteAddr)
		notice = "Released the lock of session " + session.IDPrefix(id) + "…: the next request waiting for it runs, and the page that held it cannot save its changes."
	}
	http.Redirect(w, r, "/status?notice="+url.QueryEscape(notice), http.StatusSeeOther)
}
