package scripting

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// errMemoryLimit is the cause of a run stopped by the memory watch.
var errMemoryLimit = errors.New("memory limit")

// The memory watch keeps the process under Config.MemoryLimit. gopher-lua
// has no allocation hook, so the watch samples the Go runtime's own
// accounting every watchEvery. Memory in use past the limit stops at once
// the run that was running while memory grew (a string doubled in a loop
// must not get the time of a collection to double again), and so does one
// run that grew memory in use by ownShare of the limit: no page may take
// half the server. Past gcShare the watch collects garbage, beside the
// ticks, to learn what is really live: live past stopShare stops the run
// that grew it most, past shortShare new pages are refused
// (Engine.MemoryShort) until memory is under it again (no wider band: a
// server whose live data sat inside one would refuse pages for good).
const (
	watchEvery = 5 * time.Millisecond
	gcShare    = 0.75 // in use, before collecting: collect to see what is live
	shortShare = 0.80 // live: refuse new pages
	stopShare  = 0.90 // live: stop the run that grew it
	ownShare   = 0.50 // one run grew memory in use this much: stop it
	// gcEvery spaces the watch's collections while memory stays high but
	// under the limit, so that a large live heap does not make it collect
	// on every tick.
	gcEvery = 50 * time.Millisecond
)

// memoryWatch is the engine's memory watch. Runs register while they run;
// each tick shares the growth of memory in use among the runs that were
// running Lua (not waiting in Server.Sleep, a lock or an apartment), which
// is where a script's allocations happen.
type memoryWatch struct {
	limit uint64
	short atomic.Bool
	stops atomic.Int64

	mu       sync.Mutex
	runs     map[*run]struct{}
	stopping int // runs stopped and not yet ended

	last      uint64        // memory in use at the last tick
	lastSeen  atomic.Uint64 // last, for Engine.Memory
	lastGC    time.Time     // when the watch last started a collection
	gcRunning atomic.Bool
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

func newMemoryWatch(limit int64) *memoryWatch {
	w := &memoryWatch{
		limit: uint64(limit),
		runs:  map[*run]struct{}{},
		done:  make(chan struct{}),
		last:  inUse(), // no run is blamed for what was there before
	}
	w.wg.Add(1)
	go w.loop()
	return w
}

// inUse is the memory the process holds for its own use: all the runtime
// has mapped, less what it returned to the system or keeps free. Objects
// not yet swept count until the next collection.
func inUse() uint64 {
	s := [...]metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	metrics.Read(s[:])
	var v [len(s)]uint64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	return v[0] - v[1] - v[2]
}

func (w *memoryWatch) loop() {
	defer w.wg.Done()
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			w.tick()
		}
	}
}

func (w *memoryWatch) share(f float64) uint64 { return uint64(float64(w.limit) * f) }

func (w *memoryWatch) tick() {
	now := inUse()
	w.blame(now, w.last)
	w.last = now
	w.lastSeen.Store(now)
	if now < w.share(shortShare) {
		w.short.Store(false) // what is live is less still
	}
	switch {
	case now >= w.limit:
		w.short.Store(true)
		w.stopCulprit(now, 0, true)
		w.collect()
	case now >= w.share(ownShare) && w.stopCulprit(now, w.share(ownShare), false):
		// One run grew memory by half the limit: it is the cause, and
		// could double before a collection of this heap ends.
	case now >= w.share(gcShare):
		w.collect()
	}
}

// collect starts a collection on a goroutine of its own, unless one runs
// or one started less than gcEvery ago, and judges what is live after it.
// The ticks go on meanwhile: a collection of a large heap takes longer
// than a bomb needs to double it.
func (w *memoryWatch) collect() {
	if time.Since(w.lastGC) < gcEvery || !w.gcRunning.CompareAndSwap(false, true) {
		return
	}
	w.lastGC = time.Now()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer w.gcRunning.Store(false)
		runtime.GC()
		live := inUse()
		switch {
		case live >= w.share(stopShare):
			w.short.Store(true)
			w.stopCulprit(live, 0, false)
		case live >= w.share(shortShare):
			w.short.Store(true)
		default:
			w.short.Store(false)
		}
	}()
}

// blame shares the growth of memory in use from last to now among the runs
// running Lua now; a fall lowers what each run is blamed for alike.
func (w *memoryWatch) blame(now, last uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now < last {
		// Collected: each run keeps its part of what is left, so that a
		// run making garbage for long is not blamed for all it ever made.
		for r := range w.runs {
			r.grown = uint64(float64(r.grown) * float64(now) / float64(last))
		}
		return
	}
	grown := now - last
	var busy int
	for r := range w.runs {
		if r.waits.Load() == 0 {
			busy++
		}
	}
	if busy == 0 {
		return
	}
	each := grown / uint64(busy)
	for r := range w.runs {
		if r.waits.Load() == 0 {
			r.grown += each
		}
	}
}

// stopCulprit stops the run blamed for the most growth among those not
// stopped yet, if it is blamed for at least least bytes. Unless over, it
// stops none while a run it stopped has not ended (that run's memory is
// freed when it has); over the limit it stops one more on every tick, so
// that several bombs at once are all stopped within a few ticks. It
// reports whether a run is stopping.
func (w *memoryWatch) stopCulprit(live, least uint64, over bool) bool {
	w.mu.Lock()
	if w.stopping > 0 && !over {
		w.mu.Unlock()
		return true
	}
	var culprit *run
	for r := range w.runs {
		if !r.stopped && r.grown > 0 && (culprit == nil || r.grown > culprit.grown) {
			culprit = r
		}
	}
	if culprit == nil || culprit.grown < least {
		w.mu.Unlock()
		return w.stopping > 0
	}
	culprit.stopped = true
	w.stopping++
	w.stops.Add(1)
	// Cancel before logging, and log outside the lock: the log's write
	// gives up this goroutine's P, and with every P busy (the culprit in
	// a long copy, a collection) it could get one back only after the
	// culprit had doubled again.
	culprit.cancel(errMemoryLimit)
	id, page, grown := culprit.env.RequestID, culprit.first.Name, culprit.grown
	log := culprit.e.cfg.Logger
	w.mu.Unlock()
	if log != nil {
		log.Warn("memory limit: stopping a page", "request_id", id, "page", page,
			"in_use", live, "limit", w.limit, "grown_while_running", grown)
	}
	return true
}

// enter registers a run; leave ends its registration.
func (w *memoryWatch) enter(r *run) {
	w.mu.Lock()
	w.runs[r] = struct{}{}
	w.mu.Unlock()
}

func (w *memoryWatch) leave(r *run) {
	w.mu.Lock()
	delete(w.runs, r)
	if r.stopped {
		w.stopping--
	}
	w.mu.Unlock()
}

func (w *memoryWatch) close() {
	w.closeOnce.Do(func() { close(w.done) })
	w.wg.Wait()
}

// MemoryShort reports whether memory is short: new pages should be refused
// until it is not. It is always false without a memory limit.
func (e *Engine) MemoryShort() bool {
	return e.memory != nil && e.memory.short.Load()
}

// MemoryStats describes the memory watch (Config.MemoryLimit).
type MemoryStats struct {
	Limit int64  `json:"limit"`  // bytes; 0: no watch, and the rest is zero
	InUse uint64 `json:"in_use"` // bytes in use at the watch's last tick
	Short bool   `json:"short"`  // new pages are refused (MemoryShort)
	Stops int64  `json:"stops"`  // runs stopped so far
}

// Memory reports the memory watch's state. It is cheap and safe to call
// from any goroutine.
func (e *Engine) Memory() MemoryStats {
	w := e.memory
	if w == nil {
		return MemoryStats{}
	}
	return MemoryStats{Limit: int64(w.limit), InUse: w.lastSeen.Load(), Short: w.short.Load(), Stops: w.stops.Load()}
}

// waiting marks the run as waiting (not running Lua) until the returned
// function is called, so that the memory watch does not blame it for what
// others allocate meanwhile.
func (r *run) waiting() func() {
	r.waits.Add(1)
	return func() { r.waits.Add(-1) }
}

// formatBytes writes n as the largest binary unit that divides it, or
// bytes: "512 MiB", "1536 KiB", "1000 bytes".
func formatBytes(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
