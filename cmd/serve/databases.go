package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// databasesValue is -database NAME=URL, a flag.Value given once per
// database; one value may hold several separated by spaces, as
// LASP_DATABASE does.
type databasesValue struct{ m *map[string]string }

func (v databasesValue) String() string {
	if v.m == nil || *v.m == nil {
		return ""
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(*v.m)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name + "=…") // URLs may hold passwords
	}
	return b.String()
}

func (v databasesValue) Set(s string) error {
	for _, f := range strings.Fields(s) {
		name, url, ok := strings.Cut(f, "=")
		if !ok || name == "" || url == "" {
			return fmt.Errorf("want NAME=URL (shop=sqlite:data/shop.db), not %q", f)
		}
		if *v.m == nil {
			*v.m = map[string]string{}
		}
		if _, dup := (*v.m)[name]; dup {
			return fmt.Errorf("database %s is given twice", name)
		}
		(*v.m)[name] = url
	}
	return nil
}
