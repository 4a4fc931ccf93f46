package scope

import (
	"errors"
	"strings"
	"testing"
)

func TestThreadingString(t *testing.T) {
	tests := []struct {
		threading Threading
		want      string
	}{
		{threading: Agile, want: "agile"},
		{threading: Apartment, want: "apartment-threaded"},
		{threading: 0, want: "Threading(0)"},
		{threading: 7, want: "Threading(7)"},
	}
	for _, tt := range tests {
		if got := tt.threading.String(); got != tt.want {
			t.Errorf("Threading(%d).String() = %q, want %q", int(tt.threading), got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		scope string
		key   string
		v     Value
		want  string // the error message; "" when v is accepted
	}{
		{name: "nil", scope: "Session", key: "k", v: nil},
		{name: "string", scope: "Session", key: "k", v: "x"},
		{name: "table of plain data", scope: "Session", key: "cart", v: map[string]Value{
			"items": []Value{map[string]Value{"name": "pen", "qty": 2.0}}, "paid": false}},
		{name: "agile object", scope: "Application", key: "d", v: dict},
		{name: "proxy", scope: "Application", key: "ed", v: &testProxy{target: horse}},
		{name: "agile object in a table", scope: "Session", key: "t", v: []Value{dict}},
		{
			name:  "apartment object",
			scope: "Application", key: "ed", v: horse,
			want: `Application["ed"]: Animals.Horse is apartment-threaded and cannot be stored in Application scope`,
		},
		{
			name:  "object of unknown threading",
			scope: "Application", key: "x", v: &testObject{progID: "Odd.Thing"},
			want: `Application["x"]: Odd.Thing is apartment-threaded and cannot be stored in Application scope`,
		},
		{
			name:  "object without a progid",
			scope: "Session", key: "x", v: &testObject{threading: Apartment},
			want: `Session["x"]: an object of Go type *scope.testObject is apartment-threaded and cannot be stored in Session scope`,
		},
		{
			name:  "apartment object in a table",
			scope: "Session", key: "pets", v: map[string]Value{"stable": []Value{dict, horse}},
			want: `Session["pets"]: Animals.Horse (at ["stable"][2]) is apartment-threaded and cannot be stored in Session scope`,
		},
		{
			name:  "nil object",
			scope: "Session", key: "x", v: (*testObject)(nil),
			want: `Session["x"]: a nil *scope.testObject cannot be stored in Session scope`,
		},
		{
			name:  "function",
			scope: "Session", key: "f", v: Unstorable{What: "a function"},
			want: `Session["f"]: a function cannot be stored in Session scope`,
		},
		{
			name:  "function in a table",
			scope: "Session", key: "t", v: map[string]Value{"name": "x", "handler": Unstorable{What: "a function"}},
			want: `Session["t"]: a function (at ["handler"]) cannot be stored in Session scope`,
		},
		{
			name:  "Go value",
			scope: "Application", key: "n", v: int64(3),
			want: `Application["n"]: a Go value of type int64 cannot be stored in Application scope`,
		},
		{
			name:  "cycle",
			scope: "Session", key: "loop", v: selfTable(),
			want: `Session["loop"]: a table that contains itself (at ["self"]["back"]) cannot be stored in Session scope`,
		},
		{
			name:  "too deep",
			scope: "Session", key: "deep", v: nested(MaxDepth + 1),
			want: `Session["deep"]: a table nested more than 100 deep (at ` + strings.Repeat(`["in"]`, MaxDepth) + `) cannot be stored in Session scope`,
		},
		{
			name:  "key that needs quoting",
			scope: "Session", key: "say \"hi\"", v: Unstorable{What: "a thread"},
			want: `Session["say \"hi\""]: a thread cannot be stored in Session scope`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.scope, tt.key, tt.v)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check accepted %v", tt.v)
			}
			var ae *AgilityError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not an *AgilityError", err)
			}
			if ae.Scope != tt.scope || ae.Key != tt.key {
				t.Errorf("Scope, Key = %q, %q; want %q, %q", ae.Scope, ae.Key, tt.scope, tt.key)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}
