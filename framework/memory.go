package framework

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// DefaultMemoryLimit is the memory limit a server gets when
// Config.MemoryLimit is zero (docs/serve.md): three quarters of the smaller of
// the machine's physical memory and the cgroup's memory limit, and under
// an address-space limit (RLIMIT_AS) no more than a third of the address
// space the process has left, so that the heap can overshoot the limit
// (one string doubled, say) and the collector still find room. Zero means
// none of these could be read.
func DefaultMemoryLimit() int64 {
	var limit int64
	lower := func(n int64) {
		if n > 0 && (limit == 0 || n < limit) {
			limit = n
		}
	}
	lower(meminfo("/proc/meminfo", "MemTotal:") / 4 * 3)
	lower(cgroupLimit() / 4 * 3)
	if as := addressSpaceLimit(); as > 0 {
		lower((as - meminfo("/proc/self/status", "VmSize:")) / 3)
	}
	return limit
}

// meminfo reads a "Name: N kB" line of a /proc file, in bytes.
func meminfo(file, name string) int64 {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupLimit is the memory limit of the process's cgroup (v2, then v1),
// or 0 when there is none.
func cgroupLimit() int64 {
	for _, file := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
		if err != nil || n >= 1<<62 { // "max", or v1's "no limit"
			return 0
		}
		return n
	}
	return 0
}
