package session

import (
	"container/heap"
	"context"
	"time"
)

// remove takes ss out of the tables and the heap; m.mu is held.
func (m *memoryStore) remove(ss *memSession) {
	delete(m.byID, ss.id)
	delete(m.byCookie, ss.cookie)
	if ss.index >= 0 {
		heap.Remove(&m.queue, ss.index)
		ss.index = -1
	}
}

// push puts ss in the heap at its deadline; m.mu is held.
func (m *memoryStore) push(ss *memSession) {
	ss.deadline = ss.left.Add(minutes(ss.timeout))
	heap.Push(&m.queue, ss)
	m.schedule()
}

// schedule sets the timer for the earliest deadline; m.mu is held.
func (m *memoryStore) schedule() {
	if len(m.queue) == 0 {
		return
	}
	d := m.queue[0].deadline.Sub(m.now())
	if m.timer == nil {
		m.timer = time.AfterFunc(d, m.expire)
	} else {
		m.timer.Reset(d)
	}
}

// expire ends the sessions whose deadline passed. A session in use, or
// used since its deadline was set, goes back into the heap instead.
func (m *memoryStore) expire() {
	var ended []*memSession
	m.mu.Lock()
	now := m.now()
	for len(m.queue) > 0 && !m.queue[0].deadline.After(now) {
		ss := m.queue[0]
		real := ss.left.Add(minutes(ss.timeout))
		switch {
		case ss.active > 0:
			ss.deadline = now.Add(minutes(ss.timeout))
			heap.Fix(&m.queue, 0)
		case real.After(now):
			ss.deadline = real
			heap.Fix(&m.queue, 0)
		default:
			m.remove(ss)
			ended = append(ended, ss)
		}
	}
	m.schedule()
	m.mu.Unlock()
	for _, ss := range ended {
		m.host.End(context.Background(), ss.record())
	}
}

// deadlines is a heap of sessions by deadline (container/heap).
type deadlines []*memSession

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].deadline.Before(d[j].deadline) }
func (d deadlines) Swap(i, j int) {
	d[i], d[j] = d[j], d[i]
	d[i].index, d[j].index = i, j
}
func (d *deadlines) Push(x any) {
	ss := x.(*memSession)
	ss.index = len(*d)
	*d = append(*d, ss)
}
func (d *deadlines) Pop() any {
	old := *d
	ss := old[len(old)-1]
	old[len(old)-1] = nil
	*d = old[:len(old)-1]
	return ss
}
