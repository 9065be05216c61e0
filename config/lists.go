package config

import (
	"iter"
	"strings"
)

// commaList returns the entries of a comma list such as XDRPROXY_TENANTS,
// trimmed; blank entries are skipped, so a trailing comma is harmless.
func commaList(s string) []string {
	var entries []string
	for _, entry := range strings.Split(s, ",") {
		if entry = strings.TrimSpace(entry); entry != "" {
			entries = append(entries, entry)
		}
	}
	return entries
}

// entryLines yields the entries of a file that holds one a line, such as
// the tenants and client keys files, with their line numbers (from 1):
// `#` starts a comment, and lines left blank are skipped. Each entry is
// trimmed.
func entryLines(data []byte) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		for i, line := range strings.Split(string(data), "\n") {
			line, _, _ = strings.Cut(line, "#")
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			if !yield(i+1, line) {
				return
			}
		}
	}
}
