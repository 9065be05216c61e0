// Package pagelinks rewrites the OData paging links in a JSON response body
// so that they point back at the proxy.
//
// Microsoft's APIs page with absolute links, @odata.nextLink and
// @odata.deltaLink, that name the upstream. A client that followed such a
// link as it came would leave the proxy and send its own bearer, a client
// key or a placeholder token, straight to Microsoft: a credential leak, and
// a failed request. So every member whose name ends in "@odata.nextLink" or
// "@odata.deltaLink", at any depth, whose value is a string starting with
// the route's upstream (Rule.From) gets that start replaced by the proxy's
// own origin and prefix (Rule.To). The rest of the link keeps its exact
// bytes, escapes included, and nothing else in the body changes: not a byte
// of whitespace, not another string, not a link to any other host.
//
// The rewriter is a small state machine over the byte stream, not a JSON
// decoder: a page may be 100 MB. It makes one pass that skips the inside of
// strings with bytes.IndexByte, allocates nothing per Read, and costs about
// the same whether or not a body holds links. Its memory is bounded
// whatever the body:
//   - a link value longer than 64 KiB (MaxLink, still escaped) is passed
//     through unchanged, as no paging link is that long;
//   - past a nesting depth of 10,000 (MaxDepth) the rest of the body is
//     passed through unchanged, the limit encoding/json also enforces.
//
// Input that is not JSON is passed through on a best-effort basis: the
// rewriter never rejects a body, and when the input is valid JSON so is the
// output.
package pagelinks
