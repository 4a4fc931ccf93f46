package scripting

import (
	"testing"
	"testing/fstest"
)

// TestApartmentIsolation: an object sleeping in one apartment does not delay
// calls on an object of the same class in another apartment.
func TestApartmentIsolation(t *testing.T) {
	e := New(Config{FS: fstest.MapFS{"components/Slow.Dog.lua": {Data: []byte(`local Dog = {}
function Dog:Sleep(s) Server.Sleep(s) return "slept" end
function Dog:Bark() return "woof" end
return Dog`)}}})
	defer e.Close()
	ctx := t.Context()
	a := e.NewApartment("session A", Env{})
	b := e.NewApartment("session B", Env{})
	defer a.Close(ctx)
	defer b.Close(ctx)
	dogA, err := a.Create(ctx, "Slow.Dog")
	if err != nil {
		t.Fatal(err)
	}
	dogB, err := b.Create(ctx, "Slow.Dog")
	if err != nil {
		t.Fatal(err)
	}
	slept := make(chan error, 1)
	go func() {
		_, err := dogA.Call(ctx, "Sleep", []any{float64(2)})
		slept <- err
	}()
	for range 10 {
		res, err := dogB.Call(ctx, "Bark", nil)
		if err != nil || len(res) != 1 || res[0] != "woof" {
			t.Fatalf("B's dog: %v %v", res, err)
		}
	}
	select {
	case err := <-slept:
		t.Fatalf("A's sleeping call ended (%v) before B's 10 calls", err)
	default:
	}
	if err := <-slept; err != nil {
		t.Fatal(err)
	}
}
