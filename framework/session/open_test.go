package session

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		store  string
		want   Kind
		shared bool
		bad    bool
	}{
		{store: "", want: Memory},
		{store: "memory", want: Memory},
		{store: "cookie", want: Cookie, shared: true},
		{store: "redis://127.0.0.1:6379/0", want: Redis, shared: true},
		{store: "rediss://redis.example:6380/1", want: Redis, shared: true},
		{store: "Memory", bad: true},
		{store: "postgres://db", bad: true},
		{store: "redis:", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.store, func(t *testing.T) {
			got, err := Parse(tt.store)
			if (err != nil) != tt.bad {
				t.Fatalf("Parse(%q) error = %v, want error %v", tt.store, err, tt.bad)
			}
			if tt.bad {
				return
			}
			if got != tt.want || got.Shared() != tt.shared {
				t.Errorf("Parse(%q) = %v (shared %v), want %v (shared %v)", tt.store, got, got.Shared(), tt.want, tt.shared)
			}
		})
	}
}
