package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	made, err := loadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("keys file mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := loadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != 2 || len(again) != 2 || !bytes.Equal(made[0], again[0]) || !bytes.Equal(made[1], again[1]) {
		t.Error("a kept keys file does not give back the keys it was made with")
	}
	for name, content := range map[string]string{
		"one key":   "# c\naabb\n",
		"not hex":   strings.Repeat("zz", 32) + " " + strings.Repeat("00", 32) + "\n",
		"too short": "aabb ccdd\n",
		"empty":     "# nothing\n",
	} {
		bad := filepath.Join(t.TempDir(), "bad")
		if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadKeys(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
}
