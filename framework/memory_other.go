//go:build !unix

package framework

// addressSpaceLimit is 0: there is no RLIMIT_AS here.
func addressSpaceLimit() int64 { return 0 }
