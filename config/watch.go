package config

import (
	"crypto/sha256"
	"os"
)

// FileWatcher tells when a file's content has changed since it was last
// seen. It compares content, not modification times: Kubernetes updates
// mounted ConfigMaps and Secrets by swapping a symlink, which keeps the
// old file's times. Polling suits files of a few kilobytes.
type FileWatcher struct {
	// Path is the file watched.
	Path string
	sum  FileSum
}

// FileSum is the SHA-256 of a file's content: what a FileWatcher keeps
// of the content it has seen, so that a large file read at start-up need
// not stay in memory to detect its next change.
type FileSum [sha256.Size]byte

// SumOf returns the FileSum of content.
func SumOf(content []byte) FileSum { return sha256.Sum256(content) }

// NewFileWatcher returns a watcher for path that has already seen
// content (what was read at start-up).
func NewFileWatcher(path string, content []byte) *FileWatcher {
	return WatchFrom(path, SumOf(content))
}

// WatchFrom returns a watcher for path that has already seen the content
// whose sum is seen.
func WatchFrom(path string, seen FileSum) *FileWatcher {
	return &FileWatcher{Path: path, sum: seen}
}

// Check reads the file and returns its content and whether it differs
// from what was last seen. A read error reports no change, and the
// content seen stays the same.
func (w *FileWatcher) Check() ([]byte, bool, error) {
	data, err := os.ReadFile(w.Path)
	if err != nil {
		return nil, false, err
	}
	sum := SumOf(data)
	if sum == w.sum {
		return data, false, nil
	}
	w.sum = sum
	return data, true, nil
}
