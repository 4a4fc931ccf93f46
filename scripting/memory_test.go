package scripting

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestMemoryLimit: a page that grows memory past the limit is stopped at
// its line with an error that names the limit, while a page sleeping beside
// it is not blamed; the engine then serves again, and stops refusing pages
// once the memory is freed.
func TestMemoryLimit(t *testing.T) {
	runtime.GC()
	limit := int64(inUse()) + 256<<20
	e := New(Config{MemoryLimit: limit, FS: fstest.MapFS{
		"bomb.lasp":  {Data: []byte("<% local t = {}\nfor i = 1, 1e9 do t['k' .. i] = ('x'):rep(1000) .. i end %>")},
		"sleep.lasp": {Data: []byte("<% Server.Sleep(0.5) %>slept")},
		"ok.lasp":    {Data: []byte("ok")},
	}})
	defer e.Close()

	slept := make(chan error, 1)
	go func() {
		out, err := runBounded(t, e, "sleep.lasp")
		if err == nil && out != "slept" {
			err = errors.New("sleep.lasp wrote " + out)
		}
		slept <- err
	}()
	_, err := runBounded(t, e, "bomb.lasp")
	var se *Error
	if !errors.As(err, &se) || se.Kind != Runtime || se.Line != 2 || !strings.Contains(se.Msg, "memory limit of") {
		t.Fatalf("bomb: got %v, want a runtime error at line 2 naming the memory limit", err)
	}
	t.Logf("bomb: %v", err)
	if err := <-slept; err != nil {
		t.Errorf("the sleeping page was blamed: %v", err)
	}
	if st := e.Stats(); st.MemoryStops != 1 {
		t.Errorf("MemoryStops = %d, want 1", st.MemoryStops)
	}
	for deadline := time.Now().Add(10 * time.Second); e.MemoryShort(); {
		if time.Now().After(deadline) {
			t.Fatal("memory still short 10 s after the bomb was stopped")
		}
		time.Sleep(watchEvery)
	}
	if out, err := runBounded(t, e, "ok.lasp"); out != "ok" || err != nil {
		t.Errorf("after the bomb: %q, %v", out, err)
	}
}
