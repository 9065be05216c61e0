package fleet

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
	"github.com/xdrproxy/xdrproxy/proxy"
)

// pipelineCounter is a go-redis hook that counts the pipelines sent.
type pipelineCounter struct{ pipelines, commands atomic.Int64 }

func (h *pipelineCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *pipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (h *pipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		h.commands.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

var _ redis.Hook = (*pipelineCounter)(nil)

// Admissions that wait for Redis at the same moment travel together, and
// each is still decided exactly: 64 concurrent requests against a limit
// of 20 a minute admit exactly 20, in fewer round trips than requests.
func TestConcurrentAdmissionsShareRoundTrips(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	l := replica(t, addr, LimiterOptions{})
	hook := &pipelineCounter{}
	l.c.rdb.AddHook(hook)
	// Hold Redis's answers back until every request is waiting, so that
	// batching does not depend on this machine's timing.
	release := make(chan struct{})
	gate := &gateHook{release: release}
	l.c.rdb.AddHook(gate)
	limit := proxy.Limit{Key: "/api/incidents", Rates: []proxy.Rate{{N: 20, Per: time.Minute}}}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			if adm := l.Reserve("t", limit); !adm.Refused {
				admitted.Add(1)
			}
		})
	}
	// The first pipeline of each worker waits at the gate; the other
	// calls queue behind them.
	for deadline := time.Now().Add(10 * time.Second); gate.waiting.Load()+int64(len(l.reserves.calls)) < 64; {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls at the gate and %d queued, want 64 in all", gate.waiting.Load(), len(l.reserves.calls))
		}
		time.Sleep(time.Millisecond) // polls the queue the workers fill
	}
	close(release)
	wg.Wait()
	if admitted.Load() != 20 {
		t.Errorf("%d of 64 admitted under a limit of 20, want 20", admitted.Load())
	}
	if p, c := hook.pipelines.Load(), hook.commands.Load(); c < 64 || p > 8 {
		t.Errorf("%d commands in %d pipelines; want the 64 admissions in a handful", c, p)
	}
	if l.Fallbacks() != 0 {
		t.Errorf("%d fallbacks with Redis up", l.Fallbacks())
	}
}

// gateHook holds every pipeline until release is closed, counting the
// commands it holds.
type gateHook struct {
	release chan struct{}
	waiting atomic.Int64
}

func (h *gateHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *gateHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *gateHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.waiting.Add(int64(len(cmds)))
		select {
		case <-h.release:
		case <-ctx.Done():
		}
		return next(ctx, cmds)
	}
}

// A Redis that restarted has forgotten the script: the batch loads it
// again and is answered, without a fallback.
func TestBatchReloadsAForgottenScript(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	l := replica(t, addr, LimiterOptions{})
	if adm := l.Reserve("t", incidents); adm.Refused {
		t.Fatal("first admission refused")
	}
	if err := rawRedis(t, addr).ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if adm := l.Reserve("t", incidents); adm.Refused || l.Fallbacks() != 0 {
		t.Errorf("after SCRIPT FLUSH: %+v, %d fallbacks; want admitted by Redis", adm, l.Fallbacks())
	}
}

// After Close, admissions fall back at once.
func TestClosedLimiterFallsBack(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	l := replica(t, addr, LimiterOptions{})
	l.Close()
	if adm := l.Reserve("t", incidents); adm.Refused || l.Fallbacks() != 1 {
		t.Errorf("after Close: %+v, %d fallbacks; want admitted by the fallback", adm, l.Fallbacks())
	}
}
