//go:build unix

package framework

import "syscall"

// addressSpaceLimit is the soft RLIMIT_AS, or 0 when there is none.
func addressSpaceLimit() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil {
		return 0
	}
	if cur := uint64(rl.Cur); cur <= 1<<62 { // RLIM_INFINITY is past it
		return int64(cur)
	}
	return 0
}
