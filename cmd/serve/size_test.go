package main

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1048576", 1 << 20, true},
		{"512KiB", 512 << 10, true},
		{"32MiB", 32 << 20, true},
		{"32 MiB", 32 << 20, true},
		{"2GiB", 2 << 30, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"-1", 0, false},
		{"1.5GiB", 0, false},
		{"32MB", 0, false},
		{"32mib", 0, false},
		{"9999999999GiB", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err == nil && tc.want > 0 {
			if back, _ := parseSize(formatSize(got)); back != got {
				t.Errorf("formatSize(%d) = %q does not read back", got, formatSize(got))
			}
		}
	}
}
