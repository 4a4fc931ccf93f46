package framework

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"

	"lasp/framework/session"
	"lasp/internal/scan"
	"lasp/scripting"
	"lasp/templates"
)

// fail turns an error from serving a request into its response. It is the
// one place where errors become HTTP statuses and error pages.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, id string, rw *response, err error) {
	var se *scripting.Error
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, errShuttingDown):
		status = http.StatusServiceUnavailable
		s.refused("shutting_down")
	case errors.Is(err, scripting.ErrSessionAfterCommit):
		s.refused("session_after_commit")
		// The database kept the page's changes; its session did not.
		status = http.StatusServiceUnavailable
		s.log.Error("session not saved after the transaction committed", "request_id", id, "path", r.URL.Path, "err", err.Error())
	case errors.Is(err, errSessionBusy), errors.Is(err, scripting.ErrBusy), errors.Is(err, errStoreDown), errors.Is(err, errBodyBusy), errors.Is(err, errMemoryShort):
		status = http.StatusServiceUnavailable
		s.refused(refusal(err))
		s.log.Warn("request refused", "request_id", id, "path", r.URL.Path, "err", err.Error())
	case errors.Is(err, errTooLarge):
		// Also through a page's runtime error: a body over MaxRequestBody
		// that the page did not catch with pcall.
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadRequest):
		status = http.StatusBadRequest
		s.log.Debug("malformed request", "request_id", id, "path", r.URL.Path, "err", err.Error())
	case errors.As(err, &se):
		if se.Kind == scripting.Canceled {
			s.log.Debug("request canceled", "request_id", id, "path", r.URL.Path)
			return
		}
	case errors.Is(err, errNotFound), errors.Is(err, fs.ErrNotExist):
		status = http.StatusNotFound
	}
	if status == http.StatusInternalServerError {
		s.logError(r, id, err, se)
	}
	if rw.committed {
		// The head and part of the body are sent: abort the response so
		// that the client sees it cut short, not complete.
		panic(http.ErrAbortHandler)
	}
	rw.reset()
	if status == http.StatusNotFound && s.notFoundPage(r, id, rw) {
		return
	}
	if status == http.StatusInternalServerError && se != nil {
		if s.cfg.Dev {
			s.devError(w, id, se)
			return
		}
		if s.customError(w, r, id, rw, se) {
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.WriteHeader(status)
	templates.WriteError(w, status, id)
}

func (s *Server) logError(r *http.Request, id string, err error, se *scripting.Error) {
	attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "err", err.Error()}
	if se != nil {
		attrs = append(attrs, "kind", se.Kind.String(), "file", se.File, "line", se.Line)
		if len(se.Includes) > 0 {
			attrs = append(attrs, "from", se.Includes)
		}
		if se.Traceback != "" {
			attrs = append(attrs, "traceback", se.Traceback)
		}
	}
	s.log.Error("page failed", attrs...)
}

// devError writes the detailed -dev error page.
func (s *Server) devError(w http.ResponseWriter, id string, se *scripting.Error) {
	d := templates.DevError{
		Status:    http.StatusInternalServerError,
		Title:     "Lua " + se.Kind.String(),
		Message:   se.Msg,
		File:      se.File,
		Line:      se.Line,
		Traceback: se.Traceback,
		RequestID: id,
	}
	for _, step := range se.Includes {
		how, _ := step.MarshalText()
		d.Message += "\n(" + string(how) + ")"
	}
	if se.File != "" && se.Line > 0 {
		if src, err := fs.ReadFile(s.fsys, se.File); err == nil {
			d.Source = templates.SourceAround(scan.LuaNewlines(string(src)), se.Line, 5) // lines numbered as Lua numbers them
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	templates.WriteDevError(w, d)
}

// customError runs the application's 500.lasp, if it has one; it reports
// whether a response was written.
func (s *Server) customError(w http.ResponseWriter, r *http.Request, id string, rw *response, se *scripting.Error) bool {
	p, err := s.engine.Page("500.lasp")
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("500.lasp does not compile", "request_id", id, "err", err.Error())
		}
		return false
	}
	req := &request{r: r, w: rw.client(), maxBody: s.cfg.MaxRequestBody}
	defer s.closeRequest(req, id)
	env := s.newEnv(envOptions{ctx: r.Context(), id: id, page: true, req: req, rw: rw,
		noSession: errorPageNoSession, status: http.StatusInternalServerError, lastError: se})
	err = s.engine.Run(r.Context(), rw, p, env)
	if err == nil {
		return true
	}
	s.log.Error("500.lasp failed", slog.String("request_id", id), slog.String("err", err.Error()))
	if rw.committed {
		return true
	}
	rw.reset()
	return false
}

// notFoundName is the application's 404 page, at its root. Asked for by
// its own URL it answers 404 too (serve).
const notFoundName = "404.lasp"

// errorPageNoSession is why 500.lasp and 404.lasp have no session.
const errorPageNoSession = "an error page (404.lasp, 500.lasp) has no session"

// notFoundPage runs the application's 404.lasp, if it has one, for a URL
// that maps to nothing or must never be served, so that both answer alike.
// It runs as 500.lasp does: status 404 already set, Request, Response,
// Server and Application, no session and no global.lasa objects. It
// reports whether a response was written; when 404.lasp is missing, does
// not compile or fails before sending anything, the caller answers the
// plain 404.
func (s *Server) notFoundPage(r *http.Request, id string, rw *response) bool {
	if s.engine.MemoryShort() {
		return false
	}
	p, err := s.engine.Page(notFoundName)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("404.lasp does not compile", "request_id", id, "err", err.Error())
		}
		return false
	}
	release, err := s.admitBody(r)
	if err != nil {
		return false
	}
	defer release()
	req := s.newRequest(rw.client(), r, nil)
	defer s.closeRequest(req, id)
	env := s.newEnv(envOptions{ctx: r.Context(), id: id, page: true, req: req, rw: rw,
		noSession: errorPageNoSession, status: http.StatusNotFound})
	err = s.engine.Run(r.Context(), rw, p, env)
	if err == nil {
		return true
	}
	s.log.Error("404.lasp failed", slog.String("request_id", id), slog.String("path", r.URL.Path), slog.String("err", err.Error()))
	if rw.committed {
		return true
	}
	rw.reset()
	return false
}

// refusal names why a request answered 503, for lasp_refused_total.
func refusal(err error) string {
	switch {
	case errors.Is(err, session.ErrLockBroken):
		return "lock_released"
	case errors.Is(err, errSessionBusy):
		return "session_busy"
	case errors.Is(err, scripting.ErrBusy):
		return "application_lock"
	case errors.Is(err, errStoreDown):
		return "store_down"
	case errors.Is(err, errBodyBusy):
		return "body_busy"
	case errors.Is(err, errMemoryShort):
		return "memory_short"
	}
	return "other"
}

// refused counts a 503 by reason.
func (s *Server) refused(reason string) {
	if s.metrics != nil {
		s.metrics.refused.WithLabelValues(reason).Inc()
	}
}
