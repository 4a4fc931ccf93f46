package session

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// A Reporter is a Store that reports what it holds, for an operators'
// status page: an optional capability, discovered with a type assertion on
// the Store (as database/sql discovers a driver's). Every store of this
// package is one.
type Reporter interface {
	Store
	// Status reports the store's sessions and locks: lists of at most
	// limit entries each (limit <= 0: DefaultLimit) with their totals. It
	// returns copies, is safe to call from any goroutine, and makes at most
	// one round trip to a shared store, bounded by ctx.
	Status(ctx context.Context, limit int) Status
}

var (
	_ Reporter = (*memoryStore)(nil)
	_ Reporter = (*cookieStore)(nil)
	_ Reporter = (*redisStore)(nil)
)

// DefaultLimit bounds Status's lists when its limit is not positive.
const DefaultLimit = 1000

// Status is what a store reports of its sessions (Reporter). A session ID
// appears as its first 8 characters only (IDPrefix): the whole ID is a
// secret, the key to its session.
type Status struct {
	Store string `json:"store"` // Store.Name
	// Sessions is the number of live sessions; -1 where the store cannot
	// count them (the cookie store: sessions live in browsers).
	Sessions int64 `json:"sessions"`
	// List holds up to the limit of the live sessions, by ID, where the
	// store can list them: any of them in the memory store, those that
	// expire soonest in Redis.
	List []SessionStatus `json:"list,omitempty"`
	// Locks are the session locks held or waited for in this process
	// (True pages), longest held first, up to the limit; LocksTotal counts
	// them all. A Redis store's locks here are the queue on this server;
	// its lease lock in Redis is not listed.
	Locks      []LockStatus `json:"locks"`
	LocksTotal int          `json:"locks_total"`
	// Kept counts the Redis locks this server keeps between requests of
	// their sessions, which no request of it holds now (docs/farm.md).
	Kept int `json:"kept,omitempty"`
	// Sweeps counts this server's passes looking for expired sessions to
	// end (the Redis store; the memory store ends each at its time).
	Sweeps int64 `json:"sweeps,omitempty"`
	// Err is what went wrong asking the store, if anything (Sessions is
	// then -1).
	Err string `json:"error,omitempty"`
}

// SessionStatus is one session of a Status. The Redis store knows only
// its ID and ExpiresIn.
type SessionStatus struct {
	ID        string        `json:"id"`                   // IDPrefix
	Idle      time.Duration `json:"idle,omitempty"`       // since its last request left; 0 while one is in it
	ExpiresIn time.Duration `json:"expires_in,omitempty"` // unless a request comes; 0 while one is in it
	Timeout   float64       `json:"timeout,omitempty"`    // Session.Timeout, minutes
	Requests  int           `json:"requests,omitempty"`   // requests in it now
}

// LockStatus is one session's lock in a Status.
type LockStatus struct {
	ID      string        `json:"id"`       // IDPrefix
	Held    bool          `json:"held"`     // a request holds it (else all are still waiting)
	Holder  string        `json:"holder"`   // the holder's Use.Name: its page
	HeldFor time.Duration `json:"held_for"` // since its holder took it
	Waiters int           `json:"waiters"`  // requests queued for it
}

// IDPrefix is the part of a session ID that logs and status pages show:
// its first 8 characters.
func IDPrefix(id string) string { return id[:min(len(id), 8)] }

// finish sorts st's lists, cuts them to limit and counts what was cut.
func (st *Status) finish(limit int) {
	slices.SortFunc(st.List, func(a, b SessionStatus) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(st.Locks, func(a, b LockStatus) int { return cmp.Compare(b.HeldFor, a.HeldFor) })
	st.LocksTotal = len(st.Locks)
	if len(st.Locks) > limit {
		st.Locks = st.Locks[:limit]
	}
	if st.Locks == nil {
		st.Locks = []LockStatus{}
	}
}

// lockStatus describes a session's lock, as its scope.Lock's Status
// found it (owner, waiters), held since since (Unix nanoseconds, 0 for
// unknown).
func lockStatus(id string, owner any, waiters int, since int64, now time.Time) LockStatus {
	ls := LockStatus{ID: IDPrefix(id), Held: owner != nil, Waiters: waiters}
	if q, ok := owner.(*Request); ok {
		ls.Holder = q.use.Name // set before the request took the lock, never changed
	}
	if ls.Held && since != 0 {
		ls.HeldFor = max(now.Sub(time.Unix(0, since)), 0)
	}
	return ls
}

// status lists the table's locks.
func (t *lockTable) status(now time.Time) []LockStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	var list []LockStatus
	for id, l := range t.m {
		owner, waiters := l.Lock.Status()
		list = append(list, lockStatus(id, owner, waiters, l.since.Load(), now))
	}
	return list
}

func limitOr(limit int) int {
	if limit <= 0 {
		return DefaultLimit
	}
	return limit
}

// Status lists up to limit sessions, in no particular order, and the
// locks: only sessions with a request in them can hold or wait for one.
func (m *memoryStore) Status(_ context.Context, limit int) Status {
	limit = limitOr(limit)
	st := Status{Store: m.Name()}
	type busySession struct {
		ss *memSession
		id string // read under mu: RenewID changes it
	}
	var busy []busySession
	m.mu.Lock()
	now := m.now()
	st.Sessions = int64(len(m.byID))
	for _, ss := range m.byID {
		if len(st.List) < limit {
			s := SessionStatus{ID: IDPrefix(ss.id), Timeout: ss.timeout, Requests: ss.active}
			if ss.active == 0 {
				s.Idle = max(now.Sub(ss.left), 0)
				s.ExpiresIn = max(minutes(ss.timeout)-s.Idle, 0)
			}
			st.List = append(st.List, s)
		}
		if ss.active > 0 {
			busy = append(busy, busySession{ss, ss.id})
		}
	}
	m.mu.Unlock()
	for _, b := range busy {
		if owner, waiters := b.ss.lock.Status(); owner != nil || waiters > 0 {
			st.Locks = append(st.Locks, lockStatus(b.id, owner, waiters, b.ss.lockedAt.Load(), now))
		}
	}
	st.finish(limit)
	return st
}

// Status reports this server's locks only: the sessions live in their
// cookies.
func (c *cookieStore) Status(_ context.Context, limit int) Status {
	st := Status{Store: c.Name(), Sessions: -1, Locks: c.locks.status(c.now())}
	st.finish(limitOr(limit))
	return st
}

// Status counts the sessions in Redis and lists those that expire
// soonest (one round trip), and this server's queues for their locks.
func (m *redisStore) Status(ctx context.Context, limit int) Status {
	limit = limitOr(limit)
	now := time.Now()
	st := Status{Store: m.Name(), Locks: m.locks.status(now), Sweeps: m.sweeps.Load()}
	m.mu.Lock()
	st.Kept = len(m.kept)
	m.mu.Unlock()
	soonest, n, err := m.st.Soonest(ctx, limit)
	if err != nil {
		st.Sessions, st.Err = -1, err.Error()
	} else {
		st.Sessions = n
	}
	for _, e := range soonest {
		st.List = append(st.List, SessionStatus{ID: IDPrefix(e.ID), ExpiresIn: max(e.Deadline.Sub(now), 0)})
	}
	st.finish(limit)
	return st
}
