package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"github.com/redis/go-redis/v9/maintnotifications"
	"go.uber.org/zap"

	"github.com/xdrproxy/xdrproxy/config"
)

const (
	// DefaultTimeout bounds every Redis call when Options.Timeout is zero:
	// a Redis on the same network answers in about a millisecond, so 100 ms
	// means it is down or overloaded, and a request then goes on with local
	// state instead of waiting.
	DefaultTimeout = 100 * time.Millisecond
	// DefaultRetryInterval is how long a replica leaves Redis alone after a
	// failed call when Options.RetryInterval is zero, so an outage costs one
	// timeout a second, not one per request.
	DefaultRetryInterval = time.Second
)

// Options configures Dial.
type Options struct {
	// URL is redis://[user:password@]host:port[/db] or rediss://… for TLS,
	// which trusts the system's roots.
	URL string
	// Password, when not empty, takes the place of the URL's password.
	Password string
	// PasswordFile, when not empty, takes the place of both: it is read
	// each time a connection is made, so a changed password is used from
	// the next connection on (XDRPROXY_REDIS_PASSWORD_FILE). While it
	// cannot be read, the last password read from it is used.
	PasswordFile string
	// Prefix starts every key, so several fleets can share one Redis.
	// Empty means no prefix.
	Prefix string
	// Timeout bounds each Redis call, dialling included. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// RetryInterval is how long after a failed call Redis is left alone,
	// all calls going to local state, before one call tries it again.
	// Zero means DefaultRetryInterval.
	RetryInterval time.Duration
	// Logger receives one line when Redis stops answering and one when it
	// answers again. Nil means no logging.
	Logger *zap.Logger
}

// Client is a connection pool to the fleet's Redis that knows whether
// Redis answers. Calls made while it does not fail at once, without
// waiting for a timeout, except one every RetryInterval that tries Redis
// again; sharing resumes by itself when that one succeeds. A Client is
// safe for concurrent use.
type Client struct {
	rdb           *redis.Client
	prefix        string
	timeout       time.Duration
	retryInterval time.Duration
	log           *zap.Logger

	up      atomic.Bool
	nextTry atomic.Int64 // unix nanoseconds before which a down Redis is not tried
	mu      sync.Mutex   // orders the outage log lines
	downErr error        // the error that started the current outage
}

// silenceGoRedis turns off go-redis's own logger, process-wide: it writes
// each failed dial to stderr, while a Client logs an outage once.
var silenceGoRedis sync.Once

// errRedisDown is returned, without a call, while Redis is left alone.
var errRedisDown = errors.New("redis did not answer recently; using local state")

// Dial parses opts.URL and returns a Client. It does not need Redis to
// answer: it tries once, within the timeout, and a Redis that is down is
// logged and tried again later, so Redis never keeps the proxy from
// starting.
func Dial(opts Options) (*Client, error) {
	if !strings.HasPrefix(opts.URL, "redis://") && !strings.HasPrefix(opts.URL, "rediss://") {
		return nil, fmt.Errorf("redis URL must start with redis:// or rediss://")
	}
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		// ParseURL's errors can quote the URL, password included.
		return nil, errors.New("redis URL is not a valid redis:// or rediss:// URL")
	}
	if opts.Password != "" {
		ro.Password = opts.Password
	}
	if opts.PasswordFile != "" {
		ro.CredentialsProvider = passwordFromFile(ro.Username, ro.Password, opts.PasswordFile)
	}
	c := &Client{prefix: opts.Prefix, timeout: opts.Timeout, retryInterval: opts.RetryInterval, log: opts.Logger}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.retryInterval <= 0 {
		c.retryInterval = DefaultRetryInterval
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, ro.PoolTimeout = c.timeout, c.timeout, c.timeout, c.timeout
	ro.ContextTimeoutEnabled = true
	ro.DialerRetries = 1
	ro.MaxRetries = -1        // one attempt: the caller falls back instead
	ro.DisableIdentity = true // no CLIENT SETINFO round trip per connection
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	silenceGoRedis.Do(func() { redis.SetLogger(&logging.VoidLogger{}) })
	c.rdb = redis.NewClient(ro)
	c.up.Store(true)
	ctx, cancel := c.context()
	defer cancel()
	c.observe(c.rdb.Ping(ctx).Err())
	return c, nil
}

// passwordFromFile returns a go-redis credentials provider that reads
// the password from path at each new connection, as start-up checked it
// (config.ReadRedisPassword), keeping the last one read (first: fallback)
// while the file cannot be read or is not a password.
func passwordFromFile(user, fallback, path string) func() (string, string) {
	var mu sync.Mutex
	last := fallback
	return func() (string, string) {
		mu.Lock()
		defer mu.Unlock()
		if pw, err := config.ReadRedisPassword(path); err == nil {
			last = pw
		}
		return user, last
	}
}

// Watch asks Redis every interval whether it answers, until ctx is done,
// so that Up (and the metric made of it) tells the truth while no
// request calls Redis, and sharing resumes soon after an outage.
func (c *Client) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = c.do(func(ctx context.Context, rdb *redis.Client) error { return rdb.Ping(ctx).Err() })
		}
	}
}

// Close closes the connections.
func (c *Client) Close() error { return c.rdb.Close() }

// Up reports whether Redis answered the last call made to it.
func (c *Client) Up() bool { return c.up.Load() }

// Prefix returns the prefix of every key.
func (c *Client) Prefix() string { return c.prefix }

// context returns the context one call runs under.
func (c *Client) context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// do runs one call against Redis under the timeout, or fails at once
// with errRedisDown while Redis is left alone after a failure.
func (c *Client) do(call func(ctx context.Context, rdb *redis.Client) error) error {
	if !c.up.Load() {
		next := c.nextTry.Load()
		if time.Now().UnixNano() < next || !c.nextTry.CompareAndSwap(next, time.Now().Add(c.retryInterval).UnixNano()) {
			return errRedisDown // another caller is trying Redis, or it is not yet time
		}
	}
	return c.doAnyway(call)
}

// doAnyway runs one call against Redis under the timeout even while Redis
// is left alone: for releasing a lock, which the fleet would otherwise
// wait on for a whole lease after one slow call.
func (c *Client) doAnyway(call func(ctx context.Context, rdb *redis.Client) error) error {
	ctx, cancel := c.context()
	defer cancel()
	err := call(ctx, c.rdb)
	c.observe(err)
	return err
}

// observe records whether a call reached Redis and logs each change. A
// missing key is an answer; any other error, an error reply included
// (a wrong password, a script that fails), means state is not shared.
func (c *Client) observe(err error) {
	ok := err == nil || errors.Is(err, redis.Nil)
	if ok == c.up.Load() {
		if !ok {
			c.nextTry.Store(time.Now().Add(c.retryInterval).UnixNano())
		}
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok == c.up.Load() {
		return
	}
	if ok {
		c.up.Store(true)
		c.log.Info("redis answers again; sharing limits, holds and tokens with the fleet", zap.NamedError("outage", c.downErr))
		c.downErr = nil
		return
	}
	c.nextTry.Store(time.Now().Add(c.retryInterval).UnixNano())
	c.up.Store(false)
	c.downErr = err
	c.log.Warn("redis does not answer; each replica keeps its own limits and tokens until it does", zap.Error(err))
}
