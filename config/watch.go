package config

import (
	"bytes"
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
	sum  [sha256.Size]byte
}

// NewFileWatcher returns a watcher for path that has already seen
// content (what was read at start-up).
func NewFileWatcher(path string, content []byte) *FileWatcher {
	return &FileWatcher{Path: path, sum: sha256.Sum256(content)}
}

// Check reads the file and returns its content and whether it differs
// from what was last seen. A read error reports no change, and the
// content seen stays the same.
func (w *FileWatcher) Check() ([]byte, bool, error) {
	data, err := os.ReadFile(w.Path)
	if err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256(data)
	if bytes.Equal(sum[:], w.sum[:]) {
		return data, false, nil
	}
	w.sum = sum
	return data, true, nil
}
