package scripting

import (
	"errors"
	"testing"
)

// TestSessionAfterCommit: when the session cannot be saved after a
// transactional page committed, the error says so (framework answers 503);
// without a transaction it is the session's own error.
func TestSessionAfterCommit(t *testing.T) {
	down := errors.New("store down")
	failing := func(e *Env) { e.Commit = func() error { return down } }
	r := runAPICase(t, apiCase{page: `<%@ Transaction="Required" %>page`, env: failing})
	if !errors.Is(r.err, ErrSessionAfterCommit) || !errors.Is(r.err, down) {
		t.Errorf("transactional page: %v, want ErrSessionAfterCommit wrapping the store's error", r.err)
	}
	r = runAPICase(t, apiCase{page: `page`, env: failing})
	if errors.Is(r.err, ErrSessionAfterCommit) || !errors.Is(r.err, down) {
		t.Errorf("page without a transaction: %v, want the store's error alone", r.err)
	}
}
