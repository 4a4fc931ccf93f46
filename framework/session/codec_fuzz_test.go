package session

import (
	"testing"

	"lasp/scope"
)

// FuzzDecodeSession: a saved session that does not decode is an error,
// never a panic; one that decodes encodes again to the same session.
func FuzzDecodeSession(f *testing.F) {
	data := scope.NewContents("Session")
	data.Set("cart", []scope.Value{"apple", 2.0})
	objects := scope.NewContents("Session objects")
	objects.Set("s_fido", map[string]scope.Value{"barks": 3.0})
	for _, o := range []*scope.Contents{nil, objects} {
		b, err := encode(data, o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{withObjects, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		data, objects, err := decode(b)
		if err != nil {
			return
		}
		again, err := encode(data, objects)
		if err != nil {
			t.Fatalf("a decoded session does not encode: %v", err)
		}
		data2, objects2, err := decode(again)
		if err != nil {
			t.Fatalf("re-encoded session does not decode: %v", err)
		}
		if !scope.Equal(data.Snapshot(), data2.Snapshot()) {
			t.Errorf("data changed: %v → %v", data.Snapshot(), data2.Snapshot())
		}
		if (objects == nil || objects.Len() == 0) != (objects2 == nil || objects2.Len() == 0) {
			t.Errorf("objects changed: %v → %v", objects, objects2)
		}
	})
}
