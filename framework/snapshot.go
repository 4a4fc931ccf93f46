package framework

import (
	"context"
	"strings"
	"time"

	"lasp/framework/session"
	"lasp/scripting"
)

// Snapshot is the live application as an operators' status page shows it
// (Server.Snapshot): plain values, copied when it was taken. Lists hold at
// most snapshotLimit entries, beside their totals. A session ID appears as
// its first 8 characters only: the whole ID is a secret.
type Snapshot struct {
	Time time.Time `json:"time"`
	// InFlight counts the requests being served.
	InFlight int64 `json:"requests_in_flight"`
	// States is the pool of Lua states that run pages.
	States scripting.Stats `json:"lua_states"`
	// Memory is the memory watch: in use against Config.MemoryLimit (a
	// zero limit: no watch).
	Memory scripting.MemoryStats `json:"memory"`
	// Apartments are the live apartments: the application's, and those of
	// sessions with apartment-threaded objects ("Session " and the ID's
	// prefix), by name.
	Apartments      []scripting.ApartmentStats `json:"apartments"`
	ApartmentsTotal int                        `json:"apartments_total"`
	// Sessions is what the session store reports: its sessions and the
	// locks of this server's requests.
	Sessions session.Status `json:"sessions"`
	// Objects are the ids of global.lasa's Application objects created so
	// far, in order of creation.
	Objects []string `json:"application_objects"`
	// Stores are the Redis stores in use (the session store, the
	// Application store), with the last error each gave, if any.
	Stores []StoreHealth `json:"stores"`
}

// StoreHealth is one Redis store's health in a Snapshot.
type StoreHealth struct {
	Store     string    `json:"store"`                  // "session" or "application"
	LastError string    `json:"last_error,omitempty"`   // its last failure since the server started
	ErrorAt   time.Time `json:"last_error_at,omitzero"` // when
}

// storeError is a store's last failure (storeDown).
type storeError struct {
	err string
	at  time.Time
}

// snapshotLimit bounds a Snapshot's lists.
const snapshotLimit = session.DefaultLimit

// Snapshot reports the state of the live application, for a status page.
// It is safe to call from any goroutine, at any time, and does not wait for
// requests or apartments; with a Redis session store it asks Redis for the
// number of sessions, as long as ctx allows.
func (s *Server) Snapshot(ctx context.Context) Snapshot {
	snap := Snapshot{
		Time:     time.Now(),
		InFlight: s.inFlight.Load(),
		States:   s.engine.Stats(),
		Memory:   s.engine.Memory(),
		Objects:  s.g.Load().statics.Created(),
	}
	if snap.Objects == nil {
		snap.Objects = []string{}
	}
	snap.Apartments, snap.ApartmentsTotal = s.engine.Apartments(snapshotLimit)
	for i, a := range snap.Apartments {
		if id, ok := strings.CutPrefix(a.Name, "Session "); ok {
			snap.Apartments[i].Name = "Session " + session.IDPrefix(id)
		}
	}
	if r, ok := s.sessions.(session.Reporter); ok {
		snap.Sessions = r.Status(ctx, snapshotLimit)
	} else {
		snap.Sessions = session.Status{Store: s.sessions.Name(), Sessions: -1, Locks: []session.LockStatus{}}
	}
	var stores []string
	if kind, _ := session.Parse(s.cfg.SessionStore); kind == session.Redis {
		stores = append(stores, "session")
	}
	if s.farmApp != nil {
		stores = append(stores, "application")
	}
	snap.Stores = []StoreHealth{}
	s.downMu.Lock()
	for _, which := range stores {
		e := s.downLast[which]
		snap.Stores = append(snap.Stores, StoreHealth{Store: which, LastError: e.err, ErrorAt: e.at})
	}
	s.downMu.Unlock()
	return snap
}

// sessionCount is the number of live sessions, -1 where the store cannot
// count them (lasp_sessions_active).
func (s *Server) sessionCount(ctx context.Context) int64 {
	if r, ok := s.sessions.(session.Reporter); ok {
		return r.Status(ctx, 1).Sessions
	}
	return -1
}

// sessionLocks is the number of session locks held or waited for on this
// server (lasp_session_locks).
func (s *Server) sessionLocks() int {
	if r, ok := s.sessions.(session.Reporter); ok {
		return r.Status(context.Background(), 1).LocksTotal
	}
	return 0
}
