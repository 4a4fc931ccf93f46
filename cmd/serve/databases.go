package main

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Flag values that are lists: -database, -trusted-proxies, -trusted-origins.

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

// prefixesValue is -trusted-proxies: comma-separated CIDRs or single
// addresses.
type prefixesValue struct{ p *[]netip.Prefix }

func (v prefixesValue) String() string {
	if v.p == nil {
		return ""
	}
	var parts []string
	for _, p := range *v.p {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ",")
}

func (v prefixesValue) Set(s string) error {
	*v.p = nil
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return fmt.Errorf("%q is neither a CIDR (10.0.0.0/8) nor an address", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		*v.p = append(*v.p, p.Masked())
	}
	return nil
}

// listValue is a comma-separated list (-trusted-origins).
type listValue struct{ l *[]string }

func (v listValue) String() string {
	if v.l == nil {
		return ""
	}
	return strings.Join(*v.l, ",")
}

func (v listValue) Set(s string) error {
	*v.l = nil
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*v.l = append(*v.l, f)
		}
	}
	return nil
}
