package lpattern

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// patternTokens are the pieces random patterns are made of: every construct
// of the grammar, well-formed or not.
var patternTokens = []string{
	"a", "b", "c", "x", ".", "%a", "%d", "%s", "%w", "%W", "%p", "%l", "%u", "%x", "%c", "%z", "%S",
	"%%", "%.", "%(", "%]", "%-", "%", "*", "+", "-", "?", "^", "$", "(", ")", "()", "[", "]",
	"[abc]", "[^a]", "[a-c]", "[%d_]", "[%a-]", "[]]", "[^]]", "[-b]", "[a-%d]", "[a-c-x]",
	"%1", "%2", "%3", "%0", "%b()", "%bab", "%b", "%f[%w]", " ", "=", ",", "\x00",
}

var subjectBytes = []byte("abcx ()=,.1209ABC_-%]\x00\t")

// genCase returns a random case.
func genCase(r *rand.Rand) diffCase {
	var p strings.Builder
	for range r.IntN(7) {
		p.WriteString(patternTokens[r.IntN(len(patternTokens))])
	}
	s := make([]byte, r.IntN(20))
	for i := range s {
		s[i] = subjectBytes[r.IntN(len(subjectBytes))]
	}
	repls := []string{"", "-", "%0", "%1", "<%2>", "%3%1", "%%", "%x", "%", "[%0|%1]"}
	return diffCase{
		subject: string(s),
		pattern: p.String(),
		init:    r.IntN(30) - 12,
		repl:    repls[r.IntN(len(repls))],
		n:       r.IntN(5) - 1,
	}
}

// TestDifferentialGenerated compares gopher-lua and this package on random
// patterns built from the whole grammar. LPATTERN_GENERATED=N runs N cases
// instead of the default.
func TestDifferentialGenerated(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	if v, err := strconv.Atoi(os.Getenv("LPATTERN_GENERATED")); err == nil {
		n = v
	}
	r := rand.New(rand.NewPCG(1, 2))
	d := newDiffer(t)
	skipped := 0
	for range n {
		c := genCase(r)
		orig, ours, skip := d.run(t, c.subject, c.pattern, c.init, c.repl, c.n)
		if skip {
			skipped++
			continue
		}
		compare(t, c.subject, c.pattern, orig, ours)
		if t.Failed() {
			return
		}
	}
	if skipped > n/100 {
		t.Errorf("%d of %d cases skipped as too complex", skipped, n)
	}
}
