package fleet

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"
)

const (
	// batchWorkers is how many pipelines a replica keeps in flight: while
	// one waits for Redis, the next gathers the calls that arrive, so a
	// call waits for at most one round trip besides its own.
	batchWorkers = 2
	// maxBatch bounds the calls of one pipeline.
	maxBatch = 128
)

// errBatcherClosed answers the calls made after (or pending at) Close.
var errBatcherClosed = errors.New("fleet limiter is closed")

// scriptBatcher runs one script for many callers at once: the calls that
// wait while Redis is busy go together in one pipeline, so that under
// load a replica pays one round trip (a write and a read) for many
// requests, not one each, and alone it pays one round trip as before.
// Redis runs each call's script atomically, in arrival order; batching
// changes only how the calls travel.
type scriptBatcher struct {
	c      *Client
	script *redis.Script
	calls  chan *scriptCall
	done   chan struct{} // closed by close
	wg     sync.WaitGroup
	once   sync.Once
}

// scriptCall is one caller's run of the script and its result.
type scriptCall struct {
	keys  []string
	args  []any
	res   []int64
	err   error
	ready chan struct{} // closed once res or err is set
}

// newScriptBatcher starts the batcher's workers; close stops them.
func newScriptBatcher(c *Client, script *redis.Script) *scriptBatcher {
	b := &scriptBatcher{c: c, script: script, calls: make(chan *scriptCall, maxBatch), done: make(chan struct{})}
	for range batchWorkers {
		b.wg.Go(b.work)
	}
	return b
}

// run runs the script with keys and args, with the next pipeline, and
// returns its result as integers.
func (b *scriptBatcher) run(keys []string, args []any) ([]int64, error) {
	call := &scriptCall{keys: keys, args: args, ready: make(chan struct{})}
	select {
	case b.calls <- call:
	case <-b.done:
		return nil, errBatcherClosed
	}
	select {
	case <-call.ready:
		return call.res, call.err
	case <-b.done:
		return nil, errBatcherClosed
	}
}

// close stops the workers; calls not yet answered get errBatcherClosed.
func (b *scriptBatcher) close() {
	b.once.Do(func() { close(b.done) })
	b.wg.Wait()
}

// work sends the waiting calls, up to maxBatch at a time, until close.
func (b *scriptBatcher) work() {
	batch := make([]*scriptCall, 0, maxBatch)
	for {
		select {
		case <-b.done:
			return
		case call := <-b.calls:
			batch = append(batch[:0], call)
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case call := <-b.calls:
				batch = append(batch, call)
			default:
				break gather
			}
		}
		b.send(batch)
	}
}

// send runs batch in one pipeline and answers each call. A script Redis
// no longer knows (it restarted) is loaded and the pipeline sent again.
func (b *scriptBatcher) send(batch []*scriptCall) {
	cmds := make([]*redis.Cmd, len(batch))
	err := b.c.do(func(ctx context.Context, rdb *redis.Client) error {
		pipeline := func() error {
			_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, call := range batch {
					cmds[i] = b.script.EvalSha(ctx, p, call.keys, call.args...)
				}
				return nil
			})
			return err
		}
		err := pipeline()
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			if err = b.script.Load(ctx, rdb).Err(); err == nil {
				err = pipeline()
			}
		}
		return err
	})
	for i, call := range batch {
		if err != nil {
			call.err = err
		} else {
			call.res, call.err = cmds[i].Int64Slice()
		}
		close(call.ready)
	}
}
