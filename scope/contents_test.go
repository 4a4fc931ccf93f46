package scope

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestContentsKeysAreCaseInsensitive(t *testing.T) {
	tests := []struct {
		name     string
		set      []string // keys set, in order, each to its index
		get      string
		want     Value
		wantKeys []string
	}{
		{name: "same case", set: []string{"cart"}, get: "cart", want: 0.0, wantKeys: []string{"cart"}},
		{name: "other case", set: []string{"Cart"}, get: "CART", want: 0.0, wantKeys: []string{"Cart"}},
		{name: "first spelling kept", set: []string{"Cart", "cart", "CART"}, get: "cArT", want: 2.0, wantKeys: []string{"Cart"}},
		{name: "insertion order", set: []string{"b", "a", "C", "B"}, get: "b", want: 3.0, wantKeys: []string{"b", "a", "C"}},
		{name: "Unicode folding", set: []string{"Straße", "STRASSE", "ÉTÉ", "été"}, get: "Été", want: 3.0,
			wantKeys: []string{"Straße", "STRASSE", "ÉTÉ"}},
		{name: "Kelvin sign", set: []string{"\u212Aey"}, get: "key", want: 0.0, wantKeys: []string{"\u212Aey"}},
		{name: "long s", set: []string{"ſet"}, get: "SET", want: 0.0, wantKeys: []string{"ſet"}},
		{name: "not UTF-8", set: []string{"\xff", "\xfe"}, get: "\xfe", want: 1.0, wantKeys: []string{"\xff", "\xfe"}},
		{name: "empty key", set: []string{""}, get: "", want: 0.0, wantKeys: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewContents("Session")
			for i, k := range tt.set {
				if err := c.Set(k, float64(i)); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := c.Get(tt.get)
			if !ok || !Equal(got, tt.want) {
				t.Errorf("Get(%q) = %v, %v; want %v, true", tt.get, got, ok, tt.want)
			}
			if keys := c.Keys(); !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("Keys() = %q, want %q", keys, tt.wantKeys)
			}
			if c.Len() != len(tt.wantKeys) {
				t.Errorf("Len() = %d, want %d", c.Len(), len(tt.wantKeys))
			}
		})
	}
}

func TestContents(t *testing.T) {
	c := NewContents("Session")
	if c.Name() != "Session" {
		t.Errorf("Name() = %q", c.Name())
	}
	if _, ok := c.Get("cart"); ok {
		t.Error("Get on an empty Contents found something")
	}

	cart := []Value{map[string]Value{"name": "pen"}}
	if err := c.Set("Cart", cart); err != nil {
		t.Fatal(err)
	}
	cart[0].(map[string]Value)["name"] = "changed after Set"
	got, _ := c.Get("cart")
	got.([]Value)[0].(map[string]Value)["name"] = "changed after Get"
	again, _ := c.Get("CART")
	if want := []Value{map[string]Value{"name": "pen"}}; !Equal(again, want) {
		t.Errorf("stored value changed through a copy: %v", again)
	}

	if err := c.Set("d", dict); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Get("D"); d != Value(dict) {
		t.Error("an Object did not come back by reference")
	}

	err := c.Set("ed", horse)
	var ae *AgilityError
	if !errors.As(err, &ae) || ae.Scope != "Session" || ae.Key != "ed" {
		t.Errorf("Set of an apartment object: %v", err)
	}
	if _, ok := c.Get("ed"); ok {
		t.Error("a refused value was stored")
	}
	if err := c.Set("cart", Unstorable{What: "a function"}); err == nil {
		t.Error("Set of a function succeeded")
	}
	if v, _ := c.Get("cart"); !Equal(v, []Value{map[string]Value{"name": "pen"}}) {
		t.Errorf("a refused Set changed the old value: %v", v)
	}

	if err := c.Set("gone", 1.0); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("GONE", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("gone"); ok {
		t.Error("Set(key, nil) did not remove the key")
	}

	c.Remove("CaRt")
	c.Remove("never there")
	if keys := c.Keys(); !slices.Equal(keys, []string{"d"}) {
		t.Errorf("Keys() after Remove = %q", keys)
	}
	if err := c.Set("cart", 2.0); err != nil {
		t.Fatal(err)
	}
	if keys := c.Keys(); !slices.Equal(keys, []string{"d", "cart"}) {
		t.Errorf("a key set again after Remove did not go last with its new spelling: %q", keys)
	}
	c.RemoveAll()
	if c.Len() != 0 || len(c.Keys()) != 0 {
		t.Errorf("RemoveAll left %q", c.Keys())
	}
	if err := c.Set("after", true); err != nil || c.Len() != 1 {
		t.Errorf("Set after RemoveAll: %v, Len %d", err, c.Len())
	}
}

func TestContentsSnapshotReplace(t *testing.T) {
	c := NewContents("Session")
	for _, kv := range []struct {
		k string
		v Value
	}{{"Cart", []Value{"pen"}}, {"user", map[string]Value{"name": "ann"}}, {"d", dict}} {
		if err := c.Set(kv.k, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	snap := c.Snapshot()
	want := map[string]Value{"Cart": []Value{"pen"}, "user": map[string]Value{"name": "ann"}, "d": dict}
	if !Equal(snap, want) {
		t.Fatalf("Snapshot() = %v, want %v", snap, want)
	}
	snap["Cart"].([]Value)[0] = "changed"
	if v, _ := c.Get("cart"); !Equal(v, []Value{"pen"}) {
		t.Error("changing a snapshot changed the contents")
	}

	other := NewContents("Session")
	if err := other.Set("old", 1.0); err != nil {
		t.Fatal(err)
	}
	if err := other.Replace(want); err != nil {
		t.Fatal(err)
	}
	want["user"].(map[string]Value)["name"] = "changed"
	if got := other.Snapshot(); !Equal(got, map[string]Value{"Cart": []Value{"pen"}, "user": map[string]Value{"name": "ann"}, "d": dict}) {
		t.Errorf("after Replace: %v", got)
	}
	if keys := other.Keys(); !slices.Equal(keys, []string{"Cart", "d", "user"}) {
		t.Errorf("Keys() after Replace = %q, want sorted", keys)
	}
	if err := other.Set("new", 1.0); err != nil {
		t.Fatal(err)
	}
	if keys := other.Keys(); keys[len(keys)-1] != "new" {
		t.Errorf("a key set after Replace is not last: %q", keys)
	}

	tests := []struct {
		name string
		m    map[string]Value
		want string
	}{
		{name: "same key twice", m: map[string]Value{"a": 1.0, "A": 2.0}, want: `Session contents: keys "A" and "a" are the same key`},
		{name: "apartment object", m: map[string]Value{"a": 1.0, "ed": horse},
			want: `Session["ed"]: Animals.Horse is apartment-threaded and cannot be stored in Session scope`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := other.Snapshot()
			err := other.Replace(tt.m)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Replace error = %v, want %s", err, tt.want)
			}
			if !Equal(other.Snapshot(), before) {
				t.Error("a failed Replace changed the contents")
			}
		})
	}
}

// TestContentsConcurrent runs every method at once, for the race detector.
func TestContentsConcurrent(t *testing.T) {
	c := NewContents("Application")
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				k := fmt.Sprintf("K%d", i%10)
				if g%2 == 0 {
					k = fmt.Sprintf("k%d", i%10)
				}
				switch i % 7 {
				case 0:
					c.Remove(k)
				case 1:
					c.Keys()
				case 2:
					c.Snapshot()
				case 3:
					if i%49 == 3 {
						c.RemoveAll()
					}
				default:
					if err := c.Set(k, []Value{float64(g), map[string]Value{"i": float64(i)}}); err != nil {
						t.Error(err)
					}
					if v, ok := c.Get(k); ok {
						v.([]Value)[0] = "mine" // a fresh copy: no race
					}
				}
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n > 10 {
		t.Errorf("Len() = %d: case-insensitive keys were duplicated", n)
	}
}
