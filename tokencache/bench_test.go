package tokencache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xdrproxy/xdrproxy/tokencache"
)

// instantSource hands out a fresh one-hour token without any network.
type instantSource struct{}

func (instantSource) Token(_ context.Context, tenantID, _ string) (tokencache.Token, error) {
	return tokencache.Token{Value: "tok-" + tenantID, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func tenantIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
	}
	return ids
}

// BenchmarkTokenCached is the proxy's hot path: a cached token among
// 10,000 tenants, from every core at once.
func BenchmarkTokenCached(b *testing.B) {
	c := tokencache.New(instantSource{}, tokencache.Options{SweepInterval: -1})
	defer c.Close()
	ids := tenantIDs(10000)
	c.Warm(context.Background(), ids, scope)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Token(ctx, ids[i%len(ids)], scope); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
}

// BenchmarkWarm10000 measures warming 10,000 tenants: entry creation must
// not copy the map once per tenant.
func BenchmarkWarm10000(b *testing.B) {
	ids := tenantIDs(10000)
	b.ReportAllocs()
	for b.Loop() {
		c := tokencache.New(instantSource{}, tokencache.Options{SweepInterval: -1, Concurrency: 64})
		c.Warm(context.Background(), ids, scope)
		c.Close()
	}
}
