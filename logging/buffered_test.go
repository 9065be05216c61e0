package logging

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrproxy/xdrproxy/internal/testutil"
)

// gateWriter records what is written to it; each Write first says it
// started on entered, then waits until open is closed.
type gateWriter struct {
	entered chan struct{}
	open    chan struct{}
	mu      sync.Mutex
	got     bytes.Buffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got.Write(p)
}

func (g *gateWriter) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got.String()
}

// line is the i-th test line, 16 bytes.
func line(i int) string { return fmt.Sprintf("line %010d\n", i) }

func TestBufferedWriterWritesWithinTheDelay(t *testing.T) {
	got := make(chan string, 16)
	w := newBufferedWriter(writerFunc(func(p []byte) { got <- string(p) }), 1<<10, time.Millisecond)
	defer w.Close()
	w.Write([]byte(line(1)))
	w.Write([]byte(line(2)))
	var all string
	for all != line(1)+line(2) {
		select {
		case s := <-got:
			all += s
		case <-time.After(10 * time.Second):
			t.Fatalf("after 10s the destination has %q, want two lines written within the delay", all)
		}
	}
}

func TestBufferedWriterWaitsWhenFullAndLosesNothing(t *testing.T) {
	dest := &gateWriter{entered: make(chan struct{}, 1), open: make(chan struct{})}
	// A quarter of 64 bytes is one line: the first line is handed to the
	// destination at once, where it stays until the gate opens.
	w := newBufferedWriter(dest, 64, time.Hour)
	w.Write([]byte(line(0)))
	<-dest.entered
	for i := 1; i <= 4; i++ { // 64 bytes: the buffer is full
		w.Write([]byte(line(i)))
	}
	returned := make(chan struct{})
	go func() {
		w.Write([]byte(line(5)))
		close(returned)
	}()
	for waiting := 0; waiting == 0; runtime.Gosched() {
		w.mu.Lock()
		waiting = w.waiting
		w.mu.Unlock()
	}
	select {
	case <-returned:
		t.Fatal("a line was accepted into a full buffer")
	default:
	}
	close(dest.open)
	<-returned
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := 0; i <= 5; i++ {
		want.WriteString(line(i))
	}
	if dest.String() != want.String() {
		t.Errorf("destination got %q, want every line in order: %q", dest.String(), want.String())
	}
}

func TestBufferedWriterCloseWritesEverything(t *testing.T) {
	var dest testutil.SyncBuffer
	w := newBufferedWriter(&dest, 1<<20, time.Hour)
	var want strings.Builder
	for i := 0; i < 1000; i++ {
		w.Write([]byte(line(i)))
		want.WriteString(line(i))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if dest.String() != want.String() {
		t.Fatalf("after Close the destination has %d bytes, want %d", len(dest.String()), want.Len())
	}
	// After Close, a line goes straight through.
	w.Write([]byte("late\n"))
	if !strings.HasSuffix(dest.String(), "late\n") {
		t.Error("a line written after Close was not written at once")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestBufferedWriterSyncAndLogger(t *testing.T) {
	var dest testutil.SyncBuffer
	w := newBufferedWriter(&dest, 1<<20, time.Hour)
	defer w.Close()
	log := New(w, zapcore.InfoLevel, "json")
	log.Info("request", zapcore.Field{Key: "status", Type: zapcore.Int64Type, Integer: 200})
	if dest.String() != "" {
		t.Fatalf("written before the delay or a Sync: %q", dest.String())
	}
	if err := log.Sync(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dest.String(), `"msg":"request","status":200`) {
		t.Errorf("after Sync the destination has %q", dest.String())
	}
}

func TestBufferedWriterReportsTheDestinationsError(t *testing.T) {
	broken := errors.New("disk full")
	w := newBufferedWriter(errWriter{broken}, 1<<10, time.Hour)
	if _, err := w.Write([]byte(line(1))); err != nil {
		t.Fatalf("Write: %v, want the line accepted", err)
	}
	if err := w.Close(); !errors.Is(err, broken) {
		t.Errorf("Close: %v, want %v", err, broken)
	}
}

// writerFunc calls f with a copy of every write.
type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) {
	f(bytes.Clone(p))
	return len(p), nil
}

type errWriter struct{ err error }

func (e errWriter) Write([]byte) (int, error) { return 0, e.err }

// BenchmarkAccessLine is one access-log line written to a file, as the
// process writes to stderr: straight, one write per line, or through a
// BufferedWriter.
func BenchmarkAccessLine(b *testing.B) {
	for _, buffered := range []bool{false, true} {
		b.Run(fmt.Sprintf("buffered=%v", buffered), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var out io.Writer = f
			if buffered {
				bw := NewBufferedWriter(f)
				defer bw.Close()
				out = bw
			}
			log := New(out, zapcore.InfoLevel, "json").Named("access")
			b.ReportAllocs()
			for b.Loop() {
				log.Info("request",
					zap.String("tenant", "contoso"), zap.String("route", "default"), zap.String("method", "GET"),
					zap.String("path", "/api/incidents"), zap.Int("status", 200), zap.Int64("bytes_in", 0),
					zap.Int64("bytes_out", 1234), zap.Duration("duration", 812*time.Microsecond),
					zap.Duration("token_wait", 3*time.Microsecond), zap.Bool("token_cached", true))
			}
		})
	}
}
