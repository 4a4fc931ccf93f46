package scripting

import (
	"context"
	"fmt"
	"sync"

	"lasp/internal/database"
	"lasp/scope"
)

// builtins are the Go components every application has (docs/objects.md):
// agile, safe to share in Application and Session scope. Lasp.Database
// opens its databases in dbs.
func builtins(dbs *database.Pools) []Component {
	return []Component{
		{ProgID: "Lasp.Dictionary", Threading: scope.Agile, New: func() (Instance, error) { return &dictionary{}, nil }},
		{ProgID: "Lasp.Counters", Threading: scope.Agile, New: func() (Instance, error) { return &counters{}, nil }},
		{ProgID: "Lasp.Database", Threading: scope.Agile, New: func() (Instance, error) { return dbs.New(), nil }},
	}
}

func argCount(method string, args []scope.Value, n int) error {
	if len(args) < n {
		return fmt.Errorf("%s needs %d argument(s), got %d", method, n, len(args))
	}
	return nil
}

func stringArg(method string, args []scope.Value, i int) (string, error) {
	switch v := args[i].(type) {
	case string:
		return v, nil
	case float64:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("%s: argument %d must be a string", method, i+1)
}

// dictionary is Lasp.Dictionary: keys to plain data, in insertion order.
type dictionary struct {
	mu   sync.Mutex
	keys []string
	vals map[string]scope.Value
}

func (d *dictionary) Call(_ context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if method == "Count" {
		return []scope.Value{float64(len(d.keys))}, nil
	}
	if method == "Keys" {
		keys := make([]scope.Value, len(d.keys))
		for i, k := range d.keys {
			keys[i] = k
		}
		return []scope.Value{keys}, nil
	}
	if err := argCount(method, args, 1); err != nil {
		return nil, err
	}
	key, err := stringArg(method, args, 0)
	if err != nil {
		return nil, err
	}
	_, exists := d.vals[key]
	switch method {
	case "Add", "Item":
		if method == "Add" && exists {
			return nil, fmt.Errorf("Add: key %q already exists", key)
		}
		if method == "Item" && len(args) == 1 {
			v, err := scope.Copy(d.vals[key])
			return []scope.Value{v}, err
		}
		if err := argCount(method, args, 2); err != nil {
			return nil, err
		}
		v, err := scope.Copy(args[1])
		if err != nil {
			return nil, err
		}
		if d.vals == nil {
			d.vals = map[string]scope.Value{}
		}
		if !exists {
			d.keys = append(d.keys, key)
		}
		d.vals[key] = v
		return nil, nil
	case "Exists":
		return []scope.Value{exists}, nil
	case "Remove":
		if exists {
			delete(d.vals, key)
			for i, k := range d.keys {
				if k == key {
					d.keys = append(d.keys[:i], d.keys[i+1:]...)
					break
				}
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("Lasp.Dictionary has no method %q", method)
}

// counters is Lasp.Counters: named numbers changed atomically.
type counters struct {
	mu sync.Mutex
	n  map[string]float64
}

func (c *counters) Call(_ context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	if err := argCount(method, args, 1); err != nil {
		return nil, err
	}
	name, err := stringArg(method, args, 0)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]float64{}
	}
	switch method {
	case "Get":
	case "Increment":
		c.n[name]++
	case "Set":
		if err := argCount(method, args, 2); err != nil {
			return nil, err
		}
		n, ok := args[1].(float64)
		if !ok {
			return nil, fmt.Errorf("Set: the value must be a number")
		}
		c.n[name] = n
	case "Remove":
		delete(c.n, name)
		return nil, nil
	default:
		return nil, fmt.Errorf("Lasp.Counters has no method %q", method)
	}
	return []scope.Value{c.n[name]}, nil
}
