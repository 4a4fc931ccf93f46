package main

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// logWriter batches the log's lines on their way to w (standard error):
// an Info line waits at most flushEvery, or until 64 KiB wait, so that the
// access log costs one write system call per batch instead of one per
// request. Warnings and errors go out at once, with what waits before them.
// Close writes what is left.
type logWriter struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	timer *time.Timer
}

// flushEvery bounds how long a log line waits.
const flushEvery = 10 * time.Millisecond

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	head := p[:min(len(p), 64)]
	switch {
	case len(l.buf) >= 64<<10, bytes.Contains(head, []byte("level=ERROR")), bytes.Contains(head, []byte("level=WARN")):
		l.flushLocked()
	case l.timer == nil:
		l.timer = time.AfterFunc(flushEvery, l.flush)
	}
	return len(p), nil
}

func (l *logWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
}

func (l *logWriter) flushLocked() {
	if len(l.buf) > 0 {
		l.w.Write(l.buf) // nowhere to report a failure to write the log
		l.buf = l.buf[:0]
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// Close writes what waits.
func (l *logWriter) Close() error {
	l.flush()
	return nil
}
