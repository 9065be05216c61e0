// Package seal seals values with AES-256-GCM under a key file's keys and
// opens them again: the first key seals, any key opens, so keys rotate
// by prepending a new one. It is how tokens are put in a shared Redis
// without being usable credentials there.
package seal
