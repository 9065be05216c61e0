package pagelinks

import (
	"sync"
	"testing"
)

// TestRulesSharedByGoroutines rewrites every case with Rules compiled
// once and used by many goroutines at once, whose scanners come from a
// pool: each body comes out as a fresh Rewrite writes it.
func TestRulesSharedByGoroutines(t *testing.T) {
	compiled := map[Rule]*Rules{}
	for _, tc := range rewriteCases {
		if compiled[tc.rule] == nil {
			compiled[tc.rule] = Compile(tc.rule)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				tc := rewriteCases[(g*7+i)%len(rewriteCases)]
				if got := string(compiled[tc.rule].Rewrite(nil, []byte(tc.in))); got != tc.want {
					t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestRulesRewriteAllocatesNothing: with compiled rules and room in dst,
// rewriting a page costs no allocation.
func TestRulesRewriteAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop scanners")
	}
	rs := Compile(graph, defender)
	in := []byte(rewriteCases[0].in)
	dst := make([]byte, 0, 2*len(in))
	if n := testing.AllocsPerRun(100, func() { rs.Rewrite(dst[:0], in) }); n != 0 {
		t.Errorf("%v allocations per Rewrite", n)
	}
}
