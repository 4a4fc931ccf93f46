// Package redistest runs real redis-server processes for tests: one per
// test, on a free port, stopped and started at will. Tests use the real
// server, never an in-process fake. It depends on no other package of the
// module.
package redistest
