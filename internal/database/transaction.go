package database

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// A Transaction is the unit of work of a transactional page
// (Transaction="Required" or "Requires_New", docs/data.md): one SQL
// transaction per database the page uses, begun by its first statement
// there, and committed or rolled back together when the page ends. A
// page run by Server.Execute joins its caller's.
//
// Each database commits on its own: with two databases, the second can
// fail after the first committed (there is no two-phase commit).
type Transaction struct {
	mu   sync.Mutex
	txs  []*sql.Tx
	by   map[*pool]*sql.Tx
	done bool
}

type txKey struct{}

// WithTransaction returns ctx carrying t: the statements of every
// Lasp.Database called with it run in t. A nil t runs them outside any
// transaction (a Not_Supported page run by a transactional one).
func WithTransaction(ctx context.Context, t *Transaction) context.Context {
	return context.WithValue(ctx, txKey{}, t)
}

func fromContext(ctx context.Context) *Transaction {
	t, _ := ctx.Value(txKey{}).(*Transaction)
	return t
}

// FromContext is the transaction ctx carries, if any.
func FromContext(ctx context.Context) *Transaction { return fromContext(ctx) }

var errTransactionOver = errors.New("the page's transaction is over")

// tx is t's transaction on pl, begun now if it is the first statement
// there. ctx is the page's: if it ends first (a timeout, the client
// gone), database/sql rolls the transaction back.
func (t *Transaction) tx(ctx context.Context, pl *pool) (*sql.Tx, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, errTransactionOver
	}
	if tx, ok := t.by[pl]; ok {
		return tx, nil
	}
	tx, err := pl.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if t.by == nil {
		t.by = map[*pool]*sql.Tx{}
	}
	t.by[pl] = tx
	t.txs = append(t.txs, tx)
	return tx, nil
}

// Commit commits each database's transaction, in the order the page first
// used them. When one fails, the ones after it are rolled back, and the
// error says whether any before it had committed.
func (t *Transaction) Commit() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errTransactionOver
	}
	t.done = true
	for i, tx := range t.txs {
		if err := tx.Commit(); err != nil {
			for _, rest := range t.txs[i+1:] {
				rest.Rollback()
			}
			if i > 0 {
				return &PartialError{Committed: i, Err: err}
			}
			return err
		}
	}
	return nil
}

// Rollback rolls every database's transaction back. It is safe to call
// after Commit, and more than once.
func (t *Transaction) Rollback() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return
	}
	t.done = true
	for _, tx := range t.txs {
		tx.Rollback()
	}
}

// Used reports whether any statement ran in t.
func (t *Transaction) Used() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.txs) > 0
}

// PartialError is a Commit that failed after Committed databases had
// committed: their changes stay.
type PartialError struct {
	Committed int
	Err       error
}

func (e *PartialError) Error() string {
	return "committing the page's transaction: " + e.Err.Error() + " (the databases committed before it keep their changes)"
}

func (e *PartialError) Unwrap() error { return e.Err }
