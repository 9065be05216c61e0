// Package testutil holds the helpers that tests of several packages share:
// a fake clock, a buffer for concurrent log writes, a started simulator,
// a transport that trusts it and the environment that points the
// configuration at it, a certificate authority for TLS tests, JWT
// decoding, a plain GET, URL parsing, golden-file comparison with the one
// -update flag, and a real redis-server. Only tests import it.
package testutil
