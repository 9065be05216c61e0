// Package testutil holds the helpers that tests of several packages share:
// a buffer for concurrent log writes, a started simulator and the
// environment that points the configuration at it, a certificate
// authority for TLS tests, a plain GET, and golden-file comparison with
// the one -update flag. Only tests import it.
package testutil
