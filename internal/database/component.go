package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"lasp/scope"
)

// DB is a Lasp.Database object: Open, then Execute, Query and QueryRow.
// It is agile: its statements run under the calling page's context, so
// a timeout or a client that goes away cancels them, and within the
// page's transaction, if it has one.
type DB struct {
	pools *Pools

	mu   sync.Mutex // guards pool and name
	pool *pool
	name string // as opened, for messages
}

// New makes an unopened Lasp.Database object over pools.
func (p *Pools) New() *DB { return &DB{pools: p} }

// Call runs one of the object's methods (scripting.Instance).
func (d *DB) Call(ctx context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	if method == "Open" {
		if len(args) != 1 {
			return nil, errors.New("Open needs one argument: a URL (sqlite:data/NAME.db, postgres://…) or a -database NAME")
		}
		what, ok := args[0].(string)
		if !ok {
			return nil, errors.New("Open: the URL must be a string")
		}
		pl, err := d.pools.open(what)
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.pool, d.name = pl, what
		d.mu.Unlock()
		return nil, nil
	}
	switch method {
	case "Execute", "Query", "QueryRow":
	default:
		return nil, fmt.Errorf("no method %s (Open, Execute, Query, QueryRow)", method)
	}
	d.mu.Lock()
	pl := d.pool
	d.mu.Unlock()
	if pl == nil {
		return nil, errors.New("the database is not open: call Open first")
	}
	if len(args) == 0 {
		return nil, errors.New("the SQL text is missing")
	}
	query, ok := args[0].(string)
	if !ok {
		return nil, errors.New("the SQL text must be a string")
	}
	params, err := convertArgs(args[1:])
	if err != nil {
		return nil, err
	}
	exec, rows, err := d.runner(ctx, pl, query)
	if err != nil {
		return nil, err
	}
	switch method {
	case "Execute":
		res, err := exec(params)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		out := []scope.Value{float64(n)}
		if !pl.postgres {
			if id, err := res.LastInsertId(); err == nil {
				out = append(out, float64(id))
			}
		}
		return out, nil
	case "Query":
		list, err := collect(rows, params, MaxRows)
		if err != nil {
			return nil, err
		}
		return []scope.Value{list}, nil
	}
	list, err := collect(rows, params, 1)
	if err != nil || len(list) == 0 {
		return []scope.Value{nil}, err
	}
	return []scope.Value{list[0]}, nil
}

// runner runs query under ctx: within the page's transaction when it has
// one (on the transaction's connection: preparing on the pool could wait
// for a connection that transactions hold), else as a prepared statement
// of the pool.
func (d *DB) runner(ctx context.Context, pl *pool, query string) (
	exec func([]any) (sql.Result, error), rows func([]any) (*sql.Rows, error), err error) {
	if t := fromContext(ctx); t != nil {
		tx, err := t.tx(ctx, pl)
		if err != nil {
			return nil, nil, err
		}
		return func(a []any) (sql.Result, error) { return tx.ExecContext(ctx, query, a...) },
			func(a []any) (*sql.Rows, error) { return tx.QueryContext(ctx, query, a...) }, nil
	}
	st, err := pl.stmt(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	return func(a []any) (sql.Result, error) { return st.ExecContext(ctx, a...) },
		func(a []any) (*sql.Rows, error) { return st.QueryContext(ctx, a...) }, nil
}

// collect runs a query and converts up to limit rows (Query: more is an
// error; QueryRow: the first).
func collect(query func([]any) (*sql.Rows, error), params []any, limit int) ([]scope.Value, error) {
	rows, err := query(params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := []scope.Value{}
	for rows.Next() {
		if len(out) == limit {
			if limit == 1 {
				break
			}
			return nil, fmt.Errorf("the query returned more than %d rows (Query's limit): add a LIMIT", MaxRows)
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make(map[string]scope.Value, len(cols))
		for i, c := range cols {
			if v := value(vals[i]); v != nil {
				row[c] = v
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
