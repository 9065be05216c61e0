package fleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// dial connects to the Redis at addr as one replica, closing it when the
// test ends.
func dial(t testing.TB, opts Options) *Client {
	t.Helper()
	c, err := Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawRedis is a plain client for a test to look into Redis.
func rawRedis(t testing.TB, addr string) *redis.Client {
	t.Helper()
	r := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestDialRejectsBadURLs(t *testing.T) {
	for _, url := range []string{"", "http://127.0.0.1:6379", "127.0.0.1:6379", "redis://user:s3cret@127.0.0.1:6379/notadb"} {
		t.Run(url, func(t *testing.T) {
			_, err := Dial(Options{URL: url})
			if err == nil {
				t.Fatal("Dial accepted it")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestDialRedissUsesTLSWithSystemRoots(t *testing.T) {
	// Nothing listens there: Dial must still return, with Redis down.
	c := dial(t, Options{URL: "rediss://redis.invalid:6380/0", Timeout: 20 * time.Millisecond})
	tc := c.rdb.Options().TLSConfig
	if tc == nil {
		t.Fatal("rediss:// gave no TLS configuration")
	}
	if tc.RootCAs != nil || tc.InsecureSkipVerify || tc.ServerName != "redis.invalid" {
		t.Errorf("TLS config: roots %v, skip verify %v, server name %q; want system roots, verification, redis.invalid", tc.RootCAs, tc.InsecureSkipVerify, tc.ServerName)
	}
	if c.Up() {
		t.Error("Up() is true with nothing listening")
	}
}

func TestDialPassword(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	if err := rawRedis(t, addr).ConfigSet(context.Background(), "requirepass", "pw-1").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url, password string
		up                  bool
	}{
		{"none", "redis://" + addr, "", false},
		{"from the URL", "redis://:pw-1@" + addr, "", true},
		{"from the argument", "redis://" + addr, "pw-1", true},
		{"argument over URL", "redis://:wrong@" + addr, "pw-1", true},
		{"wrong", "redis://" + addr, "wrong", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, Options{URL: tc.url, Password: tc.password})
			if c.Up() != tc.up {
				t.Errorf("Up() = %v, want %v", c.Up(), tc.up)
			}
		})
	}
}

// XDRPROXY_REDIS_PASSWORD_FILE is read at each new connection: a
// password changed in the file is used without a restart.
func TestDialPasswordFileIsReread(t *testing.T) {
	addr, _ := testutil.StartRedis(t)
	if err := rawRedis(t, addr).ConfigSet(context.Background(), "requirepass", "pw-2").Err(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte("pw-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := dial(t, Options{URL: "redis://:from-url@" + addr, PasswordFile: file, RetryInterval: time.Nanosecond})
	if c.Up() {
		t.Fatal("Up() with the file's old password")
	}
	if err := os.WriteFile(file, []byte("pw-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Watch(ctx, time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !c.Up() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polls a state the Watch goroutine sets
	}
	if !c.Up() {
		t.Error("Up() stays false once the file holds the right password")
	}
}

// upTimeout bounds Redis calls in tests where Redis is up and what is
// counted must not depend on this machine's load: a call that took longer
// than DefaultTimeout under -race would fall back and change the counts.
const upTimeout = 5 * time.Second
