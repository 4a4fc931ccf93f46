package session

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"time"

	"lasp/internal/redisstore"
)

// ended removes a session whose Session_OnEnd ran, so that no server
// claims it again: Done asks again while its reply is lost, up to the
// store's lease, and after that the sweep asks again until Redis answers.
// Only if no Done reaches Redis before the claim lapses (ClaimFor), and
// another server claims the session meanwhile, does its event run again.
func (m *redisStore) ended(ctx context.Context, rec *Record) {
	if rec.IsNew {
		return
	}
	state := rec.state.(*redisState)
	if !m.done(ctx, rec.ID, state.claim) {
		state.undone = true
		m.mu.Lock()
		if len(m.undone) < maxUndone {
			m.undone[rec.ID] = state.claim
		}
		m.mu.Unlock()
	}
}

// maxUndone bounds the sessions whose Done the sweep asks again.
const maxUndone = 10_000

// done removes a session whose Session_OnEnd ran under claim; it reports
// false when Redis did not answer.
func (m *redisStore) done(ctx context.Context, id, claim string) bool {
	switch err := m.st.Done(ctx, id, claim); {
	case errors.Is(err, redisstore.ErrClaimLapsed):
		m.log.Error("Session_OnEnd ran past its claim: another server claimed the session, and runs it again", "session", id[:8])
	case err != nil:
		m.host.Down(err)
		return false
	}
	return true
}

// redo asks again for the Dones that got no answer; it reports false when
// Redis still does not answer.
func (m *redisStore) redo() bool {
	m.mu.Lock()
	undone := maps.Clone(m.undone)
	m.mu.Unlock()
	for id, claim := range undone {
		if !m.done(context.Background(), id, claim) {
			return false
		}
		m.mu.Lock()
		delete(m.undone, id)
		m.mu.Unlock()
	}
	return true
}

// sweepEvery is how often a server looks for sessions to end.
const sweepEvery = time.Second

// sweep runs Session_OnEnd for the sessions that expired, or whose ending
// another server claimed and did not finish, claiming them first so that
// each runs once in the farm.
func (m *redisStore) sweep() {
	defer m.swept.Done()
	for {
		select {
		case <-m.stop:
			return
		case <-time.After(sweepEvery/2 + rand.N(sweepEvery)):
		}
		if m.redo() {
			for m.endDue() {
			}
		}
		m.dropLapsed()
		m.sweeps.Add(1)
	}
}

// endDue claims up to 100 sessions whose Session_OnEnd is due and runs
// them; it reports whether there may be more. When Redis does not answer
// a Done, the rest of the claim is left to lapse (ClaimFor): those
// sessions end later, once, on whichever server claims them then.
func (m *redisStore) endDue() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ended, err := m.st.Claim(ctx, 100)
	cancel()
	if err != nil {
		m.host.Down(err)
		return false
	}
	for _, e := range ended {
		state := &redisState{claim: e.Claim}
		rec := &Record{ID: e.ID, state: state}
		var err error
		if rec.Data, rec.Objects, err = decode(e.Data); err != nil {
			m.log.Error("a session in Redis does not decode", "session", e.ID[:8], "err", err.Error())
			rec.Data, rec.Objects = nil, nil
		}
		m.End(context.Background(), rec)
		if state.undone {
			return false
		}
	}
	return len(ended) == 100
}
