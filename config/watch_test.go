package config

import (
	"os"
	"testing"
)

func TestFileWatcher(t *testing.T) {
	path := writeFile(t, t.TempDir(), "f", "one")
	w := NewFileWatcher(path, []byte("one"))
	if _, changed, err := w.Check(); changed || err != nil {
		t.Fatalf("unchanged file: changed=%v err=%v", changed, err)
	}
	// Replace the file the way Kubernetes does: write aside, rename over.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	data, changed, err := w.Check()
	if !changed || err != nil || string(data) != "two" {
		t.Fatalf("after the swap: %q changed=%v err=%v", data, changed, err)
	}
	if _, changed, _ := w.Check(); changed {
		t.Error("the same content reported as changed twice")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, changed, err := w.Check(); changed || err == nil {
		t.Errorf("a missing file: changed=%v err=%v, want an error and no change", changed, err)
	}
}

// TestWatchFromSum: a watcher that kept only the sum of what it saw
// tells the same content from a change.
func TestWatchFromSum(t *testing.T) {
	path := writeFile(t, t.TempDir(), "f", "one\n")
	w := WatchFrom(path, SumOf([]byte("one\n")))
	if _, changed, err := w.Check(); changed || err != nil {
		t.Fatalf("unchanged file: changed=%v err=%v", changed, err)
	}
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, changed, err := w.Check(); !changed || err != nil || string(data) != "one\ntwo\n" {
		t.Fatalf("after a change: %q changed=%v err=%v", data, changed, err)
	}
	if _, changed, _ := WatchFrom(path, FileSum{}).Check(); !changed {
		t.Error("a watcher that saw nothing reports the file unchanged")
	}
}
